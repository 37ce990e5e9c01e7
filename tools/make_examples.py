"""Regenerate the shipped example projects from code, so they stay valid as the catalogue evolves.

Run:   python tools/make_examples.py           (writes nnstudio/examples/*.nnstudio)
Check: python tools/make_examples.py --check   (exit 1 when a shipped file differs from its builder)

Each example is a Recipe: a function that draws the graph, plus the project's dataset and training
sections. Node ids derive from node names and edge ids from their order, so regenerating an
unchanged example rewrites the file byte for byte.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nnstudio.examples import EXAMPLES, HERE
from nnstudio.io.project_file import dumps, save
from nnstudio.model.graph import Endpoint, Node
from nnstudio.model.project import Project

COLUMN = 200.0  # canvas units between consecutive layers
ROW = 140.0  # canvas units between a main path and a branch drawn beside it

Layer = tuple[str, str, dict[str, Any]]  # (type, name, params)


class Sketch:
    """Places named layers on a grid, one column per step left to right, and wires them."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.column = 0

    def node(self, layer_type: str, name: str, row: float = 0.0, **params: Any) -> str:
        node = Node(f"n_{name}", layer_type, name, params, (self.column * COLUMN, row * ROW))
        self.project.graph.add_node(node)
        self.column += 1
        return node.id

    def link(self, source: str, target: str, port: str = "in") -> None:
        graph = self.project.graph
        graph.connect(Endpoint(source, "out"), Endpoint(target, port), edge_id=f"e_{len(graph.edges) + 1}")

    def chain(self, *layers: Layer, after: str | None = None, row: float = 0.0) -> str:
        """Add layers in a row and link each to the next (the first to `after`); returns the last id."""
        previous = after
        for layer_type, name, params in layers:
            current = self.node(layer_type, name, row, **params)
            if previous is not None:
                self.link(previous, current, "inputs" if layer_type in ("Add", "Multiply", "Concat") else "in")
            previous = current
        assert previous is not None
        return previous


def spirals(s: Sketch) -> None:
    s.chain(("Input", "points", {"shape": [2]}),
            ("Linear", "fc1", {"out_features": 64}), ("ReLU", "relu1", {}),
            ("Linear", "fc2", {"out_features": 64}), ("ReLU", "relu2", {}),
            ("Linear", "fc3", {"out_features": 2}), ("Output", "logits", {}))


def digits_cnn(s: Sketch) -> None:
    s.chain(("Input", "image", {"shape": [1, 8, 8]}),
            ("Conv2d", "conv1", {"out_channels": 16, "kernel_size": 3, "padding": 1}), ("ReLU", "relu1", {}),
            ("MaxPool2d", "pool1", {"kernel_size": 2}),
            ("Conv2d", "conv2", {"out_channels": 32, "kernel_size": 3, "padding": 1}), ("ReLU", "relu2", {}),
            ("MaxPool2d", "pool2", {"kernel_size": 2}),
            ("Flatten", "flatten", {}),
            ("Linear", "fc1", {"out_features": 64}), ("ReLU", "relu3", {}), ("Dropout", "dropout", {"p": 0.25}),
            ("Linear", "fc2", {"out_features": 10}), ("Output", "logits", {}))


def _conv_bn(index: str, relu: bool) -> list[Layer]:
    """A 3×3 convolution that keeps 16 channels and the size; bias off, since batch norm follows."""
    layers: list[Layer] = [("Conv2d", f"conv{index}", {"out_channels": 16, "kernel_size": 3, "padding": 1,
                                                      "bias": False}),
                           ("BatchNorm2d", f"bn{index}", {})]
    return [*layers, ("ReLU", f"relu{index}", {})] if relu else layers


def residual_cnn(s: Sketch) -> None:
    stem = s.chain(("Input", "image", {"shape": [1, 8, 8]}), *_conv_bn("_stem", relu=True))
    body = s.chain(*_conv_bn("1", relu=True), *_conv_bn("2", relu=False), after=stem, row=1)
    join = s.chain(("Add", "add", {}), after=body)
    s.link(stem, join, "inputs")  # the skip connection, drawn straight along the top row
    s.chain(("ReLU", "relu_out", {}), ("GlobalAvgPool", "pool", {}), ("Linear", "fc", {"out_features": 10}),
            ("Output", "logits", {}), after=join)


def lstm_sequence(s: Sketch) -> None:
    s.chain(("Input", "sequence", {"shape": [20, 1]}),
            ("LSTM", "lstm", {"hidden_size": 32, "output": "last"}),
            ("Linear", "fc", {"out_features": 2}), ("Output", "logits", {}))


