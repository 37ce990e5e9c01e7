"""Moving nodes (grid snap, one undo step), multi-selection, rubber band, pan and zoom."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from tests.helpers import mlp


def test_dragging_nodes_snaps_to_the_grid_and_is_one_undo_step(make_canvas, qtbot):
    canvas = make_canvas(mlp().project)
    graph = canvas.document.graph
    relu = canvas.node_named("relu")
    old = graph.nodes[relu].position
    viewport = canvas.view.viewport()
    header = canvas.scene.nodes[relu].scenePos() + QPointF(60, 10)
    start = canvas.point(header)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 6):
        qtbot.mouseMove(viewport, start + QPoint(7 * step, 4 * step))
    assert graph.nodes[relu].position == old  # the document changes only on release
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=start + QPoint(35, 20))
    new = graph.nodes[relu].position
    assert new != old and new[0] % 20 == 0 and new[1] % 20 == 0
    assert canvas.document.undo_stack.count() == 1
    assert canvas.document.undo_stack.undoText() == "Move 1 node"
    edge = next(e for e in canvas.scene.edges.values() if e.target.node_item.node_id == relu)
    assert edge.ends.p2() == canvas.scene.nodes[relu].inputs["in"].scenePos()  # links follow their nodes
    canvas.document.undo_stack.undo()
    assert graph.nodes[relu].position == old
    assert (canvas.scene.nodes[relu].x(), canvas.scene.nodes[relu].y()) == old


def test_a_group_moves_together(make_canvas):
    canvas = make_canvas(mlp().project)
    graph = canvas.document.graph
    ids = [canvas.node_named("linear"), canvas.node_named("relu")]
    canvas.view.select_nodes(ids)
    before = {i: graph.nodes[i].position for i in ids}
    start = canvas.scene.nodes[ids[0]].scenePos() + QPointF(60, 10)
    canvas.drag(start, start + QPointF(40, 60))
    for node_id in ids:
        assert graph.nodes[node_id].position == (before[node_id][0] + 40, before[node_id][1] + 60)
    assert canvas.document.undo_stack.count() == 1


def test_shift_and_ctrl_click_extend_the_selection(make_canvas):
    canvas = make_canvas(mlp().project)
    a, b, c = (canvas.node_named(n) for n in ("input", "linear", "relu"))
    changes = []
    canvas.view.selection_changed.connect(changes.append)
    canvas.click(canvas.node_centre(a))
    assert canvas.view.selected_node_ids() == [a]
    canvas.click(canvas.node_centre(b), Qt.KeyboardModifier.ShiftModifier)
    canvas.click(canvas.node_centre(c), Qt.KeyboardModifier.ControlModifier)
    assert canvas.view.selected_node_ids() == [a, b, c]
    canvas.click(canvas.node_centre(b), Qt.KeyboardModifier.ControlModifier)
    assert canvas.view.selected_node_ids() == [a, c]
    assert changes[-1] == [a, c]
    canvas.click(canvas.node_centre(b))
    assert canvas.view.selected_node_ids() == [b]


def test_rubber_band_selects_nodes_and_only_the_links_between_them(make_canvas):
    canvas = make_canvas(mlp().project)
    canvas.view.fit_to_window()
    a, b = canvas.node_named("input"), canvas.node_named("linear")
    left = canvas.scene.nodes[a].sceneBoundingRect()
    right = canvas.scene.nodes[b].sceneBoundingRect()
    canvas.drag(left.topLeft() - QPointF(15, 15), right.center())
    assert canvas.view.selected_node_ids() == [a, b]
    selected_links = canvas.scene.selected_edge_items()
    assert [(e.source.node_item.node_id, e.target.node_item.node_id) for e in selected_links] == [(a, b)]


def test_middle_drag_and_space_drag_pan_without_changing_the_document(make_canvas, qtbot):
    canvas = make_canvas(mlp().project)
    view, viewport = canvas.view, canvas.view.viewport()
    before = canvas.dump()
    centre = view.mapToScene(viewport.rect().center())
    canvas.drag(QPointF(centre), QPointF(centre) + QPointF(100, 50), button=Qt.MouseButton.MiddleButton)
    moved = view.mapToScene(viewport.rect().center())
    assert (moved.x(), moved.y()) == (centre.x() - 100, centre.y() - 50)
    view.setFocus()
    qtbot.keyPress(view, Qt.Key.Key_Space)
    here = view.mapToScene(viewport.rect().center())
    canvas.drag(here, here + QPointF(-60, 0))
    qtbot.keyRelease(view, Qt.Key.Key_Space)
    after = view.mapToScene(viewport.rect().center())
    assert round(after.x() - here.x()) == 60
    assert not view.selected_node_ids()
    assert canvas.dump() == before


def test_wheel_zoom_keeps_the_point_under_the_cursor(make_canvas):
    canvas = make_canvas(mlp().project)
    view = canvas.view
    cursor = QPointF(200, 150)
    anchor = view.mapToScene(cursor.toPoint())
    event = QWheelEvent(cursor, view.viewport().mapToGlobal(cursor), QPoint(0, 0), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
                        False)
    QApplication.sendEvent(view.viewport(), event)
    assert view.navigator.zoom() > 1.4
    after = view.mapToScene(cursor.toPoint())
    assert abs(after.x() - anchor.x()) < 2 and abs(after.y() - anchor.y()) < 2


def test_zoom_buttons_fit_and_detail_level(make_canvas):
    canvas = make_canvas(mlp().project)
    view = canvas.view
    view.zoom_in()
    assert view.navigator.zoom() > 1
    view.zoom_out()
    view.zoom_out()
    assert view.navigator.zoom() < 1
    view.fit_to_window()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(canvas.scene.nodes_rect())
    for _ in range(12):
        view.zoom_out()
    assert not canvas.scene.detail  # far out: ports hidden, links drawn by the overview item
    assert canvas.scene.overview.isVisible()
    assert not next(iter(canvas.scene.edges.values())).isVisible()
    view.fit_to_window()
    assert canvas.scene.detail


def test_center_on_node(make_canvas):
    canvas = make_canvas(mlp().project)
    target = canvas.node_named("output")
    canvas.view.center_on_node(target)
    centre = canvas.view.mapToScene(canvas.view.viewport().rect().center())
    assert canvas.scene.nodes[target].sceneBoundingRect().adjusted(-2, -2, 2, 2).contains(centre)


def test_graph_is_refitted_on_resize_until_the_user_navigates(make_canvas, qtbot):
    """The first fit runs before a window has its final size; later resizes must still show the graph."""
    canvas = make_canvas(mlp().project)
    view = canvas.view
    view.resize(500, 300)
    qtbot.wait(10)
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(canvas.scene.nodes_rect())
    zoom_before = view.transform().m11()
    wheel = QWheelEvent(QPointF(100, 100), QPointF(view.mapToGlobal(QPoint(100, 100))), QPoint(0, 0),
                        QPoint(0, 120), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), wheel)
    zoomed = view.transform().m11()
    assert zoomed != zoom_before
    view.resize(900, 600)
    qtbot.wait(10)
    assert view.transform().m11() == zoomed  # the user's zoom is kept
