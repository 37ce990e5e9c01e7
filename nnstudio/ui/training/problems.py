"""Training problems in the Problems dock: invalid settings, a graph that does not fit the data, failed runs.

`training_diagnostics` is the check itself (the engine's `training_problems`, with the loaded data when the
preview has it, so shape mismatches show before Train is pressed). `ProblemsBridge` merges those
diagnostics with the graph's own analysis in the shell's Problems dock, using only its public
`show_analysis`, and re-publishes after every analysis so the two lists never hide each other.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QTimer

from nnstudio.analysis.diagnostics import Diagnostic, error
from nnstudio.model.project import Project
from nnstudio.training.data import DatasetError, DataSplits

SUGGESTIONS = ("lower the learning rate (e.g. by 10×)", "turn on gradient clipping (Regularisation and clipping)",
               "add normalisation (BatchNorm or LayerNorm) after the marked layer",
               "check the inputs and targets for huge or missing values")


def training_diagnostics(project: Project, base_dir: Path | None = None,
                         data: DataSplits | None = None) -> list[Diagnostic]:
    """Every problem that would stop training, each naming its setting or node. Never raises."""
    from nnstudio.training.problems import resolve_task, training_problems
    from nnstudio.training.settings import parse_settings

    try:
        if data is not None:
            settings, found = parse_settings(project.training)
            if found:
                data = None  # settings problems are reported without the data comparison
            else:
                task = resolve_task(settings, project.dataset, data)
                if task is not None and task != data.task:
                    try:
                        data = data.with_task(task)
                    except DatasetError as exc:
                        return [error("training-setting", f"training.task: {str(exc).removeprefix('task: ')}",
                                      param="training.task")]
        return training_problems(project, data=data, base_dir=base_dir)
    except Exception as exc:  # the checker must never take the editor down
        return [error("training-check", f"the training settings could not be checked ({type(exc).__name__}: "
                      f"{exc})")]


def divergence_diagnostic(message: str, node_id: str | None) -> Diagnostic:
    return error("training-diverged", f"training stopped: {message}. Ideas: {'; '.join(SUGGESTIONS)}.",
                 node_id=node_id)


@dataclass
class MergedAnalysis:
    """What ProblemsPanel.show_analysis reads: a list of diagnostics."""

    diagnostics: list[Diagnostic] = field(default_factory=list)


class ProblemsBridge(QObject):
    """Keeps the Problems dock showing graph diagnostics plus the training ones."""

    def __init__(self, panel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.panel = panel
        self.document = None
        self.training: list[Diagnostic] = []
        self.run: list[Diagnostic] = []  # from the last run (e.g. divergence); cleared by the next Train
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.publish)

    def set_document(self, document) -> None:
        if self.document is not None:
            with contextlib.suppress(RuntimeError, TypeError):
                self.document.analysis_changed.disconnect(self._schedule)
        self.document = document
        document.analysis_changed.connect(self._schedule)

    def _schedule(self, *_args) -> None:
        self._timer.start()  # after the window's own slot has shown the plain analysis

    def set_training(self, diagnostics: list[Diagnostic]) -> None:
        self.training = list(diagnostics)
        self._schedule()

    def set_run(self, diagnostics: list[Diagnostic]) -> None:
        self.run = list(diagnostics)
        self._schedule()

    def publish(self) -> None:
        if self.panel is None or self.document is None:
            return
        graph = list(self.document.analysis.diagnostics)
        graph_broken = any(d.is_error for d in graph)  # then "the graph has N errors" would only repeat them
        extra = [d for d in self.training + self.run if not (graph_broken and d.code == "training-graph")]
        self.panel.show_analysis(MergedAnalysis(graph + extra))
