"""An incrementally maintained mirror of a graph for analysis: a networkx DiGraph, wiring per port,
and resolved params per node.

Rebuilding these from scratch cost most of a validation pass on large graphs (about 80 ms for the
DiGraph alone at 10,000 nodes), while an edit changes one node or edge. The index listens to the
graph's signals and updates only what an edit touched.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from typing import Any

import networkx as nx

from nnstudio.layers.registry import Registry
from nnstudio.layers.spec import LayerSpec
from nnstudio.model.graph import Edge, Graph, Node


class GraphIndex:
    def __init__(self, graph: Graph, registry: Registry) -> None:
        self.registry = registry
        self.digraph = nx.DiGraph()
        self.specs: dict[str, LayerSpec] = {}
        self.params: dict[str, tuple[dict[str, Any], list[tuple[str, str]]]] = {}
        self.wiring: dict[str, dict[str, list[Edge]]] = defaultdict(dict)  # target -> port -> edges
        self._edge_count: dict[tuple[str, str], int] = defaultdict(int)  # parallel edges between two nodes
        self.bad_source_ports: set[str] = set()  # ids of edges leaving from a port their source lacks
        for node in graph.nodes.values():
            self._node_added(node)
        for edge in graph.edges.values():
            self._edge_added(edge)
        self._graph_ref = weakref.ref(graph)
        graph.node_added.connect(self._node_added)
        graph.node_removed.connect(self._node_removed)
        graph.edge_added.connect(self._edge_added)
        graph.edge_removed.connect(self._edge_removed)
        graph.param_changed.connect(self._param_changed)

    def _resolve(self, node: Node) -> None:
        spec = self.registry.get(node.type)
        if spec is None:
            self.specs.pop(node.id, None)
            self.params.pop(node.id, None)
            return
        self.specs[node.id] = spec
        self.params[node.id] = spec.resolve_params(node.params)

    def _node_added(self, node: Node) -> None:
        self.digraph.add_node(node.id)
        self._resolve(node)

    def _node_removed(self, node: Node) -> None:
        self.digraph.remove_node(node.id)
        self.specs.pop(node.id, None)
        self.params.pop(node.id, None)
        self.wiring.pop(node.id, None)

    def _edge_added(self, edge: Edge) -> None:
        key = (edge.source.node, edge.target.node)
        self._edge_count[key] += 1
        self.digraph.add_edge(*key)
        self.wiring[edge.target.node].setdefault(edge.target.port, []).append(edge)
        spec = self.specs.get(edge.source.node)
        if spec is not None and edge.source.port not in spec.output_names:
            self.bad_source_ports.add(edge.id)

    def _edge_removed(self, edge: Edge) -> None:
        self.bad_source_ports.discard(edge.id)
        key = (edge.source.node, edge.target.node)
        self._edge_count[key] -= 1
        if self._edge_count[key] <= 0:
            del self._edge_count[key]
            if self.digraph.has_edge(*key):
                self.digraph.remove_edge(*key)
        ports = self.wiring.get(edge.target.node, {})
        edges = ports.get(edge.target.port, [])
        if edge in edges:
            edges.remove(edge)
            if not edges:
                del ports[edge.target.port]

    def _param_changed(self, node_id: str, name: str, value: Any) -> None:
        graph = self._graph_ref()
        if graph is not None and node_id in graph.nodes:
            self._resolve(graph.nodes[node_id])


_INDEXES: weakref.WeakKeyDictionary[Graph, dict[int, GraphIndex]] = weakref.WeakKeyDictionary()


def index_for(graph: Graph, registry: Registry) -> GraphIndex:
    """The live index of a graph for a registry, created on first use."""
    per_registry = _INDEXES.setdefault(graph, {})
    index = per_registry.get(id(registry))
    if index is None or index.registry is not registry:
        index = per_registry[id(registry)] = GraphIndex(graph, registry)
    return index
