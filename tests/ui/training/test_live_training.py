"""Training through the desktop app: a full run, pause/resume/stop, divergence, a broken dataset, overlays."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.ui.training.app_helpers import SMALL_SPIRALS, make_project

pytestmark = pytest.mark.slow


def click(qtbot, button) -> None:
    assert button.isEnabled() and button.isVisible(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_train_spirals_to_completion_through_the_ui(qtbot, training_app):
    app = training_app()
    bench = app.bench
    assert bench.check() == []
    click(qtbot, bench.controls.train)
    assert app.window.view.read_only, "the canvas is locked while the model trains"
    assert "Run 1" in bench.controls.status.text() and "Spirals MLP" in bench.controls.status.text()
    assert not bench.controls.train.isEnabled()
    outcome = app.wait_finished()
    assert outcome.status == "finished", outcome.message
    assert not app.window.view.read_only
    assert bench.controls.train.isEnabled()
    # the plots hold the run's curves
    loss = bench.plots.curves.loss.plot
    assert loss.has_data()
    assert len(loss.curves["epoch/val_loss|0"].xData) == 6
    assert bench.plots.boundary.updates > 0 and bench.plots.boundary.grid is not None
    # the final metric is shown, and the run is recorded with it
    accuracy = outcome.metrics["val_accuracy"]
    assert f"{accuracy:.4g}" in bench.controls.status.text()
    records = bench.store().runs()
    assert [r.status for r in records] == ["finished"]
    assert records[0].metrics["val_accuracy"] == pytest.approx(accuracy)
    qtbot.waitUntil(lambda: bench.evaluation.result is not None, timeout=60_000)
    assert bench.evaluation.result.confusion is not None


def test_pause_resume_and_stop_are_acknowledged_at_once(qtbot, training_app):
    project = make_project(training={"epochs": 400, "batch_size": 16, "optimizer": {"lr": 0.003}})
    app = training_app(project)
    bench = app.bench
    click(qtbot, bench.controls.train)
    qtbot.waitUntil(lambda: bench.session.state == "running" and bench.session.series.has("step/loss"),
                    timeout=60_000)
    click(qtbot, bench.controls.pause)
    assert not bench.controls.pause.isEnabled(), "the click is acknowledged before the engine answers"
    assert "pausing" in bench.controls.progress.format()
    qtbot.waitUntil(lambda: bench.session.state == "paused", timeout=10_000)
    assert bench.controls.resume.isVisible() and bench.controls.resume.isEnabled()
    paused_at = bench.session.series.get("step/loss").x[-1]
    click(qtbot, bench.controls.resume)
    assert bench.controls.pause.isVisible()
    qtbot.waitUntil(lambda: bench.session.series.get("step/loss").x[-1] > paused_at, timeout=10_000)
    click(qtbot, bench.controls.stop)
    assert not bench.controls.stop.isEnabled()
    outcome = app.wait_finished(timeout=30_000)
    assert outcome.status == "stopped"
    assert not app.window.view.read_only
    record = bench.store().runs()[0]
    assert record.status == "stopped" and record.resumable
    # resuming continues from the checkpoint with its optimizer state, to the planned end
    stopped_step = outcome.step
    project.training["epochs"] = 400  # unchanged: the run's own snapshot decides
    bench.actions.resume(record)
    qtbot.waitUntil(lambda: bench.session is not None and bench.session.series.has("step/loss"), timeout=60_000)
    assert bench.session.series.get("step/loss").x[0] < stopped_step, "the earlier curve is carried over"
    bench.stop()
    resumed = app.wait_finished(2, timeout=30_000)
    assert resumed.status == "stopped" and resumed.step > stopped_step


def test_nan_run_ends_with_message_and_marked_node(qtbot, training_app):
    project = make_project(training={"epochs": 5, "batch_size": 32, "optimizer": {"name": "sgd", "lr": 1e6}})
    app = training_app(project)
    bench = app.bench
    click(qtbot, bench.controls.train)
    outcome = app.wait_finished()
    assert outcome.status == "failed"
    assert "diverged" in bench.controls.message.text()
    assert bench.controls.message.isVisible()
    node_id = outcome.node_id
    assert node_id in app.document.graph.nodes
    assert bench.marker.node_id == node_id and bench.marker.mark.scene() is app.window.view.scene()
    problems = app.window.problems.diagnostics
    diverged = [d for d in problems if d.code == "training-diverged"]
    assert diverged and diverged[0].node_id == node_id and "learning rate" in diverged[0].message
    assert not app.window.view.read_only
    click(qtbot, bench.controls.clear_mark)
    assert bench.marker.mark is None


def test_dataset_loader_error_is_reported_and_app_stays_usable(qtbot, training_app, tmp_path):
    broken = tmp_path / "broken.csv"
    broken.write_text("a,b,label\n1,2,x\n3,,y\nfoo,4,x\n", encoding="utf-8")
    project = make_project(dataset={"name": "csv", "params": {"path": str(tmp_path / "missing.csv")}})
    app = training_app(project)
    bench = app.bench
    click(qtbot, bench.controls.train)
    outcome = app.wait_finished()
    assert outcome.status == "failed"
    assert "missing.csv" in bench.controls.message.text()
    assert any("missing.csv" in d.message for d in app.window.problems.diagnostics)
    assert not app.window.view.read_only and bench.controls.train.isEnabled()
    # the app is usable: fix the dataset with an undoable edit and train again
    bench.settings_panel.dataset._param_changed("path", str(broken))
    app.document.undo_stack.undo()
    assert app.document.project.dataset["params"]["path"].endswith("missing.csv")
    from nnstudio.ui.commands import SetSectionCommand

    app.document.push(SetSectionCommand(app.document, "dataset", dict(SMALL_SPIRALS)))
    assert bench.settings_panel.dataset.choice.currentData() == "spirals"
    click(qtbot, bench.controls.train)
    assert app.wait_finished(2).status == "finished"


def test_two_runs_overlaid(qtbot, training_app):
    app = training_app()
    bench = app.bench
    assert bench.train()
    app.wait_finished()
    app.document.project.training = {**app.document.project.training, "optimizer": {"lr": 0.03}}
    assert bench.train()
    app.wait_finished(2)
    bench.tabs.setCurrentWidget(bench.runs)
    bench.runs.select([1, 2])
    click(qtbot, bench.runs.buttons["compare"])
    loss = bench.plots.curves.loss.plot
    assert {"epoch/val_loss|0", "epoch/val_loss|1"} <= set(loss.curves)
    dashed = loss.curves["epoch/val_loss|1"].opts["pen"].style()
    assert dashed == Qt.PenStyle.DashLine
    assert "Run 2" in bench.plots.caption.text() and "Run 1" in bench.plots.caption.text()
    bench.tabs.setCurrentWidget(bench.runs)
    click(qtbot, bench.runs.buttons["delete"])
    assert bench.store().runs() == []


def test_three_runs_compared_each_with_its_own_line(qtbot, training_app):
    """Issue 12: the Runs tab overlays any number of runs, not just two."""
    app = training_app()
    bench = app.bench
    for count, lr in enumerate((0.01, 0.03, 0.1), start=1):
        app.document.project.training = {**app.document.project.training, "optimizer": {"lr": lr}}
        assert bench.train()
        app.wait_finished(count)
    bench.tabs.setCurrentWidget(bench.runs)
    bench.runs.select([1])
    assert not bench.runs.buttons["compare"].isEnabled()
    bench.runs.select([1, 2, 3])
    assert bench.runs.buttons["compare"].isEnabled()
    click(qtbot, bench.runs.buttons["compare"])
    loss = bench.plots.curves.loss.plot
    styles = [loss.curves[f"epoch/val_loss|{i}"].opts["pen"].style() for i in range(3)]
    assert styles == [Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine]
    colours = {loss.curves[f"epoch/val_loss|{i}"].opts["pen"].color().name() for i in range(3)}
    assert len(colours) == 1  # validation is orange in every run
    assert bench.plots.caption.text() == "Comparing Run 3 (solid), Run 2 (dashed), Run 1 (dotted)"


def test_load_weights_into_a_changed_graph_and_train_from_them(qtbot, training_app):
    from nnstudio.ui.commands import SetParamCommand

    app = training_app()
    bench = app.bench
    assert bench.train()
    app.wait_finished()
    record = bench.store().runs()[0]
    graph = app.document.graph
    last_dense = [n for n in graph.nodes.values() if n.type == "Linear"][-2]
    app.document.push(SetParamCommand(app.document, last_dense.id, "out_features", 32))
    bench.actions.load_weights(record)
    status = bench.controls.status.text()
    assert "graph changed" in status and last_dense.name in status
    assert bench.actions.start_from_loaded.isChecked()
    sessions = []
    bench.run_started.connect(sessions.append)
    assert bench.train()
    assert app.wait_finished(2).status == "finished"
    note = sessions[0].info.weights_note
    assert note.startswith("started from the loaded weights") and "mismatched" in note


def test_closing_the_window_stops_a_run_cooperatively(qtbot, training_app):
    app = training_app(make_project(training={"epochs": 2000, "batch_size": 16}))
    bench = app.bench
    assert bench.train()
    qtbot.waitUntil(lambda: bench.session is not None and bench.session.state == "running", timeout=60_000)
    session = bench.session
    app.window.close()
    assert session.thread.isFinished(), "the close waited for the worker to return"
    record = bench.store().runs()[0]
    assert record.status == "stopped" and record.resumable


def test_opening_another_document_while_training(qtbot, training_app):
    from nnstudio.layers.registry import default_registry
    from nnstudio.ui.document import Document

    app = training_app(make_project(training={"epochs": 2000, "batch_size": 16}))
    bench = app.bench
    assert bench.train()
    other = make_project("sine_regression", dataset={"name": "sine"})
    app.window.set_document(Document(other, default_registry()))
    assert bench.document is app.window.document, "the panels follow the window's document"
    assert bench.settings_panel.dataset.choice.currentData() == "sine"
    assert app.window.view.read_only, "still locked: a model is training"
    bench.stop()
    outcome = app.wait_finished()
    assert outcome.status == "stopped"
    assert not app.window.view.read_only
