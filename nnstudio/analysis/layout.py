"""Auto layout: a layered, left-to-right drawing of the graph (a small Sugiyama-style pass).

1. Break cycles (the editor lets users draw one while they edit) by dropping DFS back edges.
2. Put each node in the column given by its longest path from a source.
3. Give links that skip columns a placeholder in every column they cross, so they get a lane of
   their own instead of running through the nodes in between.
4. Order each column by the barycentre of its neighbours in a few down/up sweeps, keeping the
   ordering with the fewest crossings.
5. Assign heights: each node is pulled toward the mean height of its neighbours, then the column
   is spread so neighbours keep their order and spacing (chains come out straight).
Weakly connected parts are stacked vertically, so a stray node never lands inside the main network.
Pure Python over networkx: no Qt, no torch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from itertools import pairwise

import networkx as nx

from nnstudio.model.graph import Graph

Point = tuple[float, float]
SWEEPS = 6
PLACEMENT_PASSES = 8
LANE_SHARE = 0.35  # a placeholder lane needs this share of a node's vertical room


def auto_layout(graph: Graph, origin: Point = (0.0, 0.0), column_spacing: float = 240.0,
                row_spacing: float = 150.0, grid: float = 20.0) -> dict[str, Point]:
    """Positions {node_id: (x, y)} for every node; parts are stacked downward from `origin`."""
    digraph = _acyclic_digraph(graph)
    rank = {node_id: index for index, node_id in enumerate(graph.nodes)}
    positions: dict[str, Point] = {}
    top = origin[1]
    parts = sorted(nx.weakly_connected_components(digraph), key=lambda part: min(rank[n] for n in part))
    for part in parts:
        columns, heights = _layout_part(digraph.subgraph(part), rank, row_spacing)
        for node_id in part:
            x = origin[0] + columns[node_id] * column_spacing
            positions[node_id] = (_snap(x, grid), _snap(top + heights[node_id], grid))
        top += max(heights[n] for n in part) + row_spacing
    return positions


def _layout_part(digraph: nx.DiGraph, rank: Mapping[str, int],
                 row_spacing: float) -> tuple[dict[str, int], dict[str, float]]:
    """Columns and heights (from 0 downward) of the real nodes of one connected part."""
    columns = _columns(digraph, rank)
    lanes, layers = with_lanes(digraph, columns, rank)
    layers = order_layers(lanes, layers, rank)
    room = {n: row_spacing * (LANE_SHARE if _is_lane(n) else 1.0) for layer in layers for n in layer}
    heights = place_heights(lanes, layers, room)
    lowest = min(heights.values())
    return columns, {n: y - lowest for n, y in heights.items() if not _is_lane(n)}


def _snap(value: float, grid: float) -> float:
    return float(round(value / grid) * grid) if grid > 0 else float(value)


def _acyclic_digraph(graph: Graph) -> nx.DiGraph:
    """The node-level digraph with back edges (found by DFS in file order) dropped."""
    digraph = nx.DiGraph()
    digraph.add_nodes_from(graph.nodes)
    digraph.add_edges_from((e.source.node, e.target.node) for e in graph.edges.values()
                           if e.source.node != e.target.node)
    if nx.is_directed_acyclic_graph(digraph):
        return digraph
    back = [(u, v) for u, v, kind in nx.dfs_labeled_edges(digraph) if kind == "nontree"
            and nx.has_path(digraph, v, u)]
    digraph.remove_edges_from(back)
    while not nx.is_directed_acyclic_graph(digraph):  # leftovers of the heuristic, if any
        digraph.remove_edge(*nx.find_cycle(digraph)[0][:2])
    return digraph


def _columns(digraph: nx.DiGraph, rank: Mapping[str, int]) -> dict[str, int]:
    """Longest-path layering: a node's column is the length of the longest path reaching it."""
    column: dict[str, int] = {}
    for node_id in nx.lexicographical_topological_sort(digraph, key=rank.__getitem__):
        column[node_id] = max((column[p] + 1 for p in digraph.predecessors(node_id)), default=0)
    return column


def _is_lane(node: str) -> bool:
    return node.startswith("\0lane")


