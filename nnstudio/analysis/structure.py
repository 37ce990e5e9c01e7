"""Structural checks: layer types, params, ports and topology (through networkx)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from nnstudio.analysis.diagnostics import Diagnostic, error, warning
from nnstudio.layers.registry import Registry
from nnstudio.layers.spec import LayerSpec
from nnstudio.model.graph import Edge, Graph, Node


@dataclass
class Structure:
    """What later passes need: resolved specs and params, wiring per port, and a topological order."""

    specs: dict[str, LayerSpec] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    bad_params: set[str] = field(default_factory=set)
    incoming: dict[str, dict[str, list[Edge]]] = field(default_factory=lambda: defaultdict(dict))
    order: list[str] = field(default_factory=list)  # empty when the graph has a cycle
    digraph: nx.DiGraph = field(default_factory=nx.DiGraph)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def check_structure(graph: Graph, registry: Registry) -> Structure:
    result = Structure()
    for node in graph.nodes.values():
        _check_node(node, registry, result)
    _check_edges(graph, result)
    _check_arity(graph, result)
    _check_topology(graph, result)
    return result


def _check_node(node: Node, registry: Registry, result: Structure) -> None:
    spec = registry.get(node.type)
    if spec is None:
        result.diagnostics.append(
            error("unknown-layer", f"{node.name}: unknown layer type {node.type!r} (kept as a placeholder; "
                  "install the plugin that provides it or replace the node)", node_id=node.id)
        )
        return
    result.specs[node.id] = spec
    params, problems = spec.resolve_params(node.params)
    result.params[node.id] = params
    for param, message in problems:
        result.bad_params.add(node.id)
        result.diagnostics.append(
            error("bad-param", f"{node.name}.{param}: {message}", node_id=node.id, param=param)
        )


def _check_edges(graph: Graph, result: Structure) -> None:
    nodes = graph.nodes
    for edge in graph.edges.values():
        source, target = nodes[edge.source.node], nodes[edge.target.node]
        source_spec = result.specs.get(source.id)
        target_spec = result.specs.get(target.id)
        if source_spec is not None and source_spec.output_port(edge.source.port) is None:
            result.diagnostics.append(error(
                "bad-port", f"{source.name} has no output port {edge.source.port!r}",
                node_id=source.id, port=edge.source.port))
            continue
        if target_spec is not None and target_spec.input_port(edge.target.port) is None:
            result.diagnostics.append(error(
                "bad-port", f"{target.name} has no input port {edge.target.port!r}",
                node_id=target.id, port=edge.target.port))
            continue
        result.incoming[target.id].setdefault(edge.target.port, []).append(edge)


def _check_arity(graph: Graph, result: Structure) -> None:
    for node_id, spec in result.specs.items():
        name = graph.nodes[node_id].name
        wired = result.incoming.get(node_id, {})
        for port in spec.inputs:
            count = len(wired.get(port.name, ()))
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
    digraph.add_nodes_from(graph.nodes)
    digraph.add_edges_from((e.source.node, e.target.node) for e in graph.edges.values())
    try:
        # Ties broken by insertion order, so generated code reads in the order the user built it.
        position = {node_id: index for index, node_id in enumerate(graph.nodes)}
        result.order = list(nx.lexicographical_topological_sort(digraph, key=position.__getitem__))
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
    digraph = result.digraph
    inputs, outputs = _nodes_with_role(result, "input"), _nodes_with_role(result, "output")
    if not inputs or not outputs:
        return
    fed = set(inputs)
    for node_id in inputs:
        fed |= nx.descendants(digraph, node_id)
    useful = set(outputs)
    for node_id in outputs:
        useful |= nx.ancestors(digraph, node_id)
    for node_id, node in graph.nodes.items():
        if node_id not in fed:
            result.diagnostics.append(error(
                "unreachable", f"{node.name}: not reachable from any Input", node_id=node_id))
        elif node_id not in useful:
            result.diagnostics.append(warning(
                "dead-end", f"{node.name}: its result never reaches an Output", node_id=node_id))
