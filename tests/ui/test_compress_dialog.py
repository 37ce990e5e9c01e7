"""Runs ▸ Compress…: the button on a finished run opens the dialog, which compresses on a worker thread and
shows the report's table; bad input is one line in the dialog."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from nnstudio.cli import main
from nnstudio.io import dumps, save
from nnstudio.layers.registry import default_registry
from nnstudio.model.builder import GraphBuilder
from nnstudio.training.compress import METHODS
from nnstudio.ui.compress_dialog import CompressDialog

TIMEOUT_MS = 60_000


def project():
    b = GraphBuilder(name="dlg")
    b.sequential(
        ("Input", {"shape": [2]}), ("Linear", {"out_features": 16}), "ReLU", ("Linear", {"out_features": 2}), "Output"
    )
    b.project.dataset = {"name": "moons", "params": {"samples": 120}, "val_fraction": 0.25}
    b.project.training = {"epochs": 2, "batch_size": 32, "device": "cpu", "instrumentation": {"enabled": False}}
    return b.project


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("compress_dialog")
    save(project(), folder / "p.nnstudio")
    assert main(["train", str(folder / "p.nnstudio"), "--out", str(folder / "run")]) == 0
    return folder / "run" / "checkpoints" / "last"


def make_dialog(qtbot, checkpoint: Path, out: Path) -> CompressDialog:
    dialog = CompressDialog(dumps(project()), default_registry(), None, checkpoint, "Run 1", out)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def press(qtbot, dialog: CompressDialog) -> None:
    qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    assert not dialog.run_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=TIMEOUT_MS)
    assert dialog.run_button.isEnabled()


def test_the_methods_offered_are_the_cores_table(qtbot, checkpoint, tmp_path):
    dialog = make_dialog(qtbot, checkpoint, tmp_path)
    assert [dialog.method.itemData(i) for i in range(dialog.method.count())] == list(METHODS)
    dialog.method.setCurrentIndex(list(METHODS).index("dynamic"))
    assert not dialog.amount.isEnabled() and not dialog.finetune.isEnabled() and not dialog.sweep.isEnabled()


def test_pruning_shows_the_report_table(qtbot, checkpoint, tmp_path):
    dialog = make_dialog(qtbot, checkpoint, tmp_path / "out")
    dialog.amount.setValue(0.25)
    press(qtbot, dialog)
    assert dialog.report is not None, dialog.status.text()
    assert dialog.table.rowCount() == 2
    headings = [dialog.table.horizontalHeaderItem(c).text() for c in range(dialog.table.columnCount())]
    assert headings[:2] == ["model", "accuracy"] and "non-zero" in headings
    assert dialog.table.item(1, 0).text() == "pruned 25%"
    assert (tmp_path / "out" / "model.safetensors").is_file() and "Wrote" in dialog.notes.text()


def test_a_missing_checkpoint_is_one_line_in_the_dialog(qtbot, tmp_path):
    dialog = make_dialog(qtbot, tmp_path / "gone", tmp_path / "out")
    press(qtbot, dialog)
    assert dialog.report is None
    assert dialog.status.text() == f"Cannot compress: {tmp_path / 'gone'}: no such checkpoint"
    assert not (tmp_path / "out" / "report.json").exists()


def test_the_runs_tab_offers_compress_for_a_run_with_a_checkpoint(qtbot, checkpoint):
    from nnstudio.ui.runs import RunRecord
    from nnstudio.ui.training.runs_panel import RunsPanel

    panel = RunsPanel()
    qtbot.addWidget(panel)
    with_weights = RunRecord(1, checkpoint.parent.parent, status="finished")
    without = RunRecord(2, checkpoint.parent.parent / "nothing", status="failed")
    panel.show_runs([with_weights, without], None, "")
    panel.select([2])
    assert not panel.buttons["compress"].isEnabled()
    panel.select([1])
    assert panel.buttons["compress"].isEnabled() and panel.buttons["compress"].text() == "Compress…"
    with qtbot.waitSignal(panel.compress_requested) as signal:
        qtbot.mouseClick(panel.buttons["compress"], Qt.MouseButton.LeftButton)
    assert signal.args == [with_weights]


def test_compress_on_a_finished_run_opens_the_dialog_on_its_weights(qtbot, tmp_path):
    from tests.ui.training.app_helpers import TrainingApp, make_project

    quick = {"epochs": 1, "batch_size": 64, "device": "cpu", "optimizer": {"name": "adam", "lr": 0.01}}
    app = TrainingApp(
        qtbot, tmp_path, make_project(dataset={"name": "spirals", "params": {"samples": 100}}, training=quick)
    )
    try:
        assert app.controller.train()
        assert app.wait_finished().status == "finished"
        runs = app.bench.runs
        app.bench.tabs.setCurrentWidget(runs)
        runs.select([1])
        qtbot.mouseClick(runs.buttons["compress"], Qt.MouseButton.LeftButton)
        dialog = app.bench.actions.compress_dialog
        assert dialog is not None and dialog.isVisible() and dialog.windowTitle() == "Compress Run 1"
        checkpoint = dialog._inputs[3]
        assert checkpoint.name in ("best", "last") and checkpoint.parent.parent == runs.selected()[0].path
        assert dialog.out.text() == str(runs.selected()[0].path / "compressed")
        dialog.close()
    finally:
        app.close()
