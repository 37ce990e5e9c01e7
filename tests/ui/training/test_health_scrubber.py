"""The Health row of the training workbench, driven through the real window: badges appear on the canvas while a
run that goes wrong trains, the scrubber replays its samples, a finished run replays from its history file, and
the run's findings are listed."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from nnstudio.training.health_badges import Level
from tests.ui.training.app_helpers import SMALL_SPIRALS, make_project

pytestmark = pytest.mark.slow

GOING_WRONG = {"epochs": 3, "batch_size": 32, "optimizer": {"name": "sgd", "lr": 10.0},
               "instrumentation": {"grads_every": 4, "activations_every": 4},
               "health": {"stall_epochs": 2, "plateau_tolerance": 10.0}}  # a wide tolerance: a plateau is certain


def test_a_run_that_kills_its_relus_shows_on_the_canvas_and_replays(qtbot, training_app):
    training = {**GOING_WRONG, "epochs": 12}  # long enough for a few of the overlay's 4 redraws a second
    app = training_app(make_project(dataset=SMALL_SPIRALS, training=training))
    bench, feed = app.bench, app.bench.health
    overlay = feed.overlay
    seen_live = []
    bench.run_started.connect(lambda session: session.updated.connect(
        lambda _u: seen_live.append(bool(overlay.badges) and session.active)))
    qtbot.mouseClick(bench.controls.train, Qt.MouseButton.LeftButton)
    outcome = app.wait_finished()
    assert outcome.status == "finished", outcome.message
    qtbot.waitUntil(lambda: "n_relu2" in overlay.badges, timeout=5_000)
    assert any(seen_live), "badges appear while the run trains"
    badge = overlay.badges["n_relu2"]
    assert badge.level is Level.BAD and "relu2's units output zero" in badge.toolTip()
    assert badge.parentItem() is app.window.view.scene().nodes["n_relu2"]
    # the scrubber replays: back to the first sample, then to the end again
    slider = feed.panel.slider
    assert slider.isEnabled() and slider.maximum() == len(feed.tracker.timeline) - 1 > 2
    first = feed.tracker.timeline[0]
    slider.setValue(0)
    assert f"step {first.step} " in feed.panel.where.text()
    assert overlay.snapshot is first
    slider.setValue(slider.maximum())
    assert overlay.badges["n_relu2"].level is Level.BAD
    # the findings of training.health are listed under the scrubber
    assert feed.panel.findings.isVisible() and "finding (plateau" in feed.panel.findings.text()


def test_a_finished_run_replays_from_its_history_file(qtbot, training_app):
    training = {**GOING_WRONG, "epochs": 2}
    app = training_app(make_project(dataset=SMALL_SPIRALS, training=training))
    bench, feed = app.bench, app.bench.health
    qtbot.mouseClick(bench.controls.train, Qt.MouseButton.LeftButton)
    assert app.wait_finished().status == "finished"
    samples = len(feed.tracker.timeline)
    bench.actions.clear_view()  # nothing shown: no badges, no samples
    assert feed.overlay.badges == {} and not feed.panel.slider.isEnabled()
    record = bench.store().runs()[0]
    assert (record.path / "history.json").is_file()
    bench.actions.show(record)  # as the Runs tab's Show does
    assert len(feed.tracker.timeline) == samples
    assert feed.overlay.badges["n_relu2"].level is Level.BAD
    feed.panel.slider.setValue(0)
    assert feed.overlay.snapshot is feed.tracker.timeline[0]
