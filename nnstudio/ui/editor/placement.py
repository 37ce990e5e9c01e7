"""Placing new layers: the node a palette entry creates, where it fits, and whether it may split a link.

A dropped or inserted layer lands where it was dropped when there is room, else on the nearest free
grid spot: never on top of (or touching) a neighbour, so it never has to be dragged off one to be read.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QPointF, QRectF

from nnstudio.analysis import Verdict
from nnstudio.layers.registry import Registry
from nnstudio.layers.spec import Inputs, ShapeError
from nnstudio.model import Node, new_id
from nnstudio.ui.document import Document
from nnstudio.ui.editor import style
from nnstudio.ui.editor.face import frame_height

GAP = style.GRID  # the least room left between a new node and its neighbours
SEARCH_RINGS = 30  # grid steps searched around the drop point before giving up (the point is used then)


def make_node(document: Document, layer_type: str, position: tuple[float, float]) -> Node:
    """A node of a registered type with its defaults and a free name; raises KeyError if unknown."""
    spec = document.registry[layer_type]
    name = document.graph.unique_name(spec.type)
    return Node(new_id(), spec.type, name, spec.defaults(), (float(position[0]), float(position[1])))


def insertion_verdict(document: Document, edge_id: str, layer_type: str) -> Verdict:
    """Can a new layer of this type sit inside the link? It needs one input and an output, and,
    when the link's shape is known, its shape rule must accept that shape."""
    registry: Registry = document.registry
    spec = registry.get(layer_type)
    if spec is None:
        return Verdict(False, f"{layer_type} is not a known layer type")
    if not spec.outputs:
        return Verdict(False, f"{spec.title} has no output, so it cannot sit inside a link")
    if len(spec.inputs) != 1:
        return Verdict(False, f"{spec.title} takes {len(spec.inputs)} inputs; a link can feed only one")
    port = spec.inputs[0]
    if port.multi and port.min_count > 1:
        return Verdict(False, f"{spec.title} needs at least {port.min_count} inputs; a link brings one")
    edge = document.graph.edges.get(edge_id)
    if edge is None:
        return Verdict(False, "that link no longer exists")
    arriving = document.analysis.shapes.of_edge(edge)
    if arriving is None:
        return Verdict(True)
    params, problems = spec.resolve_params(spec.defaults())
    if problems:
        return Verdict(True)
    try:
        spec.infer(params, Inputs({port.name: [arriving]}))
    except ShapeError as exc:
        return Verdict(False, f"{spec.title} {exc}")
    except Exception:  # a plugin's shape rule may fail in any way; let analysis report it later
        return Verdict(True)
    return Verdict(True)


def node_size(document: Document, layer_type: str) -> tuple[float, float]:
    """The box a new node of this type will have (the canvas sizes it the same way)."""
    spec = document.registry.get(layer_type)
    return style.NODE_WIDTH, frame_height(spec, len(spec.inputs) if spec is not None else 1)


def free_corner(corner: QPointF, size: tuple[float, float], occupied: Iterable[QRectF],
                grid: float = style.GRID) -> QPointF:
    """The grid point nearest `corner` where a box of `size` keeps GAP clear of every occupied rectangle."""
    width, height = size
    reach = SEARCH_RINGS * grid
    window = QRectF(corner.x() - reach - width, corner.y() - reach - height, 2 * (reach + width),
                    2 * (reach + height))
    near = [r.adjusted(-GAP, -GAP, GAP, GAP) for r in occupied if r.intersects(window)]

    def fits(x: float, y: float) -> bool:
        box = QRectF(x, y, width, height)
        return not any(r.intersects(box) for r in near)

    if fits(corner.x(), corner.y()):
        return QPointF(corner)
    for ring in range(1, SEARCH_RINGS + 1):
        spots = [(dx, dy) for dx in range(-ring, ring + 1) for dy in range(-ring, ring + 1)
                 if max(abs(dx), abs(dy)) == ring]
        spots.sort(key=lambda d: (d[0] ** 2 + d[1] ** 2, abs(d[1]), -d[0]))  # nearest; along the row; rightwards
        for dx, dy in spots:
            x, y = corner.x() + dx * grid, corner.y() + dy * grid
            if fits(x, y):
                return QPointF(x, y)
    return QPointF(corner)
