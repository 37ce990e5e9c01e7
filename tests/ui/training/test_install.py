"""Installing the training tools: cheap to import, built after the first paint, one entry point."""

from __future__ import annotations

import subprocess
import sys

from PySide6.QtCore import QSettings

from nnstudio.layers.registry import default_registry
from nnstudio.ui.document import Document
from tests.ui.training.app_helpers import make_project


def test_importing_the_package_loads_neither_torch_nor_pyqtgraph():
    code = ("import sys, nnstudio.ui.training; "
            "print(sorted(m for m in ('torch', 'pyqtgraph') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_panels_are_built_after_the_first_paint(qtbot, tmp_path):
    from nnstudio.ui.main_window import MainWindow
    from nnstudio.ui.training import TrainingController

    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(Document(make_project(), default_registry()), settings=settings,
                        recovery_folder=tmp_path / "recovery")
    qtbot.addWidget(window)
    controller = window.training
    controller.runs_root = tmp_path / "runs"
    assert controller.bench is None
    assert controller.training_dock.widget().text().startswith("Loading")
    window.show()
    qtbot.waitUntil(lambda: controller.bench is not None, timeout=60_000)
    assert controller.training_dock.widget() is controller.bench.dock_body
    assert [a.shortcut().toString() for a in controller.actions.values()] == ["F5", "F6", "F8", "Shift+F5", "F7"]
    assert len(window.findChildren(TrainingController)) == 1, "the main window installs exactly one"
    controller.bench.shutdown()
