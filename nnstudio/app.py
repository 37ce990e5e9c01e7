"""Composition root of the desktop app: QApplication, registry, first document, main window.

The window must appear fast, so nothing on the way to the first paint imports torch: the core's
model, layers, analysis and io do not need it, and the Summary/Code docks compile on a worker
thread that first imports torch only after the window is on screen.

`NNSTUDIO_EXIT_AFTER_FIRST_PAINT=1` makes the app print one line, `NNSTUDIO_FIRST_PAINT {json}`,
when the window first paints, then quit: benchmarks/bench_startup.py times start-up with it.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings, QTimer
from PySide6.QtWidgets import QApplication

from nnstudio import __version__
from nnstudio.examples import DEFAULT_EXAMPLE, EXAMPLES
from nnstudio.io import ProjectFileError, load
from nnstudio.layers.registry import Registry, default_registry
from nnstudio.model import Project
from nnstudio.ui.background import GuiThreadCollector
from nnstudio.ui.document import Document
from nnstudio.ui.main_window import MainWindow

# None of the imports above loads torch; this must run before anything does.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

APP_NAME = "nnstudio"
EXIT_AFTER_FIRST_PAINT = "NNSTUDIO_EXIT_AFTER_FIRST_PAINT"


def run_app(argv: Sequence[str]) -> int:
    """`nnstudio` opens the default example; `nnstudio FILE` opens FILE."""
    app = create_application(list(argv))
    benchmarking = os.environ.get(EXIT_AFTER_FIRST_PAINT) == "1"
    window, error = open_window(app.arguments()[1:], isolated=benchmarking)
    if benchmarking:
        probe = FirstPaintProbe(app)
        window.installEventFilter(probe)
    window.show()
    if not benchmarking:
        QTimer.singleShot(0, lambda: after_first_show(window, error))
    elif error:
        print(error, file=sys.stderr)
    return app.exec()


def create_application(argv: list[str]) -> QApplication:
    """The QApplication, named so that QSettings and the app-data folder are nnstudio's."""
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else APP_NAME, *argv])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationVersion(__version__)
    GuiThreadCollector.install(app)  # worker threads must never run Qt destructors
    return app


def initial_project(args: list[str], registry: Registry) -> tuple[Project, Path | None, str | None]:
    """The project to open, its path, and an error message when FILE could not be opened."""
    error = None
    if args:
        path = Path(args[0])
        try:
            return load(path, registry), path.resolve(), None
        except ProjectFileError as exc:
            error = f"{exc}\n\nThe default example is open instead."
    try:
        return load(EXAMPLES[DEFAULT_EXAMPLE].path, registry), None, error
    except ProjectFileError as exc:  # a broken installation: still open, with an empty project
        return Project(), None, f"{error or ''}\n\nThe default example could not be opened either: {exc}".strip()


def open_window(args: list[str], isolated: bool = False) -> tuple[MainWindow, str | None]:
    """Build the first window. `isolated` keeps settings and recovery files out of the user's folders."""
    registry = default_registry()
    project, path, error = initial_project(args, registry)
    settings = None
    recovery = None
    if isolated:
        scratch = Path(tempfile.mkdtemp(prefix="nnstudio-bench-"))
        settings = QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat)
        recovery = scratch / "recovery"
    window = MainWindow(Document(project, registry, path), settings=settings, recovery_folder=recovery)
    if registry.plugin_errors:
        window.statusBar().showMessage("Some layer plugins failed to load: " + "; ".join(registry.plugin_errors))
    return window, error


def after_first_show(window: MainWindow, error: str | None) -> None:
    """Once the window is up: report a bad FILE, offer crash recovery, then warm torch up."""
    if error:
        window.files.show_error("Could not open the project", error)
    window.files.offer_recovery()
    window.preview.warm_up()


class FirstPaintProbe(QObject):
    """Prints the time to the window's first paint, then quits (for the start-up benchmark)."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.app = app
        self.done = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and not self.done:
            self.done = True
            QTimer.singleShot(0, self._report)  # after this paint has finished
        return False

    def _report(self) -> None:
        figures = {"process_age_s": process_age(), "wall_time": time.time(),
                   "torch_loaded": "torch" in sys.modules}
        print(f"NNSTUDIO_FIRST_PAINT {json.dumps(figures)}", flush=True)
        self.app.quit()


def process_age() -> float | None:
    """Seconds since this process started (Linux: from /proc, 10 ms resolution), else None."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        return round(time.clock_gettime(time.CLOCK_BOOTTIME) - started, 3)
    except (OSError, ValueError, IndexError, AttributeError):
        return None
