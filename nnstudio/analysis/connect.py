"""can_connect(): the answer the editor shows while a link is dragged (ok, or why not)."""

from __future__ import annotations

from dataclasses import dataclass

from nnstudio.analysis.shapes import ShapeTable
from nnstudio.layers.registry import Registry
from nnstudio.layers.spec import Inputs, ShapeError, TensorType
from nnstudio.model.graph import Endpoint, Graph


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


def can_connect(graph: Graph, registry: Registry, source: Endpoint, target: Endpoint,
                shapes: ShapeTable | None = None) -> Verdict:
    """Would an edge from an output port to an input port be accepted? Cheap enough per mouse move."""
    if source.node not in graph.nodes or target.node not in graph.nodes:
        return Verdict(False, "one end of the link no longer exists")
    src, dst = graph.nodes[source.node], graph.nodes[target.node]
    src_spec, dst_spec = registry.get(src.type), registry.get(dst.type)
    if src_spec is None or dst_spec is None:
        return Verdict(False, f"{(src if src_spec is None else dst).name} is an unknown layer type")
    if src.id == dst.id:
        return Verdict(False, f"{src.name} cannot feed itself")
    if src_spec.output_port(source.port) is None:
        return Verdict(False, f"{src.name}.{source.port} is not an output port")
    port = dst_spec.input_port(target.port)
    if port is None:
        return Verdict(False, f"{dst.name}.{target.port} is not an input port")
    incoming = [e for e in graph.incoming(dst.id) if e.target.port == target.port]
    if any(e.source == source for e in incoming):
        return Verdict(False, f"{src.name} is already connected to {dst.name}.{target.port}")
    if incoming and not port.multi:
        return Verdict(False, f"{dst.name}.{target.port} already has an input; remove that link first")
    if _reaches(graph, dst.id, src.id):
        return Verdict(False, f"linking {src.name} → {dst.name} would create a cycle")
    return _shape_verdict(graph, registry, source, target, shapes)


def _reaches(graph: Graph, start: str, goal: str) -> bool:
    successors: dict[str, list[str]] = {}
    for edge in graph.edges.values():
        successors.setdefault(edge.source.node, []).append(edge.target.node)
    stack, seen = [start], {start}
    while stack:
        current = stack.pop()
        if current == goal:
            return True
        for nxt in successors.get(current, ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def _shape_verdict(graph: Graph, registry: Registry, source: Endpoint, target: Endpoint,
                   shapes: ShapeTable | None) -> Verdict:
    """Refuse only what is certainly wrong: run the target's shape rule when all its inputs are known."""
    if shapes is None:
        return Verdict(True)
    arriving = shapes.of(source.node, source.port)
    if arriving is None:
        return Verdict(True)
    dst = graph.nodes[target.node]
    spec = registry[dst.type]
    by_port: dict[str, list[TensorType]] = {}
    for edge in graph.incoming(dst.id):
        known = shapes.of_edge(edge)
        if known is None:
            return Verdict(True)
        by_port.setdefault(edge.target.port, []).append(known)
    by_port.setdefault(target.port, []).append(arriving)
    for port in spec.inputs:
        if not port.optional and len(by_port.get(port.name, [])) < (port.min_count if port.multi else 1):
            return Verdict(True)  # still incomplete: judge it once the last input arrives
    params, problems = spec.resolve_params(dst.params)
    if problems:
        return Verdict(True)
    try:
        spec.infer(params, Inputs(by_port))
    except ShapeError as exc:
        return Verdict(False, f"{dst.name} {exc}")
    except Exception:
        return Verdict(True)
    return Verdict(True)
