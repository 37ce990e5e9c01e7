"""Runs of unsaved work in the app: kept in the per-user folder, moved on save, listed from earlier sessions;
the Training dock follows the open project; Undo cannot change a setting while a run trains."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from nnstudio.metrics.history import MetricHistory
from nnstudio.ui.training.commands import push_setting
from nnstudio.ui.training.controller import locked_reason
from tests.ui.training.app_helpers import make_project


def _unsaved_app(training_app, project=None):
    """A training app whose runs go where the app puts them (not the tests' fixed runs folder)."""
    app = training_app(project)
    app.bench.runs_root = None
    app.window.files.ask_save_path = lambda suggested: app.save_path
    app.save_path = None
    return app


def test_undo_during_a_run_leaves_the_settings_and_says_why(qtbot, training_app, tmp_path):
    project = make_project(training={"epochs": 40, "batch_size": 16, "optimizer": {"lr": 0.003}})
    app = _unsaved_app(training_app, project)
    document, window = app.document, app.window
    push_setting(document, "training", ("epochs",), 400)
    legacy_before = set(Path(tempfile.gettempdir()).glob("nnstudio-runs-*"))
    assert app.bench.train()
    qtbot.waitUntil(lambda: app.bench.session.state == "running", timeout=60_000)
    undo = window.actions_by_id["edit.undo"]
    assert not undo.isEnabled(), "Undo is off while the run trains"
    undo.trigger()
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert document.project.training["epochs"] == 400
    assert window.statusBar().currentMessage() == locked_reason()
    push_setting(document, "training", ("epochs",), 10)  # a setting edit is refused as well
    assert document.project.training["epochs"] == 400
    record = app.bench.session.record
    app.bench.stop()
    app.wait_finished(timeout=30_000)
    assert undo.isEnabled()
    # the run of this unsaved project is in the per-user folder, not the temporary one
    unsaved = window.files.unsaved_runs.folder(document.session_id)
    assert record.path.parent == unsaved
    assert set(Path(tempfile.gettempdir()).glob("nnstudio-runs-*")) == legacy_before
    undo.trigger()
    assert document.project.training["epochs"] == 40
    # saving takes the runs beside the file
    app.save_path = tmp_path / "work" / "mine.nnstudio"
    app.save_path.parent.mkdir()
    qtbot.waitUntil(lambda: not app.bench.evaluator.busy, timeout=60_000)
    assert window.files.save()
    assert [r.path.parent for r in app.bench.store().runs()] == [tmp_path / "work" / "mine.runs"]
    assert not unsaved.exists()


def _fake_run(store, name="Spirals MLP", epochs=3):
    record = store.create("{}", {"epochs": epochs}, {"name": "spirals"}, name)
    record.status, record.epochs = "finished", epochs
    store.save(record)
    store.save_history(record, MetricHistory([{"kind": "epoch", "epoch": 1, "step": 5, "val_loss": 0.5}]))
    return record


def _left_by_a_dead_process(store) -> None:
    info = store.root / "session.json"
    info.write_text(json.dumps({**json.loads(info.read_text(encoding="utf-8")), "pid": None}), encoding="utf-8")


def test_opening_another_project_clears_the_training_dock(qtbot, training_app):
    app = training_app(make_project(dataset={"name": "no-such-dataset"}))
    bench = app.bench
    assert not bench.train()
    assert bench.controls.message.isVisibleTo(bench.controls)
    assert bench.controls.message.text().startswith("Cannot train:")
    record = _fake_run(bench.store())
    bench.refresh_runs()
    bench.actions.show(record)
    bench.controls.progress.setValue(500)
    assert bench.plots.primary is not None
    assert app.window.files.open_example("sine_regression")
    assert bench.document is app.window.document, "the workbench follows the window's document at once"
    assert not bench.controls.message.isVisibleTo(bench.controls)
    assert bench.controls.progress.value() == 0 and bench.controls.progress.format() == "not started"
    assert bench.plots.primary is None and bench.shown_records == []
    assert bench.evaluation.result is None and bench.evaluation.tabs.count() == 0


def test_the_runs_tab_offers_an_earlier_sessions_unsaved_runs(qtbot, training_app):
    app = _unsaved_app(training_app)
    bench, files = app.bench, app.window.files
    earlier = files.unsaved_runs.store("earlier")
    _fake_run(earlier, name="Old work")
    _fake_run(earlier, name="Old work")
    _left_by_a_dead_process(earlier)
    _fake_run(bench.store())  # this project's own run
    bench.refresh_runs()
    panel = bench.runs
    assert panel.source.isVisibleTo(panel) and panel.source.count() == 2
    assert "Old work" in panel.source.itemText(1) and "2 runs" in panel.source.itemText(1)
    panel.source.setCurrentIndex(1)
    panel.source.activated.emit(1)
    assert [r.project_name for r in panel.records.values()] == ["Old work", "Old work"]
    assert panel.attach.isVisibleTo(panel) and panel.read_only
    panel.select([1])
    assert panel.buttons["show"].isEnabled() and not panel.buttons["resume"].isEnabled()
    qtbot.mouseClick(panel.attach, Qt.MouseButton.LeftButton)
    assert [r.number for r in bench.store().runs()] == [1, 2, 3]
    assert not earlier.root.exists()
    assert not panel.source.isVisibleTo(panel), "no earlier session is left to offer"


def test_reopening_an_earlier_session_opens_its_project_with_its_runs(qtbot, training_app):
    from nnstudio.io import dumps

    app = _unsaved_app(training_app)
    files = app.window.files
    earlier = files.unsaved_runs.store("gone")
    record = _fake_run(earlier, name="Spirals MLP")
    (record.path / "project.nnstudio").write_text(dumps(make_project("sine_regression")), encoding="utf-8")
    _left_by_a_dead_process(earlier)
    app.bench.refresh_runs()
    panel = app.bench.runs
    panel.source.setCurrentIndex(1)
    panel.source.activated.emit(1)
    qtbot.mouseClick(panel.reopen, Qt.MouseButton.LeftButton)
    document = app.window.document
    assert document.session_id == "gone" and document.path is None
    assert files.unsaved_run_count() == 1
    assert [r.number for r in app.bench.store().runs()] == [1]


@pytest.fixture(autouse=True)
def _no_modal_boxes(monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setattr(QMessageBox, "critical", lambda *a, **k: pytest.fail(f"error box: {a[2:]}"))
