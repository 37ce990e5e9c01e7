"""Auto layout: a layered, left-to-right drawing of the graph (a small Sugiyama-style pass).

Steps: break cycles (the editor allows drawing one while editing), assign each node to the
column given by its longest path from a source, order each column by the barycentre of its
neighbours in a few down/up sweeps (keeping the ordering with the fewest crossings), then turn
columns and ranks into grid-snapped coordinates. Weakly connected parts are stacked vertically,
so a stray node never lands in the middle of the main network. Pure Python over networkx.
"""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx

from nnstudio.model.graph import Graph

Point = tuple[float, float]
SWEEPS = 4


def auto_layout(graph: Graph, origin: Point = (0.0, 0.0), column_spacing: float = 240.0,
                row_spacing: float = 140.0, grid: float = 20.0) -> dict[str, Point]:
    """Positions {node_id: (x, y)} for every node; rows of a part grow downward from `origin`."""
    digraph = _acyclic_digraph(graph)
    rank = {node_id: index for index, node_id in enumerate(graph.nodes)}
    positions: dict[str, Point] = {}
    top = origin[1]
    parts = sorted(nx.weakly_connected_components(digraph), key=lambda part: min(rank[n] for n in part))
    for part in parts:
        sub = digraph.subgraph(part)
        layers = order_layers(sub, longest_path_layers(sub, rank), rank)
        height = max(len(layer) for layer in layers)
        for column, layer in enumerate(layers):
            offset = (height - len(layer)) / 2.0  # centre short columns against the tallest one
            for row, node_id in enumerate(layer):
                x = origin[0] + column * column_spacing
                y = top + (row + offset) * row_spacing
                positions[node_id] = (_snap(x, grid), _snap(y, grid))
        top += height * row_spacing
    return positions


def _snap(value: float, grid: float) -> float:
    return float(round(value / grid) * grid) if grid > 0 else float(value)


def _acyclic_digraph(graph: Graph) -> nx.DiGraph:
    """The graph's node-level digraph with back edges (found by DFS in insertion order) dropped."""
    digraph = nx.DiGraph()
    digraph.add_nodes_from(graph.nodes)
    digraph.add_edges_from((e.source.node, e.target.node) for e in graph.edges.values()
                           if e.source.node != e.target.node)
    if nx.is_directed_acyclic_graph(digraph):
        return digraph
    back = [(u, v) for u, v, kind in nx.dfs_labeled_edges(digraph) if kind == "nontree" and
            _on_stack(digraph, u, v)]
    digraph.remove_edges_from(back)
    while not nx.is_directed_acyclic_graph(digraph):  # rare leftovers of the heuristic
        digraph.remove_edge(*nx.find_cycle(digraph)[0])
    return digraph


def _on_stack(digraph: nx.DiGraph, u: str, v: str) -> bool:
    """A non-tree edge u → v closes a cycle when v reaches u."""
    return u == v or nx.has_path(digraph, v, u)


def longest_path_layers(digraph: nx.DiGraph, rank: Mapping[str, int]) -> list[list[str]]:
    """Column of a node = length of the longest path reaching it; columns list nodes in file order."""
    column: dict[str, int] = {}
    for node_id in nx.lexicographical_topological_sort(digraph, key=rank.__getitem__):
        column[node_id] = max((column[p] + 1 for p in digraph.predecessors(node_id)), default=0)
    layers: list[list[str]] = [[] for _ in range(max(column.values(), default=-1) + 1)]
    for node_id in sorted(column, key=rank.__getitem__):
        layers[column[node_id]].append(node_id)
    return layers


def order_layers(digraph: nx.DiGraph, layers: list[list[str]], rank: Mapping[str, int]) -> list[list[str]]:
    """Barycentre sweeps; returns the ordering with the fewest crossings seen."""
    best = [list(layer) for layer in layers]
    best_crossings = count_crossings(digraph, best)
    current = [list(layer) for layer in layers]
    for sweep in range(SWEEPS):
        downward = sweep % 2 == 0
        indices = range(1, len(current)) if downward else range(len(current) - 2, -1, -1)
        for index in indices:
            neighbours = digraph.predecessors if downward else digraph.successors
            current[index] = _by_barycentre(current[index], neighbours, _positions(current), rank)
        crossings = count_crossings(digraph, current)
        if crossings < best_crossings:
            best, best_crossings = [list(layer) for layer in current], crossings
    return best


def _positions(layers: list[list[str]]) -> dict[str, float]:
    """Relative position in a column, in [0, 1], so columns of different heights compare."""
    where: dict[str, float] = {}
    for layer in layers:
        size = max(len(layer) - 1, 1)
        for index, node_id in enumerate(layer):
            where[node_id] = index / size
    return where


def _by_barycentre(layer: list[str], neighbours, where: Mapping[str, float],
                   rank: Mapping[str, int]) -> list[str]:
    """Sort by mean neighbour position; nodes without neighbours keep their current place."""
    size = max(len(layer) - 1, 1)
    keys: dict[str, tuple[float, int]] = {}
    for index, node_id in enumerate(layer):
        linked = [where[n] for n in neighbours(node_id) if n in where]
        centre = sum(linked) / len(linked) if linked else index / size
        keys[node_id] = (centre, rank[node_id])
    return sorted(layer, key=keys.__getitem__)


def count_crossings(digraph: nx.DiGraph, layers: list[list[str]]) -> int:
    """Crossings between edges joining adjacent columns (the ones ordering can change)."""
    column = {node_id: c for c, layer in enumerate(layers) for node_id in layer}
    index = {node_id: i for layer in layers for i, node_id in enumerate(layer)}
    total = 0
    for c in range(len(layers) - 1):
        pairs = sorted((index[u], index[v]) for u in layers[c] for v in digraph.successors(u)
                       if column[v] == c + 1)
        # After sorting by source, crossings are inversions of the target sequence.
        total += _inversions([v for _, v in pairs])
    return total


def _inversions(values: list[int]) -> int:
    if len(values) < 2:
        return 0
    middle = len(values) // 2
    left, right = values[:middle], values[middle:]
    count = _inversions(left) + _inversions(right)
    left.sort()
    right.sort()
    j = 0
    for value in left:
        while j < len(right) and right[j] < value:
            j += 1
        count += j
    return count
