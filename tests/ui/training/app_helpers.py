"""Helpers for the training GUI tests: a small, fast project and a window with the training tools."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from nnstudio.examples import EXAMPLES
from nnstudio.io import load
from nnstudio.layers.registry import default_registry
from nnstudio.ui.document import Document

FAST_TRAINING = {"epochs": 6, "batch_size": 32, "optimizer": {"name": "adam", "lr": 0.01}}
SMALL_SPIRALS = {"name": "spirals", "params": {"samples": 400}}


def make_project(example: str = "spirals", dataset: dict | None = None, training: dict | None = None):
    project = load(EXAMPLES[example].path, default_registry())
    project.dataset = dict(dataset if dataset is not None else SMALL_SPIRALS)
    project.training = dict(training if training is not None else FAST_TRAINING)
    return project


def attach_training(window, runs_root: Path):
    """The window's own training controller (the main window installs one), built now, with runs in runs_root."""
    from nnstudio.ui.training import install_training

    controller = getattr(window, "training", None) or install_training(window)
    controller.runs_root = runs_root
    controller.build()
    return controller


class TrainingApp:
    """The window, its training controller and the workbench, plus helpers to drive a run."""

    def __init__(self, qtbot, tmp_path: Path, project) -> None:
        from nnstudio.ui.main_window import MainWindow

        self.qtbot = qtbot
        registry = default_registry()
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        self.window = MainWindow(Document(project, registry), settings=settings,
                                 recovery_folder=tmp_path / "recovery")
        self.window.files.ask_unsaved_changes = lambda name, runs=0: "discard"  # no modal box at teardown
        qtbot.addWidget(self.window)
        self.controller = attach_training(self.window, tmp_path / "runs")
        self.controller.ask_before_close = False
        self.bench = self.controller.bench
        self.bench.actions.confirm = lambda title, text: True
        self.window.show()
        qtbot.waitExposed(self.window)
        self.controller.training_dock.raise_()
        self.outcomes = []
        self.bench.run_finished.connect(self.outcomes.append)

    @property
    def document(self):
        return self.window.document

    def wait_finished(self, count: int = 1, timeout: int = 120_000):
        self.qtbot.waitUntil(lambda: len(self.outcomes) >= count, timeout=timeout)
        self.qtbot.waitUntil(lambda: self.bench.session is None, timeout=timeout)  # the thread has ended
        return self.outcomes[count - 1]

    def close(self) -> None:
        self.bench.shutdown()
