"""Small graph factories shared by core tests."""

from __future__ import annotations

from nnstudio.model.builder import GraphBuilder


def mlp(width: int = 16, classes: int = 3, inputs: int = 2) -> GraphBuilder:
    b = GraphBuilder(name="mlp")
    b.sequential(("Input", {"shape": [inputs]}), ("Linear", {"out_features": width}), "ReLU",
                 ("Linear", {"out_features": classes}), "Output")
    return b


def residual() -> GraphBuilder:
    """Input → fc1 → relu → fc2 ─┐
               └──────────────── Add → Output"""
    b = GraphBuilder(name="residual")
    x = b.add("Input", "x", shape=[8])
    fc1 = b.add("Linear", "fc1", out_features=8)
    act = b.add("ReLU", "act")
    fc2 = b.add("Linear", "fc2", out_features=8)
    add = b.add("Add", "join")
    out = b.add("Output", "y")
    b.chain(x, fc1, act, fc2, add)
    b.link(x, add, "inputs")
    b.link(add, out)
    return b
