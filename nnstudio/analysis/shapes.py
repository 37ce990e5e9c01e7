"""Shape inference: a side table of tensor types per output port, never written into the document."""

from __future__ import annotations

from dataclasses import dataclass, field

from nnstudio.analysis.diagnostics import Diagnostic, error
from nnstudio.analysis.structure import Structure
from nnstudio.layers.spec import Inputs, ShapeError, TensorType
from nnstudio.model.graph import Edge, Graph


@dataclass
class ShapeTable:
    """Output types keyed by (node id, port). Nodes downstream of a problem simply have no entry."""

    outputs: dict[tuple[str, str], TensorType] = field(default_factory=dict)

    def of(self, node_id: str, port: str = "out") -> TensorType | None:
        return self.outputs.get((node_id, port))

    def of_edge(self, edge: Edge) -> TensorType | None:
        return self.outputs.get((edge.source.node, edge.source.port))

    def input_types(self, structure: Structure, node_id: str) -> Inputs | None:
        """The types arriving at each input port of a node, or None if any is unknown."""
        by_port: dict[str, list[TensorType]] = {}
        for port, edges in structure.incoming.get(node_id, {}).items():
            types = [self.outputs.get((e.source.node, e.source.port)) for e in edges]
            if any(t is None for t in types):
                return None
            by_port[port] = types  # type: ignore[assignment]
        return Inputs(by_port)


def infer_types(graph: Graph, structure: Structure) -> tuple[ShapeTable, list[Diagnostic]]:
    table = ShapeTable()
    problems: list[Diagnostic] = []
    blocked = structure.bad_params | {d.node_id for d in structure.diagnostics
                                      if d.is_error and d.code in _BLOCKING and d.node_id}
    for node_id in structure.order:
        spec = structure.specs.get(node_id)
        if spec is None or node_id in blocked:
            continue
        inputs = table.input_types(structure, node_id)
        if inputs is None:
            continue
        try:
            out = spec.infer(structure.params[node_id], inputs)
        except ShapeError as exc:
            problems.append(_mismatch(graph, structure, node_id, exc))
            continue
        except Exception as exc:  # a plugin's shape rule may fail in any way; report, don't crash
            name = graph.nodes[node_id].name
            problems.append(error("shape-rule-failed", f"{name}: shape rule of {spec.type} failed: {exc}",
                                  node_id=node_id))
            continue
        if len(spec.outputs) > 1:
            for port, port_type in zip(spec.outputs, out):
                table.outputs[(node_id, port.name)] = port_type
        elif spec.outputs:
            table.outputs[(node_id, spec.outputs[0].name)] = out
        else:
            table.outputs[(node_id, "")] = out  # an Output records what it returns, a loss node its scalar
    return table, problems


_BLOCKING = {"unconnected-input", "too-few-inputs", "too-many-inputs", "bad-port"}


def _mismatch(graph: Graph, structure: Structure, node_id: str, exc: ShapeError) -> Diagnostic:
    """Name both ends: the node that refuses the shape and the node(s) that produced it."""
    node = graph.nodes[node_id]
    port = exc.port
    sources: list[str] = []
    if port is not None:
        sources = [e.source.node for e in structure.incoming.get(node_id, {}).get(port, [])]
    origin = ", ".join(graph.nodes[s].name for s in sources)
    where = f"{node.name}.{port}" if port else node.name
    suffix = f" (from {origin})" if origin else ""
    return error("shape-mismatch", f"{where}: {exc}{suffix}", node_id=node_id, port=port,
                 related=tuple(sources))
