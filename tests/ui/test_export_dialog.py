"""File ▸ Export Model…: the real dialog in a real window, offscreen, exporting a tiny spirals run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from nnstudio.io.export.formats import FORMATS
from nnstudio.ui.export.sources import default_output, retarget
from tests.ui.training.app_helpers import TrainingApp, make_project

QUICK = {"epochs": 2, "batch_size": 64, "optimizer": {"name": "adam", "lr": 0.01}}
LONG = {"epochs": 10_000, "batch_size": 64, "optimizer": {"name": "adam", "lr": 0.01}}
TINY_SPIRALS = {"name": "spirals", "params": {"samples": 200}}
EXPORT_TIMEOUT_MS = 120_000


@pytest.fixture
def make_app(qtbot, tmp_path):
    apps = []

    def make(training: dict = QUICK) -> TrainingApp:
        app = TrainingApp(qtbot, tmp_path, make_project(dataset=TINY_SPIRALS, training=training))
        apps.append(app)
        return app

    yield make
    for app in apps:
        dialog = app.controller.export_dialog
        if dialog is not None:
            qtbot.waitUntil(lambda d=dialog: not d.busy, timeout=EXPORT_TIMEOUT_MS)
        app.close()


@pytest.fixture
def trained(make_app) -> TrainingApp:
    app = make_app()
    assert app.controller.train()
    assert app.wait_finished().status == "finished"
    return app


def open_dialog(app: TrainingApp, qtbot):
    app.window.actions_by_id["file.export"].trigger()
    dialog = app.controller.export_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.unavailable is not None)  # the extras are checked on a helper thread
    return dialog


def export(dialog, qtbot, format: str, out: Path) -> str:
    """Pick the format and path, press Export, wait for the worker thread; returns the result text."""
    dialog.select_format(format)
    dialog.path_edit.setText(str(out))
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert dialog.busy and not dialog.export_button.isEnabled() and dialog.progress.isVisible()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=EXPORT_TIMEOUT_MS)
    assert not dialog.progress.isVisible()
    return dialog.result_text()


def parity(text: str) -> float:
    found = re.search(r"largest absolute difference from the app's model is (\S+)( \(identical outputs\))? on a "
                      r"held-out batch", text)
    assert found, text
    return float(found.group(1))


def test_exports_safetensors_and_torchscript_from_the_finished_run(trained, qtbot, tmp_path):
    dialog = open_dialog(trained, qtbot)
    source = dialog.current_source()
    assert source.label.startswith("Run 1 · finished · best checkpoint")
    assert source.checkpoint is not None and source.checkpoint.name == "best"

    text = export(dialog, qtbot, "safetensors", tmp_path / "spirals")  # the extension is added
    assert (tmp_path / "spirals.safetensors").is_file() and (tmp_path / "spirals.json").is_file()
    assert "Exported Weights (safetensors) with Run 1's best checkpoint" in text
    assert str(tmp_path / "spirals.safetensors") in text
    assert parity(text) <= 1e-5
    assert dialog.open_button.isVisible()

    text = export(dialog, qtbot, "torchscript", tmp_path / "spirals.pt")
    assert str(tmp_path / "spirals.pt") in text and parity(text) <= 1e-5
    assert "Exported TorchScript" in trained.window.statusBar().currentMessage()
    assert not list(tmp_path.glob(".*.partial"))  # the staging folders are gone


def test_an_unwritable_path_is_reported_in_the_dialog_and_the_app_carries_on(make_app, qtbot, tmp_path):
    app = make_app()
    dialog = open_dialog(app, qtbot)
    dialog.select_source("Untrained")
    missing = tmp_path / "no such folder" / "model.pt"
    dialog.confirm_create = lambda folder: False  # asked whether to create it: No
    dialog.select_format("torchscript")
    dialog.path_edit.setText(str(missing))
    assert not dialog.export()
    text = dialog.result_text()
    assert "TorchScript export with the untrained (initial) weights failed" in text
    assert f"the folder {missing.parent} does not exist" in text
    assert "Traceback" not in text and not missing.parent.exists()
    assert dialog.isVisible() and dialog.export_button.isEnabled()

    blocker = tmp_path / "a file"
    blocker.write_text("not a folder", encoding="utf-8")
    text = export(dialog, qtbot, "python", blocker / "model-python")
    assert f"{blocker} is not a folder" in text

    app.window.view.select_all()  # the window still answers, and the dialog still exports
    text = export(dialog, qtbot, "torchscript", tmp_path / "model.pt")
    assert (tmp_path / "model.pt").is_file() and parity(text) <= 1e-5


def test_onnx_is_disabled_with_what_to_install_when_its_packages_are_missing(make_app, qtbot, monkeypatch):
    import nnstudio.io.export.formats as formats

    monkeypatch.setattr(formats, "missing_modules", lambda info: ["onnxruntime"] if info.extra else [])
    dialog = open_dialog(make_app(), qtbot)
    assert not dialog.format_buttons["onnx"].isEnabled()
    note = dialog.format_notes["onnx"].text()
    assert note.startswith("Not available: the ONNX export needs onnxruntime, which is not installed")
    assert 'pip install "nnstudio[onnx]"' in note
    assert dialog.format_buttons["torchscript"].isEnabled()
    dialog.select_format("onnx")  # not clickable; even when picked programmatically it does not start
    assert not dialog.export_button.isEnabled()
    assert not dialog.export()
    assert 'pip install "nnstudio[onnx]"' in dialog.result_text() and not dialog.busy


def test_the_untrained_weights_export_without_any_run(make_app, qtbot, tmp_path):
    app = make_app()
    action = app.window.actions_by_id["file.export"]
    assert action.shortcut().toString() == "Ctrl+E"
    file_menu = app.window.menuBar().actions()[0].menu()
    assert action in file_menu.actions()
    dialog = open_dialog(app, qtbot)
    assert [s.label for s in dialog.sources] == ["Untrained (initial weights)"]
    assert "No run of this project has a checkpoint yet" in dialog.source_note.text()
    text = export(dialog, qtbot, "safetensors", tmp_path / "fresh.safetensors")
    assert (tmp_path / "fresh.safetensors").is_file() and parity(text) <= 1e-5
    assert "Exported Weights (safetensors) with the untrained (initial) weights" in text
    assert "untrained weights" in text  # the core's own note


def test_closing_the_dialog_while_it_exports_reports_in_the_status_bar(make_app, qtbot, tmp_path):
    app = make_app()
    dialog = open_dialog(app, qtbot)
    dialog.path_edit.setText(str(tmp_path / "later.pt"))
    assert dialog.export()
    dialog.close()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=EXPORT_TIMEOUT_MS)
    assert (tmp_path / "later.pt").is_file()
    assert app.window.statusBar().currentMessage().startswith(f"Exported TorchScript to {tmp_path / 'later.pt'}")
    app.window.actions_by_id["file.export"].trigger()  # a fresh dialog next time
    assert app.controller.export_dialog is not dialog and app.controller.export_dialog.isVisible()


def test_while_a_model_trains_only_finished_runs_can_be_exported(make_app, qtbot):
    app = make_app(LONG)
    assert app.controller.train()
    qtbot.waitUntil(lambda: app.bench.session is not None and app.bench.session.state == "running", timeout=60_000)
    dialog = open_dialog(app, qtbot)
    assert dialog.current_source().label == "Run 1 · training now"
    assert "Run 1 is still training" in dialog.source_note.text()
    assert not dialog.export_button.isEnabled()
    dialog.select_source("Untrained")
    assert "a model is training" in dialog.source_note.text().lower()
    assert not dialog.export() and "Cannot export: a model is training" in dialog.result_text()
    app.controller.stop()
    app.wait_finished()
    qtbot.waitUntil(dialog.export_button.isEnabled)  # the list followed the run's end
    assert dialog.current_source().label.startswith("Untrained")  # the user's choice is kept
    assert dialog.sources[1].label.startswith("Run 1 · stopped") and dialog.sources[1].checkpoint is not None


def test_default_names_follow_the_project_and_the_format(tmp_path):
    torchscript, python = FORMATS["torchscript"], FORMATS["python"]
    assert default_output(torchscript, tmp_path / "net.nnstudio", "Net", Path.home()) == tmp_path / "net.pt"
    assert default_output(python, None, "Two spirals!", tmp_path / "docs") == tmp_path / "docs" / "two-spirals-python"
    assert retarget(tmp_path / "net.pt", torchscript, python) == tmp_path / "net-python"
    assert retarget(tmp_path / "net-python", python, FORMATS["onnx"]) == tmp_path / "net.onnx"
    assert retarget(tmp_path / "mine.bin", torchscript, FORMATS["bundle"]) == tmp_path / "mine.zip"
