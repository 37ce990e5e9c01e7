"""GAN graphs built in code: a generator (noise Input → … → Output) beside a discriminator (x Input → … → logit)."""

from __future__ import annotations

from typing import Any

from nnstudio.model.builder import GraphBuilder


def gan(noise: int = 4, sample: int = 2, width: int = 16, training: dict[str, Any] | None = None,
        recipe: dict[str, Any] | None = None, dropout: float = 0.0) -> GraphBuilder:
    """Two small MLPs. Node names: z, g_fc1, g_act, g_fc2, fake | x, d_fc1, d_act, [d_drop,] d_fc2, logit."""
    b = GraphBuilder(name="gan")
    z = b.add("Input", "z", shape=[noise], field="noise")
    b.chain(z, b.add("Linear", "g_fc1", out_features=width), b.add("ReLU", "g_act"),
            b.add("Linear", "g_fc2", out_features=sample), b.add("Output", "fake"))
    x = b.add("Input", "x", shape=[sample])
    hidden = [b.add("Linear", "d_fc1", out_features=width), b.add("LeakyReLU", "d_act")]
    if dropout:
        hidden.append(b.add("Dropout", "d_drop", p=dropout))
    b.chain(x, *hidden, b.add("Linear", "d_fc2", out_features=1), b.add("Output", "logit"))
    b.project.dataset = {"name": "ring"}
    b.project.training = {"epochs": 2, "batch_size": 32, "instrumentation": {"enabled": False},
                          **(training or {}), "recipe": {"name": "gan", **(recipe or {})}}
    return b


def node(b: GraphBuilder, name: str) -> str:
    return next(node_id for node_id, n in b.project.graph.nodes.items() if n.name == name)
