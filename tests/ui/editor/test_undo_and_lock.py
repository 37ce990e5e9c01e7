"""Undo/redo through a run of edits restores exact documents; auto layout; read-only; new document."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt

from nnstudio.model import Endpoint, Project
from nnstudio.ui.commands import RenameNodeCommand, SetParamCommand
from nnstudio.ui.document import Document
from nnstudio.ui.editor.interactions import locked_message
from tests.helpers import mlp


def test_undo_and_redo_through_a_sequence_of_edits_restore_each_state(canvas):
    states = [canvas.dump()]

    def record(action) -> None:
        action()
        states.append(canvas.dump())

    record(lambda: canvas.drop("Input", QPointF(0, 0)))
    record(lambda: canvas.drop("Linear", QPointF(260, 0)))
    record(lambda: canvas.drop("Output", QPointF(520, 0)))
    x, fc, out = canvas.document.graph.nodes
    record(lambda: canvas.link(x, fc))
    record(lambda: canvas.link(fc, out))
    record(lambda: canvas.document.push(SetParamCommand(canvas.document, fc, "out_features", 5)))
    record(lambda: canvas.document.push(RenameNodeCommand(canvas.document, fc, "head")))
    record(lambda: canvas.drop("ReLU", canvas.scene.edges[next(iter(canvas.scene.edges))].midpoint()))
    record(lambda: canvas.drag(canvas.node_centre(out), canvas.node_centre(out) + QPointF(40, 80)))
    record(lambda: (canvas.view.select_nodes([fc]), canvas.view.delete_selection()))
    record(canvas.view.auto_layout)
    stack = canvas.document.undo_stack
    assert stack.count() == len(states) - 1
    for expected in reversed(states[:-1]):
        stack.undo()
        assert canvas.dump() == expected
    assert not canvas.scene.nodes and not canvas.scene.edges
    for expected in states[1:]:
        stack.redo()
        assert canvas.dump() == expected
    canvas.settle()
    items = canvas.scene.nodes
    assert {i: (item.x(), item.y()) for i, item in items.items()} == {
        i: n.position for i, n in canvas.document.graph.nodes.items()}


def test_modified_flag_follows_the_undo_stack(canvas):
    flags = []
    canvas.document.modified_changed.connect(flags.append)
    canvas.drop("Input", QPointF(0, 0))
    assert canvas.document.is_modified()
    canvas.document.undo_stack.undo()
    assert not canvas.document.is_modified()
    assert flags == [True, False]


def test_auto_layout_is_one_undoable_step(make_canvas):
    project = mlp().project
    for index, node_id in enumerate(project.graph.nodes):
        project.graph.move_node(node_id, ((index * 37) % 5 * 90.0, (index * 53) % 7 * 70.0))
    canvas = make_canvas(project)
    before = canvas.dump()
    canvas.view.auto_layout()
    graph = canvas.document.graph
    xs = [node.position[0] for node in graph.nodes.values()]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)  # a chain reads left to right
    assert len({node.position[1] for node in graph.nodes.values()}) == 1  # ... on one row
    assert canvas.document.undo_stack.undoText() == "Auto layout"
    canvas.document.undo_stack.undo()
    assert canvas.dump() == before
    canvas.document.undo_stack.redo()
    canvas.view.auto_layout()
    assert canvas.messages[-1] == "The layout is already tidy."


def test_read_only_refuses_every_edit_with_a_reason(make_canvas, qtbot):
    canvas = make_canvas(mlp().project)
    canvas.view.fit_to_window()
    before = canvas.dump()
    canvas.view.set_read_only(True)
    relu, fc = canvas.node_named("relu"), canvas.node_named("linear")
    attempts = [
        lambda: canvas.drop("ReLU", QPointF(0, 300)),
        lambda: (canvas.view.select_nodes([relu]), canvas.view.delete_selection()),
        lambda: qtbot.keyClick(canvas.view.viewport(), Qt.Key.Key_Delete),
        canvas.view.cut_selection,
        canvas.view.paste,
        canvas.view.duplicate_selection,
        canvas.view.auto_layout,
        lambda: canvas.view.add_node_at_center("ReLU"),
        lambda: canvas.drag(canvas.port(relu, "out", False).scenePos(), canvas.port(fc, "in", True).scenePos()),
        lambda: canvas.drag(canvas.node_centre(relu), canvas.node_centre(relu) + QPointF(60, 60)),
    ]
    for attempt in attempts:
        canvas.messages.clear()
        attempt()
        assert canvas.messages == [locked_message()]
    assert canvas.dump() == before
    assert canvas.document.undo_stack.count() == 0
    canvas.view.copy_selection()  # reading is still allowed
    assert canvas.view.selected_node_ids() == [relu]
    canvas.view.set_read_only(False)
    canvas.view.delete_selection()
    assert relu not in canvas.document.graph.nodes


def test_set_document_replaces_the_scene(canvas, registry):
    canvas.drop("Input", QPointF(0, 0))
    old_document = canvas.document
    old_scene = canvas.scene
    selections = []
    canvas.view.selection_changed.connect(selections.append)
    fresh = Document(mlp().project, registry)
    canvas.view.set_document(fresh)
    assert canvas.view.document is fresh
    assert canvas.view.scene() is not old_scene
    assert set(canvas.scene.nodes) == set(fresh.graph.nodes)
    assert selections[-1] == []
    old_document.graph.clear()  # the old document no longer reaches the canvas
    assert set(canvas.scene.nodes) == set(fresh.graph.nodes)
    canvas.drop("ReLU", QPointF(0, 300))
    assert len(fresh.graph.nodes) == 6 and not old_document.graph.nodes


def test_problems_are_marked_on_nodes_and_links(make_canvas):
    canvas = make_canvas(Project())
    canvas.drop("Input", QPointF(0, 0))
    canvas.drop("Conv2d", QPointF(260, 0))
    x, conv = canvas.document.graph.nodes
    canvas.document.push(SetParamCommand(canvas.document, x, "shape", [3, 16, 16]))
    canvas.settle()
    canvas.link(x, conv)
    edge = next(iter(canvas.scene.edges.values()))
    canvas.settle()
    assert not edge.has_problem and edge.label == "3×16×16"
    assert edge.toolTip() == "input.out → conv2d.in: [N, 3, 16, 16]"
    canvas.document.push(SetParamCommand(canvas.document, x, "shape", [8]))  # now conv2d cannot take it
    canvas.settle()
    mismatch = [d for d in canvas.document.analysis.diagnostics if d.code == "shape-mismatch"]
    assert [d.node_id for d in mismatch] == [conv]
    assert edge.has_problem
    assert edge.toolTip() == f"input.out → conv2d.in: [N, 8]\n{mismatch[0].message}"
    badge = canvas.scene.nodes[conv].badge
    assert badge.isVisible() and badge.is_error
    assert mismatch[0].message in badge.toolTip()
    assert canvas.scene.nodes[conv].shape_text == ""  # nothing is inferred past the problem
    canvas.document.undo_stack.undo()
    canvas.settle()
    assert not edge.has_problem
    assert not badge.isVisible()
    assert canvas.scene.nodes[conv].shape_text == "[N, 16, 14, 14]"


def test_links_inside_a_cycle_are_marked(make_canvas):
    b = mlp()
    relu = b.graph.node_by_name("relu").id
    fc1 = b.graph.node_by_name("linear_1").id
    b.graph.connect(Endpoint(fc1, "out"), Endpoint(relu, "in"))  # files may hold what the canvas refuses
    canvas = make_canvas(b.project)
    marked = {(e.source.node_item.node_id, e.target.node_item.node_id)
              for e in canvas.scene.edges.values() if e.has_problem}
    assert (fc1, relu) in marked and (relu, fc1) in marked
    inside = [e for e in canvas.scene.edges.values()
              if {e.source.node_item.node_id, e.target.node_item.node_id} == {relu, fc1}]
    assert len(inside) == 2 and all("the graph has a cycle" in e.toolTip() for e in inside)
    assert canvas.scene.nodes[relu].badge.is_error


def test_escape_cancels_a_link_drag(make_canvas, qtbot):
    canvas = make_canvas(mlp().project)
    x = canvas.node_named("input")
    viewport = canvas.view.viewport()
    start = canvas.point(canvas.port(x, "out", False).scenePos())
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(viewport, start + QPoint(80, 120))
    assert canvas.scene.interaction is not None
    preview = canvas.scene.interaction.preview
    canvas.view.setFocus()
    qtbot.keyClick(canvas.view, Qt.Key.Key_Escape)
    assert canvas.scene.interaction is None and preview.scene() is None
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=start + QPoint(80, 120))
    assert canvas.document.undo_stack.count() == 0
