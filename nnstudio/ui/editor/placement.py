"""Placing new layers: the node a palette entry creates, and whether it may split a link."""

from __future__ import annotations

from nnstudio.analysis import Verdict
from nnstudio.layers.registry import Registry
from nnstudio.layers.spec import Inputs, ShapeError
from nnstudio.model import Node, new_id
from nnstudio.ui.document import Document


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
