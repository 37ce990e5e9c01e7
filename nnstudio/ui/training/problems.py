"""Training problems in the Problems dock: invalid settings, a graph that does not fit the data, failed runs.

`training_diagnostics` is the check itself (the engine's `training_problems`, with the loaded data when the
preview has it, so shape mismatches show before Train is pressed). `ProblemsBridge` puts those
diagnostics into the window's one ProblemList (nnstudio.ui.problem_list), which the Problems dock and
the status bar both read.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject

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


class ProblemsBridge(QObject):
    """Connects the Training tools to the window's ProblemList (the Problems dock's model).

    It installs the training check on the list, which then checks every project as it is loaded and after
    each edit, from the project itself (with the preview's data when it belongs to that project). The
    workbench's own checks and run failures go to the list as well, tagged with the workbench's document,
    so a check of a project that is no longer open cannot show.
    """

    def __init__(self, panel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.panel = panel
        self.model = getattr(panel, "model", None)
        self.document = None
        self.training: list[Diagnostic] = []
        self.run: list[Diagnostic] = []  # from the last run (e.g. divergence); cleared by the next Train
        self._data_for = getattr(parent, "preview_data", None)  # the workbench's preview of its document
        if self.model is not None:
            self.model.set_checker(self.diagnose)

    def diagnose(self, document) -> list[Diagnostic]:
        """The training problems of `document`, comparing with the preview's data only if it is that project's."""
        workbench = self.parent()
        data = None
        if self._data_for is not None and getattr(workbench, "document", None) is document:
            data = self._data_for()
        base_dir = document.path.parent if document.path is not None else None
        return training_diagnostics(document.project, base_dir, data)

    def set_document(self, document) -> None:
        if document is not self.document:
            self.training, self.run = [], []  # the old project's; the workbench checks the new one next
        self.document = document

    def set_training(self, diagnostics: list[Diagnostic]) -> None:
        self.training = list(diagnostics)
        self.publish()

    def set_run(self, diagnostics: list[Diagnostic]) -> None:
        self.run = list(diagnostics)
        self.publish()

    def publish(self) -> None:
        """Hand the latest check and run problems of the workbench's document to the list."""
        if self.model is None or self.document is None:
            return
        self.model.set_training(self.document, self.training)
        self.model.set_run(self.document, self.run)
