"""Generated layered graphs for benchmarks: blocks of Linear → ReLU with residual Adds."""

from __future__ import annotations

from nnstudio.model.builder import GraphBuilder


def layered_graph(nodes: int, width: int = 32) -> GraphBuilder:
    """About `nodes` nodes: an Input, repeated [Linear, ReLU, Add(skip)] blocks, an Output."""
    b = GraphBuilder(name=f"layered-{nodes}")
    current = b.add("Input", "x", shape=[width], at=(0, 0))
    column = 1
    while len(b.graph.nodes) + 4 <= nodes:
        fc = b.add("Linear", out_features=width, at=(column * 200, 0))
        act = b.add("ReLU", at=(column * 200 + 200, 0))
        join = b.add("Add", at=(column * 200 + 400, 120))
        b.chain(current, fc, act, join)
        b.link(current, join, "inputs")
        current, column = join, column + 3
    b.chain(current, b.add("Output", "y", at=(column * 200, 0)))
    return b
