"""Auto layout: layered left to right, few crossings, grid-snapped, parts stacked, cycles tolerated."""

from __future__ import annotations

from itertools import pairwise

import networkx as nx

from nnstudio.analysis.layout import auto_layout, count_crossings, order_layers, with_lanes
from nnstudio.model.builder import GraphBuilder
from tests.helpers import mlp, residual


def test_a_chain_is_one_straight_row():
    b = mlp()
    positions = auto_layout(b.graph, origin=(100.0, 40.0), column_spacing=240.0)
    ids = list(b.graph.nodes)
    assert [positions[i] for i in ids] == [(100.0 + 240.0 * k, 40.0) for k in range(len(ids))]


def test_columns_follow_the_longest_path():
    b = residual()  # x → fc1 → act → fc2 → join, and x → join directly
    positions = auto_layout(b.graph, column_spacing=200.0)
    column = {b.graph.nodes[i].name: positions[i][0] / 200.0 for i in positions}
    assert column == {"x": 0, "fc1": 1, "act": 2, "fc2": 3, "join": 4, "y": 5}
    rows = {positions[i][1] for i in positions}
    assert len(rows) == 2  # the skip link gets its own lane beside the main chain


def test_every_position_is_on_the_grid_and_nodes_do_not_overlap():
    b = GraphBuilder()
    x = b.add("Input", shape=[4])
    heads = [b.add("Linear", out_features=4) for _ in range(5)]
    for head in heads:
        b.link(x, head)
    join = b.add("Concat")
    for head in heads:
        b.link(head, join, "inputs")
    positions = auto_layout(b.graph, row_spacing=150.0, grid=20.0)
    assert all(x % 20 == 0 and y % 20 == 0 for x, y in positions.values())
    ys = sorted(positions[h][1] for h in heads)
    assert all(b_ - a_ >= 140 for a_, b_ in pairwise(ys))
    assert positions[x][1] == positions[join][1]  # fan-out and fan-in meet at the middle


def test_barycentre_ordering_removes_avoidable_crossings():
    digraph = nx.DiGraph([("a", "y"), ("b", "x"), ("c", "z")])
    rank = {n: i for i, n in enumerate("abcxyz")}
    layers = [["a", "b", "c"], ["x", "y", "z"]]
    assert count_crossings(digraph, layers) == 1
    ordered = order_layers(digraph, layers, rank)
    assert count_crossings(digraph, ordered) == 0


def test_links_that_skip_columns_get_a_placeholder_per_column():
    digraph = nx.DiGraph([("a", "b"), ("b", "c"), ("a", "c")])
    lanes, layers = with_lanes(digraph, {"a": 0, "b": 1, "c": 2}, {"a": 0, "b": 1, "c": 2})
    assert [len(layer) for layer in layers] == [1, 2, 1]
    assert nx.has_path(lanes, "a", "c") and lanes.number_of_nodes() == 4


def test_separate_parts_are_stacked_and_cycles_do_not_break_layout():
    b = mlp()
    stray = b.add("ReLU", "stray")
    loop_a, loop_b = b.add("ReLU", "loop_a"), b.add("Tanh", "loop_b")
    b.link(loop_a, loop_b)
    b.link(loop_b, loop_a)
    positions = auto_layout(b.graph)
    assert set(positions) == set(b.graph.nodes)
    main_bottom = max(positions[i][1] for i in list(b.graph.nodes)[:5])
    assert positions[stray][1] > main_bottom
    assert positions[loop_a][1] > positions[stray][1]
    assert positions[loop_a][0] < positions[loop_b][0]  # the first node in file order leads the cycle


def test_empty_graph():
    assert auto_layout(GraphBuilder().graph) == {}
