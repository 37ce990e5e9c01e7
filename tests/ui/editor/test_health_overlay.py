"""The canvas's health overlay: badges under nodes with their explanation as a tooltip, links coloured by gradient,
only changed nodes redrawn, and the View menu's toggle."""

from __future__ import annotations

import pytest

from nnstudio.examples import EXAMPLES
from nnstudio.io import load
from nnstudio.layers.registry import default_registry
from nnstudio.training.health_badges import HealthTracker, Level
from nnstudio.ui.document import Document
from nnstudio.ui.editor.health_overlay import ACTION_ID, LEVEL_COLOURS, HealthOverlay, flow_pen
from nnstudio.ui.main_window import MainWindow


def summary(dead: float = 0.0) -> dict:
    return {"mean": 0.1, "std": 0.2, "zero_fraction": dead, "nonfinite_fraction": 0.0, "dead_fraction": dead,
            "hist": {"lo": 0.0, "hi": 1.0, "counts": [10, 10]}}


def records(dead: float, grad: float = 0.05) -> list[dict]:
    return [{"kind": "step", "epoch": 1, "step": 10, "loss": 0.7, "lr": 0.01},
            {"kind": "grads", "epoch": 1, "step": 10, "global_norm": grad,
             "layers": {"n_fc1": grad, "n_fc2": grad, "n_fc3": grad}},
            {"kind": "activations", "epoch": 1, "step": 10, "layers": {"n_relu1": summary(), "n_relu2": summary(dead)}}]


@pytest.fixture
def window(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    project = load(EXAMPLES["spirals"].path, default_registry())
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(Document(project, default_registry()), settings=settings, recovery_folder=tmp_path / "rec")
    win.files.ask_unsaved_changes = lambda name, runs=0: "discard"
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def tracker_for(window) -> HealthTracker:
    graph = window.document.graph
    return HealthTracker({n.id: n.type for n in graph.nodes.values()}, {n.id: n.name for n in graph.nodes.values()})


def test_badges_sit_on_their_nodes_coloured_by_level_with_the_explanation_as_tooltip(window):
    tracker = tracker_for(window)
    tracker.ingest(records(dead=0.82))
    overlay = HealthOverlay.of(window.view)
    overlay.show(tracker.timeline[-1])
    bad = overlay.badges["n_relu2"]
    assert bad.parentItem() is window.view.scene().nodes["n_relu2"]
    assert bad.level is Level.BAD and bad.text.startswith("bad · dead 82")
    assert "82 % of relu2's units output zero" in bad.toolTip() and "Try LeakyReLU" in bad.toolTip()
    assert overlay.badges["n_fc1"].level is Level.OK
    # the badge is drawn in its level's colour
    image = window.view.grab().toImage()
    assert image.width() > 0
    scene_point = bad.mapToScene(10, bad.boundingRect().height() / 2)
    view_point = window.view.mapFromScene(scene_point)
    pixel = image.pixelColor(view_point * window.view.devicePixelRatioF())
    assert pixel.red() > 150 and pixel.green() < 120, pixel.name()  # the red dot of a bad badge
    assert LEVEL_COLOURS[Level.BAD].red() > LEVEL_COLOURS[Level.BAD].green()


def test_links_take_the_gradient_of_the_weights_they_lead_back_to(window):
    tracker = tracker_for(window)
    tracker.ingest(records(dead=0.0, grad=1e-8))
    tracker.ingest([{"kind": "grads", "epoch": 1, "step": 20, "global_norm": 1.0,
                     "layers": {"n_fc1": 1e-8, "n_fc2": 1.0, "n_fc3": 10.0}}])
    overlay = HealthOverlay.of(window.view)
    overlay.show(tracker.timeline[-1])
    edges = window.view.scene().edges
    assert edges["e_1"].flow_pen is None  # from the input: no weights upstream
    faint, strong = edges["e_2"].flow_pen, edges["e_5"].flow_pen  # fc1 -> relu1 (1e-8); relu2 -> fc3 (via fc2: 1)
    assert faint.widthF() < strong.widthF() and edges["e_6"].flow_pen.widthF() > strong.widthF()
    assert faint.widthF() == pytest.approx(flow_pen(0.0).widthF()) and faint.color() == flow_pen(0.0).color()


def test_showing_a_later_sample_touches_only_the_nodes_that_changed(window):
    tracker = tracker_for(window)
    tracker.ingest(records(dead=0.1))
    overlay = HealthOverlay.of(window.view)
    overlay.show(tracker.timeline[-1])
    before = overlay.repaints
    changed = tracker.ingest([{"kind": "activations", "epoch": 1, "step": 30,
                               "layers": {"n_relu1": summary(), "n_relu2": summary(0.9)}}])
    assert changed == {"n_relu2"}
    overlay.show(tracker.timeline[-1], changed)
    assert overlay.repaints - before == 1 and overlay.badges["n_relu2"].level is Level.BAD


def test_the_view_menu_toggle_hides_and_shows_the_overlay(window):
    tracker = tracker_for(window)
    tracker.ingest(records(dead=0.9))
    overlay = HealthOverlay.of(window.view)
    overlay.show(tracker.timeline[-1])
    action = window.actions_by_id[ACTION_ID]
    assert action.isCheckable() and action.isChecked()
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert action in view_menu.actions()
    action.trigger()
    assert not action.isChecked() and overlay.badges == {} and window.view.scene().edges["e_2"].flow_pen is None
    action.trigger()
    assert overlay.badges["n_relu2"].level is Level.BAD and window.view.scene().edges["e_2"].flow_pen is not None


def test_hovering_a_badge_shows_its_explanation_and_fix(window, qtbot):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QToolTip

    tracker = tracker_for(window)
    tracker.ingest(records(dead=0.82))
    overlay = HealthOverlay.of(window.view)
    overlay.show(tracker.timeline[-1])
    badge = overlay.badges["n_relu2"]
    window.view.centerOn(badge)
    point = window.view.mapFromScene(badge.mapToScene(badge.boundingRect().center()))
    viewport = window.view.viewport()
    QApplication.sendEvent(viewport, QHelpEvent(QEvent.Type.ToolTip, point, viewport.mapToGlobal(point)))
    qtbot.waitUntil(lambda: QToolTip.isVisible(), timeout=2_000)
    assert "82 % of relu2's units output zero" in QToolTip.text() and "Try LeakyReLU" in QToolTip.text()
    QToolTip.hideText()