def with_lanes(digraph: nx.DiGraph, column: Mapping[str, int],
               rank: Mapping[str, int]) -> tuple[nx.DiGraph, list[list[str]]]:
    """Split links that skip columns into chains through placeholder nodes, one per column."""
    lanes = nx.DiGraph()
    lanes.add_nodes_from(digraph)
    order: dict[str, float] = {n: float(rank[n]) for n in digraph}
    where = dict(column)
    for u, v in digraph.edges:
        previous = u
        for step in range(column[u] + 1, column[v]):
            lane = f"\0lane:{u}:{v}:{step}"
            where[lane] = step
            order[lane] = rank[u] + 0.5
            lanes.add_edge(previous, lane)
            previous = lane
        lanes.add_edge(previous, v)
    layers: list[list[str]] = [[] for _ in range(max(where.values(), default=-1) + 1)]
    for node in sorted(where, key=order.__getitem__):
        layers[where[node]].append(node)
    return lanes, layers


def order_layers(digraph: nx.DiGraph, layers: list[list[str]], rank: Mapping[str, int]) -> list[list[str]]:
    """Barycentre sweeps; returns the ordering with the fewest crossings seen."""
    best = [list(layer) for layer in layers]
    best_crossings = count_crossings(digraph, best)
    current = [list(layer) for layer in layers]
    for sweep in range(SWEEPS):
        downward = sweep % 2 == 0
        indices = range(1, len(current)) if downward else range(len(current) - 2, -1, -1)
        neighbours = digraph.predecessors if downward else digraph.successors
        for index in indices:
            current[index] = _by_barycentre(current[index], neighbours, _relative(current))
        crossings = count_crossings(digraph, current)
        if crossings < best_crossings:
            best, best_crossings = [list(layer) for layer in current], crossings
    return best


def _relative(layers: list[list[str]]) -> dict[str, float]:
    """Position within a column, in [0, 1], so columns of different heights compare."""
    where: dict[str, float] = {}
    for layer in layers:
        size = max(len(layer) - 1, 1)
        for index, node_id in enumerate(layer):
            where[node_id] = index / size
    return where


def _by_barycentre(layer: list[str], neighbours: Callable[[str], Iterable[str]],
                   where: Mapping[str, float]) -> list[str]:
    """Sort by mean neighbour position; nodes without neighbours keep their place (stable sort)."""
    size = max(len(layer) - 1, 1)
    keys: dict[str, float] = {}
    for index, node_id in enumerate(layer):
        linked = [where[n] for n in neighbours(node_id) if n in where]
        keys[node_id] = sum(linked) / len(linked) if linked else index / size
    return sorted(layer, key=keys.__getitem__)


def count_crossings(digraph: nx.DiGraph, layers: list[list[str]]) -> int:
    """Crossings between links joining adjacent columns (all links, once lanes are in)."""
    column = {node_id: c for c, layer in enumerate(layers) for node_id in layer}
    index = {node_id: i for layer in layers for i, node_id in enumerate(layer)}
    total = 0
    for c in range(len(layers) - 1):
        pairs = sorted((index[u], index[v]) for u in layers[c] for v in digraph.successors(u)
                       if column.get(v) == c + 1)
        total += _inversions([v for _, v in pairs])  # sorted by source: crossings are inversions
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


def place_heights(digraph: nx.DiGraph, layers: list[list[str]], room: Mapping[str, float]) -> dict[str, float]:
    """Heights that keep each column's order and spacing while pulling nodes level with neighbours."""
    y: dict[str, float] = {}
    for layer in layers:
        y.update(_spread(layer, [0.0] * len(layer), room))
    for sweep in range(PLACEMENT_PASSES):
        downward = sweep % 2 == 0
        neighbours = digraph.predecessors if downward else digraph.successors
        for layer in layers if downward else reversed(layers):
            wanted = []
            for node in layer:
                linked = [y[n] for n in neighbours(node)]
                wanted.append(sum(linked) / len(linked) if linked else y[node])
            y.update(_spread(layer, wanted, room))
    return y


def _spread(layer: list[str], wanted: list[float], room: Mapping[str, float]) -> dict[str, float]:
    """Closest heights to `wanted` keeping order and gaps: the mean of a push-down and a push-up
    pass (each satisfies the gaps, so their mean does too)."""
    gaps = [(room[a] + room[b]) / 2 for a, b in pairwise(layer)]
    down = list(wanted)
    for i, gap in enumerate(gaps):
        down[i + 1] = max(down[i + 1], down[i] + gap)
    up = list(wanted)
    for i in range(len(gaps) - 1, -1, -1):
        up[i] = min(up[i], up[i + 1] - gaps[i])
    return {node: (a + b) / 2 for node, a, b in zip(layer, down, up)}
