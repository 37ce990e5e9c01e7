"""What the screenshot scripts in tools/ share: an event pump, a wait with a timeout, and the real main window on
a project, with its settings and autosaves in a temporary folder (run them under xvfb-run)."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QSettings


def pump(app, seconds: float) -> None:
    end = time.time() + seconds
    while time.time() < end:
        app.processEvents()
        time.sleep(0.01)


def wait_for(app, condition, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        pump(app, 0.2)


def main_window(app, project, registry, tmp: Path, size: tuple[int, int], path: Path | None = None):
    """The window on `project`, shown at `size` with fresh settings, never asking about unsaved changes."""
    from nnstudio.ui.document import Document
    from nnstudio.ui.main_window import MainWindow

    settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(Document(project, registry, path), settings=settings, recovery_folder=tmp / "recovery")
    window.files.ask_unsaved_changes = lambda *a: "discard"
    window.show()
    window.setGeometry(0, 0, *size)
    pump(app, 1.0)
    return window
