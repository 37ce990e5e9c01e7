"""Build Input → Linear → ReLU → Linear → Output with palette drops and port drags, as a user would."""

from __future__ import annotations

from itertools import pairwise

from PySide6.QtCore import QPoint, QPointF, Qt

from nnstudio.analysis import can_connect
from nnstudio.model import Endpoint, Node, new_id
from nnstudio.model.builder import GraphBuilder
from nnstudio.ui.commands import SetParamCommand
from nnstudio.ui.editor.items import PortState

LAYERS = ["Input", "Linear", "ReLU", "Linear", "Output"]


def build_mlp(canvas) -> list[str]:
    for index, layer in enumerate(LAYERS):
        canvas.drop(layer, QPointF(index * 200.0, 0.0))
    ids = list(canvas.document.graph.nodes)
    for source, target in pairwise(ids):
        canvas.link(source, target)
    return ids


def test_drops_and_port_drags_build_the_network(canvas):
    ids = build_mlp(canvas)
    graph = canvas.document.graph
    assert [graph.nodes[i].type for i in ids] == LAYERS
    assert [graph.nodes[i].name for i in ids] == ["input", "linear", "relu", "linear_1", "output"]
    links = [(e.source, e.target) for e in graph.edges.values()]
    assert links == [(Endpoint(a, "out"), Endpoint(b, "in")) for a, b in pairwise(ids)]
    canvas.settle()
    assert canvas.document.analysis.ok
    canvas.document.push(SetParamCommand(canvas.document, ids[3], "out_features", 3))
    canvas.settle()
    shown = [canvas.scene.nodes[i].shape_text for i in ids]
    assert shown == ["[N, 2]", "[N, 64]", "[N, 64]", "[N, 3]", "[N, 3]"]
    labels = [item.label for item in canvas.scene.edges.values()]
    assert labels == ["2", "64", "64", "3"]
    assert "→ [N, 3]" in canvas.scene.nodes[ids[3]].text_lines()
    assert "out_features = 3" in canvas.scene.nodes[ids[3]].text_lines()
    assert canvas.messages[-1].startswith("Connected linear_1.out → output.in")


def test_drops_snap_to_the_grid_and_select_the_new_node(canvas):
    canvas.drop("Linear", QPointF(133.0, 71.0))
    node = next(iter(canvas.document.graph.nodes.values()))
    assert node.position[0] % 20 == 0 and node.position[1] % 20 == 0
    assert canvas.view.selected_node_ids() == [node.id]


def test_a_refused_link_says_why(canvas):
    ids = build_mlp(canvas)
    before = canvas.dump()
    graph, registry = canvas.document.graph, canvas.document.registry
    reason = can_connect(graph, registry, Endpoint(ids[3], "out"), Endpoint(ids[1], "in")).reason
    canvas.link(ids[3], ids[1])
    assert canvas.messages[-1] == f"Cannot connect: {reason}"
    assert "already has an input" in reason
    assert canvas.dump() == before


def test_a_link_that_would_close_a_cycle_is_refused(canvas):
    for index, layer in enumerate(["Input", "Add", "ReLU"]):
        canvas.drop(layer, QPointF(index * 200.0, 0.0))
    x, add, relu = canvas.document.graph.nodes
    canvas.link(x, add, "inputs")
    canvas.link(add, relu)
    canvas.link(relu, add, "inputs")
    assert "cycle" in canvas.messages[-1]
    assert len(canvas.document.graph.edges) == 2


def test_dropping_a_link_on_empty_canvas_makes_nothing_and_says_so(canvas):
    canvas.drop("Input", QPointF(0.0, 0.0))
    (node_id,) = canvas.document.graph.nodes
    start = canvas.port(node_id, "out", False).scenePos()
    canvas.drag(start, start + QPointF(150.0, 200.0))
    assert not canvas.document.graph.edges
    assert canvas.messages[-1] == "No link made: release it on an input port."


def test_links_can_be_drawn_backwards_and_onto_a_node_body(canvas):
    canvas.drop("Input", QPointF(0.0, 0.0))
    canvas.drop("ReLU", QPointF(260.0, 0.0))
    canvas.drop("Output", QPointF(520.0, 0.0))
    x, relu, out = canvas.document.graph.nodes
    canvas.drag(canvas.port(relu, "in", True).scenePos(), canvas.port(x, "out", False).scenePos())
    canvas.drag(canvas.port(relu, "out", False).scenePos(), canvas.node_centre(out))
    edges = [(e.source, e.target) for e in canvas.document.graph.edges.values()]
    assert edges == [(Endpoint(x, "out"), Endpoint(relu, "in")), (Endpoint(relu, "out"), Endpoint(out, "in"))]


def test_compatible_ports_highlight_while_a_link_is_dragged(canvas, qtbot):
    canvas.drop("Input", QPointF(0.0, 0.0))
    canvas.drop("Linear", QPointF(260.0, 0.0))
    canvas.drop("Input", QPointF(0.0, 200.0))
    x, fc, _ = canvas.document.graph.nodes
    viewport = canvas.view.viewport()
    start = canvas.point(canvas.port(x, "out", False).scenePos())
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(viewport, start + QPoint(40, 0))
    target = canvas.port(fc, "in", True)
    qtbot.waitUntil(lambda: target.state is not PortState.NORMAL, timeout=2000)
    assert target.state is PortState.COMPATIBLE
    qtbot.mouseMove(viewport, canvas.point(target.scenePos()))
    assert target.state is PortState.TARGET
    assert canvas.messages[-1] == "Release to connect input.out → linear.in"
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=canvas.point(target.scenePos()))
    assert target.state is PortState.NORMAL
    assert len(canvas.document.graph.edges) == 1


def test_badges_tooltips_and_unknown_layers(make_canvas):
    b = GraphBuilder()
    x = b.add("Input", shape=[4])
    fc = b.add("Linear", out_features=2)
    side = b.add("ReLU", "side")
    b.chain(x, fc, b.add("Output"))
    b.link(x, side)  # its result never reaches the Output: a warning
    ghost = b.graph.add_node(Node(new_id(), "FancyPluginLayer", "ghost", {"k": 1})).id
    b.link(x, ghost)
    canvas = make_canvas(b.project)
    scene = canvas.scene
    spec = canvas.document.registry["Linear"]
    assert scene.nodes[fc].toolTip() == spec.tooltip
    assert not scene.nodes[fc].badge.isVisible()
    amber = scene.nodes[side].badge
    assert amber.isVisible() and not amber.is_error
    assert amber.toolTip() == "• side: its result never reaches an Output or a loss"
    red = scene.nodes[ghost].badge
    assert red.isVisible() and red.is_error and "unknown layer type 'FancyPluginLayer'" in red.toolTip()
    assert list(scene.nodes[ghost].inputs) == ["in"]  # ports of an unknown type come from its links
    assert "FancyPluginLayer" in scene.nodes[ghost].toolTip()
    assert scene.nodes[fc].inputs["in"].toolTip().startswith("in: input")
    add_spec = canvas.document.registry["Add"]
    canvas.drop("Add", QPointF(0, 400))
    add_port = scene.nodes[canvas.node_named("add")].inputs["inputs"]
    assert add_port.multi and "accepts 2 or more links" in add_port.toolTip()
    assert add_spec.inputs[0].multi
