"""Fixtures for the shell's GUI tests: real windows, offscreen, with settings and recovery files in
tmp_path, and every dialog replaced by a recorder so that no test can block on a modal box.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from nnstudio.examples import DEFAULT_EXAMPLE, EXAMPLES
from nnstudio.io import load
from nnstudio.layers.registry import Registry, default_registry
from nnstudio.model import Project
from nnstudio.ui.background import GuiThreadCollector
from nnstudio.ui.document import Document
from nnstudio.ui.main_window import MainWindow


class Dialogs:
    """Canned answers for a window's questions, and a record of the errors it showed."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []
        self.unsaved_answer = "discard"
        self.unsaved_asked: list[str] = []
        self.unsaved_runs: list[int] = []  # the runs of unsaved work each close prompt counted
        self.save_path: Path | None = None
        self.recover_answer = True

    def install(self, window: MainWindow) -> None:
        files = window.files
        files.show_error = lambda title, message: self.errors.append((title, message))
        files.ask_unsaved_changes = self._unsaved
        files.ask_save_path = lambda suggested: self.save_path
        files.ask_recover = lambda entry: self.recover_answer

    def _unsaved(self, name: str, runs: int = 0) -> str:
        self.unsaved_asked.append(name)
        self.unsaved_runs.append(runs)
        return self.unsaved_answer


@pytest.fixture(scope="session", autouse=True)
def gui_thread_collection(qapp):
    """As in the app: garbage is collected on the GUI thread only (see nnstudio.ui.background)."""
    GuiThreadCollector.install(qapp)
    yield
    GuiThreadCollector.uninstall()


COLLECT = gc.collect


@pytest.fixture(autouse=True)
def widgets_die_as_in_the_app(qtbot, qapp, monkeypatch):
    """Test widgets are closed, then freed by Python's collector, as the app frees a closed window.

    pytest-qt's own clean-up calls deleteLater(): Qt deletes the C++ objects first and the Python wrappers of
    pyqtgraph's items, held in reference cycles, are collected later. That order is pyqtgraph's known
    segfault (pyqtgraph#1628), and it crashed a test worker inside gc.collect. Set up before a test's other
    fixtures, this one is torn down after them, once nothing else holds the widgets.
    """
    widgets: list = []
    monkeypatch.setattr(type(qtbot), "addWidget", lambda self, widget, **_: widgets.append(widget))
    yield
    for widget in widgets:
        widget.close()
    widgets.clear()
    COLLECT()  # the real one, even where a test patched gc.collect
    qapp.processEvents()


@pytest.fixture
def registry() -> Registry:
    return default_registry()


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def recovery_folder(tmp_path: Path) -> Path:
    return tmp_path / "recovery"


@pytest.fixture
def dialogs() -> Dialogs:
    return Dialogs()


@pytest.fixture
def make_window(qtbot, registry, settings, recovery_folder, dialogs) -> Callable[..., MainWindow]:
    """make_window(project=None, path=None): a shown window; the default example when no project."""

    def make(project: Project | None = None, path: Path | None = None) -> MainWindow:
        if project is None:
            project = load(EXAMPLES[DEFAULT_EXAMPLE].path, registry)
        window = MainWindow(Document(project, registry, path), settings=settings, recovery_folder=recovery_folder)
        dialogs.install(window)
        qtbot.addWidget(window)
        window.resize(1200, 800)
        window.show()
        qtbot.waitExposed(window)
        return window

    return make


@pytest.fixture
def window(make_window) -> MainWindow:
    return make_window()
