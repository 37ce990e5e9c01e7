"""Structural checks: layer types, params, ports and topology (through networkx)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from nnstudio.analysis.diagnostics import Diagnostic, error, warning
from nnstudio.analysis.index import GraphIndex, index_for
from nnstudio.layers.registry import Registry
from nnstudio.layers.spec import LayerSpec
from nnstudio.model.graph import Edge, Graph, Node


@dataclass
class Structure:
    """What later passes need: resolved specs and params, wiring per port, and a topological order."""

    specs: dict[str, LayerSpec] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    bad_params: set[str] = field(default_factory=set)
    incoming: dict[str, dict[str, list[Edge]]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # empty when the graph has a cycle
    digraph: nx.DiGraph = field(default_factory=nx.DiGraph)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def check_structure(graph: Graph, registry: Registry) -> Structure:
    index = index_for(graph, registry)
    result = Structure(specs=index.specs, digraph=index.digraph)
    for node in graph.nodes.values():
        _check_node(node, index, result)
    _check_edges(graph, index, result)
    _check_arity(graph, result)
    _check_topology(graph, result)
    return result


def _check_node(node: Node, index: GraphIndex, result: Structure) -> None:
    resolved = index.params.get(node.id)
    if resolved is None:
        result.diagnostics.append(
            error("unknown-layer", f"{node.name}: unknown layer type {node.type!r} (kept as a placeholder; "
                  "install the plugin that provides it or replace the node)", node_id=node.id)
        )
        return
    params, problems = resolved
    result.params[node.id] = params
    for param, message in problems:
        result.bad_params.add(node.id)
        result.diagnostics.append(
            error("bad-param", f"{node.name}.{param}: {message}", node_id=node.id, param=param)
        )


def _check_edges(graph: Graph, index: GraphIndex, result: Structure) -> None:
    """Keep only edges whose ports exist; the index already groups them by target port."""
    nodes, specs = graph.nodes, index.specs
    for edge_id in index.bad_source_ports:
        edge = graph.edges[edge_id]
        result.diagnostics.append(error(
            "bad-port", f"{nodes[edge.source.node].name} has no output port {edge.source.port!r}",
            node_id=edge.source.node, port=edge.source.port))
    for target_id, ports in index.wiring.items():
        target_spec = specs.get(target_id)
        if target_spec is not None and not ports.keys() <= target_spec.input_names:
            for port in ports.keys() - target_spec.input_names:
                result.diagnostics.append(error(
                    "bad-port", f"{nodes[target_id].name} has no input port {port!r}",
                    node_id=target_id, port=port))
            ports = {p: e for p, e in ports.items() if p in target_spec.input_names}
        if index.bad_source_ports:
            ports = {p: kept for p, e in ports.items()
                     if (kept := [x for x in e if x.id not in index.bad_source_ports])}
        result.incoming[target_id] = ports


def _check_arity(graph: Graph, result: Structure) -> None:
    for node_id, spec in result.specs.items():
        name = graph.nodes[node_id].name
        wired = result.incoming.get(node_id, {})
        for port in spec.inputs:
            count = len(wired.get(port.name, ()))
            if count == 0 and port.optional:
                continue
            if count == 0:
                result.diagnostics.append(error(
                    "unconnected-input", f"{name}.{port.name}: required input is not connected",
                    node_id=node_id, port=port.name))
            elif port.multi and count < port.min_count:
                result.diagnostics.append(error(
                    "too-few-inputs", f"{name}.{port.name}: needs at least {port.min_count} inputs, has {count}",
                    node_id=node_id, port=port.name))
            elif not port.multi and count > 1:
                result.diagnostics.append(error(
                    "too-many-inputs", f"{name}.{port.name}: accepts one input, has {count}",
                    node_id=node_id, port=port.name))


def _check_topology(graph: Graph, result: Structure) -> None:
    digraph = result.digraph
    try:
        result.order = list(nx.topological_sort(digraph))
    except nx.NetworkXUnfeasible:
        # Only now pay for find_cycle: on acyclic graphs it is far slower than the sort itself.
        cycle = [u for u, _ in nx.find_cycle(digraph)]
        names = " → ".join(graph.nodes[n].name for n in [*cycle, cycle[0]])
        result.diagnostics.append(error(
            "cycle", f"the graph has a cycle: {names}", node_id=cycle[0], related=tuple(cycle)))
    _check_io_presence(graph, result)
    _check_reachability(graph, result)


def _nodes_with_role(result: Structure, role: str) -> list[str]:
    return [node_id for node_id, spec in result.specs.items() if spec.role == role]


def _check_io_presence(graph: Graph, result: Structure) -> None:
    if not graph.nodes:
        result.diagnostics.append(error("empty", "the graph is empty: add an Input, some layers and an Output"))
        return
    if not _nodes_with_role(result, "input"):
        result.diagnostics.append(error("no-input", "the graph has no Input node"))
    if not _nodes_with_role(result, "output"):
        result.diagnostics.append(error("no-output", "the graph has no Output node"))


def _check_reachability(graph: Graph, result: Structure) -> None:
    """Fed from an Input or a Target, and useful to an Output or a loss: two sweeps over the topological order."""
    inputs, outputs = _nodes_with_role(result, "input"), _nodes_with_role(result, "output")
    if not inputs or not outputs or not result.order:
        return
    targets = _nodes_with_role(result, "target")
    _check_target_leaks(graph, result, targets, outputs)
    inputs += targets
    outputs += _nodes_with_role(result, "loss")
    sources = {target: [e.source.node for edges in ports.values() for e in edges]
               for target, ports in result.incoming.items()}
    fed = set(inputs)
    for node_id in result.order:
        if node_id not in fed and any(s in fed for s in sources.get(node_id, ())):
            fed.add(node_id)
    useful = set(outputs)
    for node_id in reversed(result.order):
        if node_id in useful:
            useful.update(sources.get(node_id, ()))
    for node_id, node in graph.nodes.items():
        if node_id not in fed:
            result.diagnostics.append(error(
                "unreachable", f"{node.name}: not reachable from any Input", node_id=node_id))
        elif node_id not in useful:
            result.diagnostics.append(warning(
                "dead-end", f"{node.name}: its result never reaches an Output or a loss", node_id=node_id))


def _check_target_leaks(graph: Graph, result: Structure, targets: list[str], outputs: list[str]) -> None:
    """An Output computed from a Target could not run after training, when there are no targets to read."""
    if not targets:
        return
    sources = {target: [e.source.node for edges in ports.values() for e in edges]
               for target, ports in result.incoming.items()}
    origin: dict[str, str] = {t: t for t in targets}
    for node_id in result.order:
        fed_by = next((origin[s] for s in sources.get(node_id, ()) if s in origin), None)
        if fed_by is not None and node_id not in origin:
            origin[node_id] = fed_by
    for node_id in outputs:
        if node_id in origin:
            target = graph.nodes[origin[node_id]].name
            result.diagnostics.append(error(
                "target-in-model", f"{graph.nodes[node_id].name}: is computed from Target '{target}', which only "
                "exists while training; feed Targets to loss nodes only", node_id=node_id, related=(origin[node_id],)))
