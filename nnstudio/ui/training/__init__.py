"""Live training in the desktop app: settings, a worker thread per run, live plots, evaluation and run history.

The main window calls `install_training(window)` once. Importing this package is cheap (no torch, no
pyqtgraph): the panels are built after the window's first paint, once torch has been imported off the
GUI thread.
"""

from __future__ import annotations

from pathlib import Path

from nnstudio.ui.training.controller import TrainingController


def install_training(window, runs_root: Path | None = None, build_now: bool = False) -> TrainingController:
    """Add the Training docks and menu to `window` (which has .document, .view, .problems, .docks).

    `runs_root` puts every run in one folder (tests); by default runs live beside the project file.
    `build_now` builds the panels at once instead of after the first paint.
    """
    controller = TrainingController(window, runs_root)
    if build_now:
        controller.build()
    return controller


__all__ = ["TrainingController", "install_training"]
