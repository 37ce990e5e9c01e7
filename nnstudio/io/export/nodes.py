"""Map the compiled fx graph back to the user's graph nodes, so errors can name the node at fault.

Module nodes are easy (CompiledModel.modules_of). Function nodes (Add, Concat...) are not: the
compiler emits each graph node's fx nodes in turn through its EmitContext, so replaying every
layer's emitter against a counting context tells how many fx nodes belong to each graph node.
"""

from __future__ import annotations

import contextlib
from typing import Any

import networkx as nx
from torch import fx

from nnstudio.compile import CompiledModel
from nnstudio.layers.spec import Construct, Inputs
from nnstudio.model.graph import Graph


class _Counter:
    """An EmitContext that only counts what a layer would add to the fx graph."""

    def __init__(self) -> None:
        self.count = 0

    def module(self, construct: Construct, *args: Any, **kwargs: Any) -> object:
        return self._one()

    def function(self, target: str, *args: Any, **kwargs: Any) -> object:
        return self._one()

    def method(self, name: str, *args: Any, **kwargs: Any) -> object:
        return self._one()

    def _one(self) -> object:
        self.count += 1
        return object()


META_KEY = "nnstudio_node"  # set by the compiler on fx nodes when it records their graph node id


def fx_owners(compiled: CompiledModel, graph: Graph) -> dict[str, str]:
    """fx node name -> graph node name. Uses recorded metadata, else replays the emitters in the
    compiler's candidate orders and keeps the one that agrees with every module's owner."""
    tagged = {n.name: graph.nodes[n.meta[META_KEY]].name for n in compiled.module.graph.nodes
              if n.meta.get(META_KEY) in graph.nodes}
    owners = _owners_by_module(compiled, graph)
    owners.update(tagged)
    for order in _candidate_orders(compiled, graph):
        replayed = _owners_by_replay(compiled, graph, order)
        if replayed is not None and all(replayed.get(k) == v for k, v in owners.items()):
            return replayed
    return owners


def _candidate_orders(compiled: CompiledModel, graph: Graph) -> list[list[str]]:
    """Insertion-order ties first (how the compiler reads the graph), then the analysis order."""
    structure = compiled.analysis.structure
    position = {node_id: index for index, node_id in enumerate(graph.nodes)}
    orders = []
    with contextlib.suppress(nx.NetworkXUnfeasible, KeyError):
        orders.append(list(nx.lexicographical_topological_sort(structure.digraph, key=position.__getitem__)))
    orders.append(list(structure.order))
    return orders


def _owners_by_module(compiled: CompiledModel, graph: Graph) -> dict[str, str]:
    owners = {}
    for fx_node in compiled.module.graph.nodes:
        if fx_node.op == "call_module":
            node_id = compiled.node_of_module(str(fx_node.target))
            if node_id is not None:
                owners[fx_node.name] = graph.nodes[node_id].name
        elif fx_node.op == "placeholder":
            owners[fx_node.name] = str(fx_node.target)
    return owners


def _owners_by_replay(compiled: CompiledModel, graph: Graph, order: list[str]) -> dict[str, str] | None:
    structure, shapes = compiled.analysis.structure, compiled.analysis.shapes
    counts: list[tuple[str, int]] = []
    for node_id in order:
        spec = structure.specs[node_id]
        if spec.role != "layer":
            continue
        types = shapes.input_types(structure, node_id)
        if types is None or spec.emit is None:
            return None
        values = Inputs({port: [object() for _ in edges]
                         for port, edges in structure.incoming.get(node_id, {}).items()})
        counter = _Counter()
        try:
            spec.emit(counter, structure.params[node_id], values, types)
        except Exception:  # a layer whose emitter inspects its values: keep the module-based map
            return None
        counts.append((graph.nodes[node_id].name, counter.count))
    body = [n for n in compiled.module.graph.nodes if n.op not in ("placeholder", "output")]
    if sum(c for _, c in counts) != len(body):
        return None
    owners = {n.name: str(n.target) for n in compiled.module.graph.nodes if n.op == "placeholder"}
    position = 0
    for name, count in counts:
        for fx_node in body[position:position + count]:
            owners[fx_node.name] = name
        position += count
    return owners


def describe(fx_node: fx.Node, owners: dict[str, str]) -> str:
    """'node linear_1' or, for an fx node we cannot place, what it computes."""
    owner = owners.get(fx_node.name)
    if owner is not None:
        return f"node {owner!r}"
    return f"operation {fx_node.name!r} ({fx_node.op} {fx_node.target})"
