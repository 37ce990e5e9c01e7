"""Notes and frames on the canvas, driven with real mouse and key events; every edit is one undo step."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt

from nnstudio.io import dumps, loads
from nnstudio.ui.editor.comments import CommentItem
from tests.helpers import mlp


def only_comment(canvas) -> CommentItem:
    (item,) = canvas.scene.comment_layer.items.values()
    return item


def double_click(canvas, item: CommentItem) -> None:
    canvas.view.activateWindow()
    canvas.view.setFocus()
    canvas.qtbot.waitUntil(canvas.view.hasFocus, timeout=2000)
    canvas.qtbot.mouseDClick(canvas.view.viewport(), Qt.MouseButton.LeftButton,
                             pos=canvas.point(item.sceneBoundingRect().center()))
    assert item.label.hasFocus()


def test_a_note_is_added_edited_in_place_and_undone(canvas, qtbot):
    canvas.view.add_comment("note")
    item = only_comment(canvas)
    assert item.comment.text == "Note" and item.comment.kind == "note"
    double_click(canvas, item)
    qtbot.keyClick(canvas.view.viewport(), Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(canvas.view.viewport(), "input is 2-D points")
    item.label.clearFocus()
    assert item.comment.text == "input is 2-D points"
    stack = canvas.document.undo_stack
    assert stack.undoText() == "Edit note text"
    stack.undo()
    assert only_comment(canvas).comment.text == "Note" and only_comment(canvas).label.toPlainText() == "Note"
    stack.undo()
    assert not canvas.scene.comment_layer.items and not len(canvas.document.project.annotations)


def test_escape_leaves_a_note_as_it_was(canvas, qtbot):
    canvas.view.add_comment("note")
    item = only_comment(canvas)
    double_click(canvas, item)
    qtbot.keyClicks(canvas.view.viewport(), "scratch")
    qtbot.keyClick(canvas.view.viewport(), Qt.Key.Key_Escape)
    assert item.comment.text == "Note" and canvas.document.undo_stack.count() == 1


def test_moving_a_frame_carries_the_nodes_it_encloses_in_one_undo_step(make_canvas):
    canvas = make_canvas(mlp().project)
    graph = canvas.document.graph
    relu = canvas.node_named("relu")
    canvas.scene.clearSelection()
    canvas.scene.nodes[relu].setSelected(True)
    canvas.view.add_comment("frame")
    frame = only_comment(canvas)
    assert frame.comment.kind == "frame" and frame.comment.contains(graph.nodes[relu].position)
    outside = [n for n in graph.nodes if n != relu]
    before = {n: graph.nodes[n].position for n in graph.nodes}
    before_frame = frame.comment.position
    title = frame.scenePos() + QPointF(frame.rect().width() - 40, 12)  # on the frame, clear of the node
    canvas.drag(title, title + QPointF(100, 60))
    assert frame.comment.position == (before_frame[0] + 100, before_frame[1] + 60)
    moved = graph.nodes[relu].position
    assert moved == (before[relu][0] + 100, before[relu][1] + 60)
    assert all(graph.nodes[n].position == before[n] for n in outside)
    stack = canvas.document.undo_stack
    assert stack.undoText() == "Move 1 comment and 1 node"
    stack.undo()
    assert graph.nodes[relu].position == before[relu] and frame.comment.position == before_frame


def test_a_frame_is_resized_from_its_corner_and_recoloured_from_its_menu(canvas):
    canvas.view.add_comment("frame")
    frame = only_comment(canvas)
    width, height = frame.comment.size
    corner = frame.mapToScene(frame.handle_rect().center())
    canvas.drag(corner, corner + QPointF(80, 40))
    assert frame.comment.size == (width + 80, height + 40)
    menu = frame.context_menu()
    pink = next(action for action in menu.actions() if action.text() == "Pink")
    pink.trigger()
    assert frame.comment.colour == "#fadadd"
    assert canvas.document.undo_stack.undoText() == "Colour frame"
    menu = frame.context_menu()
    delete = next(action for action in menu.actions() if action.text() == "Delete")
    delete.trigger()
    assert not canvas.scene.comment_layer.items
    canvas.document.undo_stack.undo()
    assert only_comment(canvas).comment.colour == "#fadadd"


def test_delete_removes_selected_comments_with_the_nodes(make_canvas):
    canvas = make_canvas(mlp().project)
    canvas.view.add_comment("note")
    canvas.view.select_all()
    note = only_comment(canvas)
    canvas.click(note.sceneBoundingRect().center(), Qt.KeyboardModifier.ControlModifier)
    assert note.isSelected() and len(canvas.scene.selected_node_items()) == len(canvas.document.graph.nodes)
    canvas.view.delete_selection()
    assert not canvas.document.graph.nodes and not canvas.scene.comment_layer.items
    assert "comment" in canvas.document.undo_stack.undoText()
    canvas.document.undo_stack.undo()
    assert canvas.document.graph.nodes and len(canvas.scene.comment_layer.items) == 1


def test_comments_survive_a_save_and_load(canvas, registry):
    canvas.view.add_comment("note")
    canvas.view.add_comment("frame")
    project = loads(dumps(canvas.document.project, registry), registry)
    kinds = [comment.kind for comment in project.annotations]
    assert kinds == ["note", "frame"]
    assert [c for c in project.annotations] == [c for c in canvas.document.project.annotations]


def test_keys_typed_into_a_note_are_the_notes(make_canvas, qtbot):
    """Space pans the canvas and Backspace deletes the selection, except while a note is being written."""
    canvas = make_canvas(mlp().project)
    canvas.view.select_all()
    corner = canvas.view.mapToScene(QPoint(20, 20))
    canvas.scene.comment_layer.add("note", corner)  # the top-left corner of the view, clear of the nodes
    item = only_comment(canvas)
    double_click(canvas, item)
    qtbot.keyClick(canvas.view.viewport(), Qt.Key.Key_End)
    qtbot.keyClicks(canvas.view.viewport(), " a b")
    qtbot.keyClick(canvas.view.viewport(), Qt.Key.Key_Backspace)
    item.label.clearFocus()
    assert item.comment.text == "Note a " and canvas.document.graph.nodes


def test_a_locked_canvas_refuses_new_comments(canvas):
    canvas.document.lock("a run is training")
    canvas.view.add_comment("note")
    assert not canvas.scene.comment_layer.items


def test_a_note_over_a_port_is_dragged_not_the_port(make_canvas):
    canvas = make_canvas(mlp().project)
    relu = canvas.node_named("relu")
    port = canvas.port(relu, "in", True).scenePos()
    canvas.scene.comment_layer.add("note", port - QPointF(40, 20))
    note = only_comment(canvas)
    assert note.sceneBoundingRect().contains(port)
    start = note.comment.position
    canvas.drag(port, port + QPointF(0, -100))
    assert note.comment.position == (start[0], start[1] - 100)
    assert canvas.scene.interaction is None and canvas.document.undo_stack.undoText() == "Move 1 comment"
