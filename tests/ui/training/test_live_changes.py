"""Changing a run while it trains, through the real panel: a new learning rate, a layer frozen from the
Inspector, single steps while paused, and the change markers on every plot (ui/training/live_changes.py)."""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt

from nnstudio.ui.plots.base import CurvePlot
from tests.ui.training.app_helpers import make_project

pytestmark = pytest.mark.slow  # trains a model in the app

LONG = {"epochs": 400, "batch_size": 16, "optimizer": {"name": "adam", "lr": 0.01},
        "instrumentation": {"loss_every": 5}}


def click(qtbot, widget) -> None:
    assert widget.isEnabled() and widget.isVisible(), widget
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def start(qtbot, app):
    click(qtbot, app.bench.controls.train)
    qtbot.waitUntil(lambda: app.bench.session.state == "running" and app.bench.session.series.has("step/loss"),
                    timeout=60_000)
    return app.bench.session


def marker_tips(plot: CurvePlot) -> list[str]:
    """The tooltips of the plot's vertical lines (a plot may have horizontal lines of its own, e.g. chance)."""
    return [item.toolTip() for item in plot.item.items if isinstance(item, pg.InfiniteLine) and item.angle == 90]


@pytest.fixture
def app(training_app):
    return training_app(make_project(training=LONG))


def test_live_changes_are_run_events_marked_on_every_plot(qtbot, app):
    bench, document = app.bench, app.document
    undo_steps, modified = document.undo_stack.count(), document.is_modified()
    session = start(qtbot, app)
    live = bench.actions.live
    assert live.bar.isVisible()
    live.bar.lr.setText("fast")
    click(qtbot, live.bar.apply)
    assert "Learning rate: expected a positive number" in bench.controls.message.text()
    live.bar.lr.setText("0.002")
    click(qtbot, live.bar.apply)
    assert bench.controls.message.text() == ""
    qtbot.waitUntil(lambda: len(live.markers.events) == 1, timeout=10_000)
    (text,) = live.markers.tooltips()
    assert "learning rate 0.01 → 0.002" in text
    step_plots = [p for p in bench.plots.findChildren(CurvePlot) if p.x_label == "step"]
    assert len(step_plots) > 3 and all(marker_tips(p) == [text] for p in step_plots)
    qtbot.waitUntil(lambda: session.series.get("step/lr").last() == 0.002, timeout=10_000)

    linear = next(n for n, node in document.graph.nodes.items() if node.type == "Linear")
    app.window.view.select_nodes([linear])
    box = app.window.inspector.page.training  # (the Train perspective may keep the Inspector out of sight)
    assert box.form.editor("frozen").isEnabled(), "the Frozen box acts on the run while it trains"
    box.form.editor("frozen").box.click()
    qtbot.waitUntil(lambda: len(live.markers.events) == 2, timeout=10_000)
    assert live.markers.tooltips()[1].endswith(f"froze {document.graph.nodes[linear].name}")
    assert box.note.text().startswith("❄ Frozen in this run")
    # a run event, not a document edit: the project and its undo history are as they were
    assert not document.graph.nodes[linear].training.frozen
    assert document.undo_stack.count() == undo_steps and document.is_modified() == modified

    bench.stop()
    assert app.wait_finished(timeout=30_000).status == "stopped"
    assert not box.form.editor("frozen").box.isChecked(), "after the run the box shows the project again"
    bench.actions.show(bench.store().runs()[0])  # the run's history from disk carries the changes too
    assert [e.kind for e in live.markers.events] == ["lr", "freeze"]
    assert all(len(marker_tips(p)) == 2 for p in step_plots)


def test_step_runs_one_batch_while_paused_and_shows_it(qtbot, app):
    bench = app.bench
    session = start(qtbot, app)
    assert not bench.controls.step.isVisible()
    click(qtbot, bench.controls.pause)
    qtbot.waitUntil(lambda: session.state == "paused", timeout=10_000)
    trainer = session.worker.trainer
    paused_at = trainer.state.step
    click(qtbot, bench.controls.step)
    qtbot.waitUntil(lambda: session.series.get("step/loss").x[-1] == paused_at + 1, timeout=10_000)
    assert trainer.state.step == paused_at + 1 and session.state == "paused"
    assert bench.controls.step.isEnabled() and bench.controls.resume.isVisible()
    app.controller.actions["step"].trigger()  # F8
    qtbot.waitUntil(lambda: session.series.get("step/loss").x[-1] == paused_at + 2, timeout=10_000)
    assert session.series.get("grads/global_norm").x[-1] == paused_at + 2  # the step's statistics are sampled
    bench.stop()
    assert app.wait_finished(timeout=30_000).status == "stopped"