def transformer(s: Sketch) -> None:
    s.chain(("Input", "tokens", {"shape": [16], "dtype": "int64"}),
            ("Embedding", "embed", {"num_embeddings": 16, "embedding_dim": 32}),
            ("PositionalEncoding", "positions", {"kind": "sinusoidal", "max_len": 64}),
            ("TransformerEncoderLayer", "encoder", {"nhead": 4, "dim_feedforward": 64, "dropout": 0.1}),
            ("Reduce", "mean_over_time", {"op": "mean", "dim": 0}),
            ("Linear", "fc", {"out_features": 2}), ("Output", "logits", {}))


def autoencoder(s: Sketch) -> None:
    bottleneck = s.chain(("Input", "pixels", {"shape": [64]}),
                   ("Linear", "enc1", {"out_features": 32}), ("ReLU", "enc_relu", {}),
                   ("Linear", "bottleneck", {"out_features": 8}))
    s.chain(("Linear", "dec1", {"out_features": 32}), ("ReLU", "dec_relu", {}),
            ("Linear", "dec2", {"out_features": 64}), ("Sigmoid", "sigmoid", {}),
            ("Output", "reconstruction", {}), after=bottleneck)


def sine_regression(s: Sketch) -> None:
    s.chain(("Input", "x", {"shape": [1]}),
            ("Linear", "fc1", {"out_features": 64}), ("Tanh", "tanh1", {}),
            ("Linear", "fc2", {"out_features": 64}), ("Tanh", "tanh2", {}),
            ("Linear", "fc3", {"out_features": 1}), ("Output", "y", {}))


@dataclass(frozen=True)
class Recipe:
    draw: Callable[[Sketch], None]
    dataset: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)


def _adam(lr: float, epochs: int, batch_size: int, **extra: Any) -> dict[str, Any]:
    """A training section: only what differs from the defaults, so the file stays readable."""
    return {"epochs": epochs, "batch_size": batch_size, "optimizer": {"name": "adam", "lr": lr}, **extra}


# Each trains in a few seconds on one CPU core; tests/training/test_examples_train.py holds them to their bars.
RECIPES: dict[str, Recipe] = {
    "spirals": Recipe(spirals, {"name": "spirals"}, _adam(0.01, 40, 32)),
    "digits_cnn": Recipe(digits_cnn, {"name": "digits"}, _adam(0.003, 15, 64)),
    "residual_cnn": Recipe(residual_cnn, {"name": "digits"},
                           {"epochs": 15, "batch_size": 64, "schedule": {"name": "cosine"},
                            "optimizer": {"name": "adamw", "lr": 0.003, "weight_decay": 0.01}}),
    "lstm_sequence": Recipe(lstm_sequence, {"name": "sequence_sum_sign"}, _adam(0.01, 20, 32)),
    "transformer": Recipe(transformer, {"name": "token_majority"}, _adam(0.003, 6, 32)),
    "autoencoder": Recipe(autoencoder, {"name": "digits", "params": {"flat": True}},
                          _adam(0.005, 60, 32, task="reconstruction")),
    "sine_regression": Recipe(sine_regression, {"name": "sine"},
                              _adam(0.01, 60, 32, schedule={"name": "cosine"})),
}


def build(name: str) -> Project:
    """The example's project, exactly as it is shipped."""
    example, recipe = EXAMPLES[name], RECIPES[name]
    project = Project()
    project.metadata.name = example.title
    project.metadata.description = example.description
    recipe.draw(Sketch(project))
    project.dataset = dict(recipe.dataset)
    project.training = dict(recipe.training)
    return project


def stale() -> list[str]:
    """Examples whose shipped file is missing or differs from what its recipe builds."""
    names = []
    for name in EXAMPLES:
        path = EXAMPLES[name].path
        if not path.exists() or path.read_text(encoding="utf-8") != dumps(build(name)):
            names.append(name)
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report examples that need regenerating")
    args = parser.parse_args(argv)
    missing = sorted(set(EXAMPLES) ^ set(RECIPES))
    if missing:
        print(f"examples and recipes disagree: {', '.join(missing)}", file=sys.stderr)
        return 1
    if args.check:
        outdated = stale()
        for name in outdated:
            print(f"{name}: out of date; run python tools/make_examples.py", file=sys.stderr)
        return 1 if outdated else 0
    for name in EXAMPLES:
        save(build(name), HERE / f"{name}.nnstudio")
        print(f"wrote {EXAMPLES[name].path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
