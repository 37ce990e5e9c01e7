"""Issue 13: a dropped or inserted layer lands on a free spot, never on its neighbours."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF

from nnstudio.ui.editor import style
from nnstudio.ui.editor.placement import GAP, free_corner
from tests.helpers import mlp


def overlapping(canvas) -> list[tuple[str, str]]:
    """Pairs of nodes whose boxes touch or overlap."""
    items = list(canvas.scene.nodes.values())
    pairs = []
    for index, first in enumerate(items):
        for second in items[index + 1 :]:
            if first.sceneBoundingRect().intersects(second.sceneBoundingRect()):
                pairs.append((first.node_id, second.node_id))
    return pairs


def test_a_layer_dropped_onto_a_node_lands_beside_it(make_canvas):
    canvas = make_canvas(mlp().project)
    canvas.view.fit_to_window()
    assert overlapping(canvas) == []
    target = canvas.scene.nodes[canvas.node_named("relu")]
    canvas.drop("Dropout", target.sceneBoundingRect().center())
    assert len(canvas.document.graph.nodes) == 6
    assert overlapping(canvas) == []


def test_a_layer_inserted_into_a_short_link_does_not_cover_its_ends(make_canvas):
    canvas = make_canvas(mlp().project)
    canvas.view.fit_to_window()
    assert overlapping(canvas) == []
    edge = next(iter(canvas.scene.edges.values()))
    canvas.drop("ReLU", edge.midpoint())
    assert edge.edge_id not in canvas.document.graph.edges  # it went into the link
    assert overlapping(canvas) == []


def test_repeated_placements_at_one_point_never_stack(canvas):
    for _ in range(6):
        canvas.view.add_node_at_center("Linear")
    assert len(canvas.document.graph.nodes) == 6
    assert overlapping(canvas) == []


def test_free_corner_keeps_the_gap_and_stays_near():
    taken = [QRectF(0, 0, style.NODE_WIDTH, 100)]
    corner = free_corner(QPointF(0, 0), (style.NODE_WIDTH, 100), taken)
    box = QRectF(corner, taken[0].size())
    assert not box.intersects(taken[0].adjusted(-GAP, -GAP, GAP, GAP))
    assert abs(corner.x()) + abs(corner.y()) <= style.NODE_WIDTH + 2 * GAP + 100
    assert free_corner(QPointF(400, 0), (style.NODE_WIDTH, 100), taken) == QPointF(400, 0)
