"""Regenerate the shipped example projects from code, so they stay valid as the catalogue evolves.

Run:   python tools/make_examples.py           (writes nnstudio/examples/*.nnstudio)
Check: python tools/make_examples.py --check   (exit 1 when a shipped file differs from its builder)

Each example is a Recipe: a function that draws the graph, plus the project's dataset and training
sections. Node ids derive from node names and edge ids from their order, so regenerating an
unchanged example rewrites the file byte for byte.
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nnstudio.examples import EXAMPLES, HERE
from nnstudio.io.project_file import dumps, save
from nnstudio.model.graph import Endpoint, Node, NodeTraining
from nnstudio.model.project import Project

COLUMN = 200.0  # canvas units between consecutive layers
ROW = 140.0  # canvas units between a main path and a branch drawn beside it

Layer = tuple[str, str, dict[str, Any]]  # (type, name, params)
WEIGHTED = ("Conv2d", "Linear", "BatchNorm2d")  # what a frozen chain marks frozen: the layers that have weights


class Sketch:
    """Places named layers on a grid, one column per step left to right, and wires them."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.column = 0

    def node(self, layer_type: str, name: str, row: float = 0.0, frozen: bool = False, **params: Any) -> str:
        node = Node(f"n_{name}", layer_type, name, params, (self.column * COLUMN, row * ROW),
                    training=NodeTraining(frozen=frozen))
        self.project.graph.add_node(node)
        self.column += 1
        return node.id

    def at(self, column: int) -> Sketch:
        """Draw the next layers from this column on: a branch beside (above or below) a path already drawn."""
        self.column = column
        return self

    def link(self, source: str, target: str, port: str = "in", out: str = "out") -> None:
        graph = self.project.graph
        graph.connect(Endpoint(source, out), Endpoint(target, port), edge_id=f"e_{len(graph.edges) + 1}")

    def chain(self, *layers: Layer, after: str | None = None, row: float = 0.0, frozen: bool = False) -> str:
        """Add layers in a row and link each to the next (the first to `after`); returns the last id.

        `frozen` marks the chain's weighted layers frozen (a teacher, a pretrained trunk)."""
        previous = after
        for layer_type, name, params in layers:
            current = self.node(layer_type, name, row, frozen=frozen and layer_type in WEIGHTED, **params)
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


IMAGE: Layer = ("Input", "image", {"shape": [1, 8, 8]})
CONV_STAGES: list[Layer] = [  # digits_cnn's feature extractor; the examples that reuse it keep these names
    ("Conv2d", "conv1", {"out_channels": 16, "kernel_size": 3, "padding": 1}), ("ReLU", "relu1", {}),
    ("MaxPool2d", "pool1", {"kernel_size": 2}),
    ("Conv2d", "conv2", {"out_channels": 32, "kernel_size": 3, "padding": 1}), ("ReLU", "relu2", {}),
    ("MaxPool2d", "pool2", {"kernel_size": 2}),
    ("Flatten", "flatten", {})]
DENSE: list[Layer] = [("Linear", "fc1", {"out_features": 64}), ("ReLU", "relu3", {})]
DROPOUT: Layer = ("Dropout", "dropout", {"p": 0.25})


def digits_cnn(s: Sketch) -> None:
    s.chain(IMAGE, *CONV_STAGES, *DENSE, DROPOUT, ("Linear", "fc2", {"out_features": 10}), ("Output", "logits", {}))


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


def text_sentiment(s: Sketch) -> None:
    """Review text as token ids (the CSV dataset's text_column), embedded, averaged over the words, classified."""
    s.chain(("Input", "review", {"shape": [TEXT_LENGTH], "dtype": "int64"}),
            ("Embedding", "embed", {"num_embeddings": TEXT_VOCABULARY, "embedding_dim": 16}),
            ("Reduce", "mean_over_words", {"op": "mean", "dim": 0}),
            ("Linear", "fc", {"out_features": 2}), ("Output", "logits", {}))


TEXT_LENGTH, TEXT_VOCABULARY = 16, 100  # tokens kept per review; ids, padding and unknown included
TEXT_DATASET = {"name": "csv", "params": {"path": "example:text_sentiment.csv", "target": "sentiment",
                                          "text_column": "review", "max_length": TEXT_LENGTH,
                                          "vocab_size": TEXT_VOCABULARY}}


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


# ---- examples whose graph declares its own objective: Targets, loss nodes, stochastic blocks ----------------

PIXELS = 64  # an 8×8 digit as one flat vector (the dataset's `flat` param), pixels in [0, 1]
LATENT = 8  # the VAE's code: the mean and log-variance of 8 Gaussians
NOISE_STD = 0.3  # the denoising autoencoder's training noise, on pixels in [0, 1]
SPARSITY_WEIGHT = 0.01  # the L1 activity penalty's weight: 57% of the code off, reconstruction as good as without
EVEN_WEIGHT = 0.5  # the parity head counts half as much as the digit head
DISTILL_WEIGHT = 1.0  # the distillation term beside the hard-label cross-entropy (weight 1)
TEMPERATURE = 4.0  # softens the teacher's probabilities enough to show its ranking of the wrong classes


def _clean_pixels(s: Sketch, row: float) -> str:
    """A Target bound to field x: the clean input, which an autoencoder's reconstruction is scored against."""
    return s.node("Target", "clean", row, field="x", shape=[PIXELS], dtype="float32")


def _labels(s: Sketch, row: float) -> str:
    """A Target bound to field y: one class index per sample."""
    return s.node("Target", "label", row, field="y", shape=[], dtype="int64")


def _decode(s: Sketch, code: str, width: int, loss: str) -> None:
    """Code → width → 64 pixels in [0, 1], the Output, and the reconstruction loss against the clean input,
    drawn under the Output."""
    pixels = s.chain(("Linear", "dec1", {"out_features": width}), ("ReLU", "dec_relu", {}),
                     ("Linear", "dec2", {"out_features": PIXELS}), ("Sigmoid", "sigmoid", {}), after=code)
    column = s.column
    s.chain(("Output", "reconstruction", {}), after=pixels)
    clean = _clean_pixels(s.at(column - 1), 1)
    recon = s.node(loss, "recon", 1)
    s.link(pixels, recon, "input")
    s.link(clean, recon, "target")


def vae_digits(s: Sketch) -> None:
    split = s.chain(("Input", "pixels", {"shape": [PIXELS]}),
                    ("Linear", "enc1", {"out_features": 128}), ("ReLU", "enc_relu", {}),
                    ("Linear", "enc_head", {"out_features": 2 * LATENT}), ("Split", "split", {}))
    column = s.column
    z = s.node("GaussianSample", "z")
    kl = s.at(column).node("GaussianKLLoss", "kl", 1, weight=1 / PIXELS)  # see the VAE's description
    for sink in (z, kl):
        s.link(split, sink, "mu", "first")
        s.link(split, sink, "logvar", "second")
    _decode(s.at(column + 1), z, 128, "BCELoss")


def denoising_autoencoder(s: Sketch) -> None:
    code = s.chain(("Input", "pixels", {"shape": [PIXELS]}), ("GaussianNoise", "noise", {"std": NOISE_STD}),
                   ("Linear", "enc1", {"out_features": 128}), ("ReLU", "enc_relu", {}),
                   ("Linear", "code", {"out_features": 32}), ("ReLU", "code_relu", {}))
    _decode(s, code, 128, "MSELoss")


def sparse_autoencoder(s: Sketch) -> None:
    code = s.chain(("Input", "pixels", {"shape": [PIXELS]}),
                   ("Linear", "enc1", {"out_features": 128}), ("ReLU", "enc_relu", {}),
                   ("Linear", "code", {"out_features": 64}), ("ReLU", "code_relu", {}))
    column = s.column
    s.link(code, s.node("ActivityL1Loss", "sparsity", 1, weight=SPARSITY_WEIGHT))
    _decode(s.at(column), code, 128, "MSELoss")


def multitask_digits(s: Sketch) -> None:
    """One trunk, two heads: which digit, and whether it is even (a label derived from the digit by ClassMap)."""
    trunk = s.chain(IMAGE, *CONV_STAGES, *DENSE, DROPOUT)
    column = s.column
    for row, (head, classes) in enumerate((("digit", 10), ("even", 2))):  # both heads, then both Outputs
        s.link(trunk, s.at(column).node("Linear", f"{head}_fc", row, out_features=classes))
    for row, head in enumerate(("digit", "even")):
        s.link(f"n_{head}_fc", s.at(column + 1).node("Output", head, row))
    label = _labels(s.at(column), 2)
    even = s.node("ClassMap", "is_even", 2, table=[1, 0] * 5)  # digit d → 1 when d is even, else 0
    for head, target, row, weight in (("digit", label, 0, 1.0), ("even", even, 1, EVEN_WEIGHT)):
        loss = s.at(column + 2).node("CrossEntropyLoss", f"{head}_ce", row, weight=weight)
        s.link(f"n_{head}_fc", loss, "input")
        s.link(target, loss, "target")
    s.link(label, even)


def distillation_digits(s: Sketch) -> None:
    """A small MLP student beside a frozen copy of digits_cnn (the teacher, named as there, minus dropout)."""
    image = s.node(*IMAGE[:2], **IMAGE[2])
    student = s.chain(("Flatten", "student_flatten", {}), ("Linear", "student_fc1", {"out_features": 32}),
                      ("ReLU", "student_relu", {}), ("Linear", "student_fc2", {"out_features": 10}), after=image)
    s.chain(("Output", "digit", {}), after=student)
    teacher = s.at(1).chain(*CONV_STAGES, *DENSE, ("Linear", "fc2", {"out_features": 10}), after=image, row=1,
                            frozen=True)
    column = s.column
    distill = s.node("DistillationLoss", "distill", 0, weight=DISTILL_WEIGHT, temperature=TEMPERATURE)
    s.link(student, distill, "student")
    s.link(teacher, distill, "teacher")
    label = _labels(s.at(column - 1), 2)
    hard = s.node("CrossEntropyLoss", "hard", 2)
    s.link(student, hard, "input")
    s.link(label, hard, "target")


def transfer_pretrain_digits(s: Sketch) -> None:
    s.chain(IMAGE, *CONV_STAGES, *DENSE, DROPOUT, ("Linear", "lower_fc2", {"out_features": 5}),
            ("Output", "logits", {}))


def transfer_digits(s: Sketch) -> None:
    """transfer_pretrain_digits' convolutions, frozen, under a new dense head (new names, so nothing loads
    into it: the pretrained dense layer is specialised to digits 0-4 and transfers worse than a fresh one)."""
    convs = s.chain(IMAGE, *CONV_STAGES, frozen=True)
    s.chain(("Linear", "upper_fc1", {"out_features": 64}), ("ReLU", "upper_relu", {}),
            ("Dropout", "upper_dropout", {"p": 0.25}), ("Linear", "upper_fc2", {"out_features": 5}),
            ("Output", "logits", {}), after=convs)


# ---- the primers' remaining blocks: RBF units, capsules with dynamic routing, a neural ODE -------------------

def rbf_network(s: Sketch) -> None:
    """Gaussian units whose centres start on k-means clusters of the training points, then a linear read-out."""
    s.chain(("Input", "points", {"shape": [2]}),
            ("RBF", "rbf", {"centres": 24, "width": 0.3, "centre_init": "kmeans"}),
            ("Linear", "readout", {"out_features": 2}), ("Output", "logits", {}))


def capsnet_digits(s: Sketch) -> None:
    """A small CapsNet: conv, primary capsules, ten 16-D digit capsules by routing, their lengths as the scores."""
    lengths = s.chain(("Input", "image", {"shape": [1, 8, 8]}),
                      ("Conv2d", "conv", {"out_channels": 32, "kernel_size": 3, "padding": 1}), ("ReLU", "relu", {}),
                      ("PrimaryCapsules", "primary_caps", {"capsules": 8, "capsule_dim": 8, "kernel_size": 3,
                                                           "stride": 2}),
                      ("RoutingCapsules", "digit_caps", {"capsules": 10, "capsule_dim": 16, "iterations": 3}),
                      ("CapsuleLength", "length", {}))
    column = s.column
    s.chain(("Output", "lengths", {}), after=lengths)
    label = s.at(column - 1).node("Target", "label", 1, field="y", shape=[], dtype="int64")
    margin = s.node("MarginLoss", "margin", 1)
    s.link(lengths, margin, "input")
    s.link(label, margin, "target")


def neural_ode(s: Sketch) -> None:
    """Points lifted to 8 dims (a 2-D flow cannot pass one arm through the other), a flow, a linear read-out."""
    s.chain(("Input", "points", {"shape": [2]}), ("Linear", "lift", {"out_features": 8}),
            ("NeuralODE", "flow", {"hidden": 32, "solver": "rk4", "steps": 4}),
            ("Linear", "readout", {"out_features": 2}), ("Output", "logits", {}))


# ---- a recipe that trains without gradients: the self-organising map ----------------------------------------

SOM_SIDE = 8  # an 8×8 hexagonal map: 64 units for iris's 90 training flowers, room for three regions and borders


def som_iris(s: Sketch) -> None:
    """Iris's four standardised measurements onto a hexagonal Kohonen map; the Output is the distance to each unit."""
    s.chain(("Input", "flower", {"shape": [4]}),
            ("SOM", "map", {"height": SOM_SIDE, "width": SOM_SIDE, "topology": "hexagonal"}),
            ("Output", "distances", {}))


# ---- a recipe that trains on episodes: few-shot learning with a prototypical network --------------------------

FEWSHOT_WIDTH = 128  # channels of both conv blocks: the embedding's size, since a global max-pool ends the net


def fewshot_digits(s: Sketch) -> None:
    """The embedding net of a prototypical network: noise (training only), two conv blocks, a global max-pool.

    Measured 5-way on digits 5-9 after training on 0-4, over three seeds: with both, training adds 0.09-0.12 to
    the untrained net's 1-shot accuracy (to about 0.70) and 0.06-0.08 to its 5-shot accuracy (to about 0.87).
    Flattening the last 2×2 map instead starts higher untrained (0.70) but adds between -0.01 and 0.05, so
    training barely beats random features; without the noise the pooled net adds 0.04 (one seed)."""
    s.chain(IMAGE, ("GaussianNoise", "noise", {"std": 0.2}),
            ("Conv2d", "conv1", {"out_channels": FEWSHOT_WIDTH, "kernel_size": 3, "padding": 1}),
            ("BatchNorm2d", "bn1", {}), ("ReLU", "relu1", {}), ("MaxPool2d", "pool1", {"kernel_size": 2}),
            ("Conv2d", "conv2", {"out_channels": FEWSHOT_WIDTH, "kernel_size": 3, "padding": 1}),
            ("BatchNorm2d", "bn2", {}), ("ReLU", "relu2", {}), ("MaxPool2d", "pool2", {"kernel_size": 2}),
            ("GlobalMaxPool", "max_over_space", {}), ("Output", "embedding", {}))


FEWSHOT = {"name": "fewshot", "params": {"ways": 5, "shots": 5, "queries": 10, "episodes": 100,
                                         "train_classes": [0, 1, 2, 3, 4], "test_classes": [5, 6, 7, 8, 9],
                                         "test_shots": [1, 5]}}


# ---- a recipe that plays two networks against each other: the GAN -------------------------------------------

def _players(s: Sketch, generator: list[Layer], discriminator: list[Layer]) -> None:
    """The generator along the top row, from its noise Input to the fake sample; the discriminator beneath."""
    s.at(0).chain(*generator)
    s.at(0).chain(*discriminator, row=1)


def gan_ring(s: Sketch) -> None:
    """8-D noise → two ReLU layers of 128 → a point; a point → two ReLU layers of 128 → one logit."""
    _players(s, [("Input", "z", {"shape": [8], "field": "noise"}),
                 ("Linear", "g_fc1", {"out_features": 128}), ("ReLU", "g_relu1", {}),
                 ("Linear", "g_fc2", {"out_features": 128}), ("ReLU", "g_relu2", {}),
                 ("Linear", "g_out", {"out_features": 2}), ("Output", "fake", {})],
             [("Input", "point", {"shape": [2]}),
              ("Linear", "d_fc1", {"out_features": 128}), ("ReLU", "d_relu1", {}),
              ("Linear", "d_fc2", {"out_features": 128}), ("ReLU", "d_relu2", {}),
              ("Linear", "d_out", {"out_features": 1}), ("Output", "logit", {})])


def gan_digits(s: Sketch) -> None:
    """16-D noise → 256 ReLU → 64 sigmoid pixels as a 1×8×8 image; an image → 256 LeakyReLU → one logit."""
    _players(s, [("Input", "z", {"shape": [16], "field": "noise"}),
                 ("Linear", "g_fc1", {"out_features": 256}), ("ReLU", "g_relu", {}),
                 ("Linear", "g_pixels", {"out_features": 64}), ("Sigmoid", "g_sigmoid", {}),
                 ("Reshape", "g_image", {"shape": [1, 8, 8]}), ("Output", "fake", {})],
             [("Input", "image", {"shape": [1, 8, 8]}), ("Flatten", "d_flatten", {}),
              ("Linear", "d_fc1", {"out_features": 256}), ("LeakyReLU", "d_relu", {"negative_slope": 0.2}),
              ("Linear", "d_out", {"out_features": 1}), ("Output", "logit", {})])


@dataclass(frozen=True)
class Recipe:
    draw: Callable[[Sketch], None]
    dataset: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    weights: str | None = None  # init.weights: another example's run, relative to where training runs


def _adam(lr: float, epochs: int, batch_size: int, **extra: Any) -> dict[str, Any]:
    """A training section: only what differs from the defaults, so the file stays readable."""
    return {"epochs": epochs, "batch_size": batch_size, "optimizer": {"name": "adam", "lr": lr}, **extra}


FLAT_DIGITS = {"name": "digits", "params": {"flat": True}}

# Each trains in a few seconds on one CPU core; tests/training/test_examples_train.py holds them to their bars.
RECIPES: dict[str, Recipe] = {
    "spirals": Recipe(spirals, {"name": "spirals"}, _adam(0.01, 40, 32)),
    "digits_cnn": Recipe(digits_cnn, {"name": "digits"}, _adam(0.003, 15, 64)),
    "residual_cnn": Recipe(residual_cnn, {"name": "digits"},
                           {"epochs": 15, "batch_size": 64, "schedule": {"name": "cosine"},
                            "optimizer": {"name": "adamw", "lr": 0.003, "weight_decay": 0.01}}),
    "lstm_sequence": Recipe(lstm_sequence, {"name": "sequence_sum_sign"}, _adam(0.01, 20, 32)),
    "transformer": Recipe(transformer, {"name": "token_majority"}, _adam(0.003, 6, 32)),
    "text_sentiment": Recipe(text_sentiment, TEXT_DATASET, _adam(0.02, 5, 64)),
    "autoencoder": Recipe(autoencoder, {"name": "digits", "params": {"flat": True}},
                          _adam(0.005, 60, 32, task="reconstruction")),
    "sine_regression": Recipe(sine_regression, {"name": "sine"},
                              _adam(0.01, 60, 32, schedule={"name": "cosine"})),
    "vae_digits": Recipe(vae_digits, FLAT_DIGITS, _adam(0.003, 60, 32)),
    "denoising_autoencoder": Recipe(denoising_autoencoder, FLAT_DIGITS, _adam(0.003, 30, 32)),
    "sparse_autoencoder": Recipe(sparse_autoencoder, FLAT_DIGITS, _adam(0.001, 30, 32)),
    "multitask_digits": Recipe(multitask_digits, {"name": "digits"}, _adam(0.003, 15, 64)),
    "distillation_digits": Recipe(distillation_digits, {"name": "digits", "train_per_class": 5},
                                  _adam(0.01, 60, 32), weights="runs/digits_cnn"),
    "transfer_pretrain_digits": Recipe(transfer_pretrain_digits, {"name": "digits", "classes": [0, 1, 2, 3, 4]},
                                       _adam(0.003, 15, 64)),
    "transfer_digits": Recipe(transfer_digits, {"name": "digits", "classes": [5, 6, 7, 8, 9], "train_per_class": 5},
                              _adam(0.003, 10, 16), weights="runs/transfer_pretrain_digits"),
    "rbf_network": Recipe(rbf_network, {"name": "spirals"}, _adam(0.02, 30, 32)),
    "capsnet_digits": Recipe(capsnet_digits, {"name": "digits"}, _adam(0.003, 15, 64)),
    "neural_ode": Recipe(neural_ode, {"name": "spirals"}, _adam(0.005, 40, 32)),
    "som_iris": Recipe(som_iris, {"name": "iris"}, {"epochs": 30, "batch_size": 8, "recipe": {"name": "som"}}),
    "fewshot_digits": Recipe(fewshot_digits, {"name": "digits"},
                             {"epochs": 4, "optimizer": {"name": "adam", "lr": 0.001}, "recipe": FEWSHOT}),
    "adversarial_digits": Recipe(digits_cnn, {"name": "digits"}, _adam(0.003, 8, 64, recipe={
        "name": "adversarial", "params": {"epsilon": 0.2, "clamp_low": 0.0, "clamp_high": 1.0}})),
    "digits_augmented": Recipe(digits_cnn, {"name": "digits", "train_per_class": 5, "augment": [
        {"type": "mixup", "alpha": 0.4}]}, _adam(0.003, 100, 16)),  # tests/training/augment: beats the plain run
    "gan_ring": Recipe(gan_ring, {"name": "ring", "params": {"std": 0.05}},
                       _adam(0.001, 300, 256, recipe={"name": "gan", "params": {"samples_every": 10}})),
    "gan_digits": Recipe(gan_digits, {"name": "digits"},
                         _adam(0.001, 200, 64, recipe={"name": "gan", "params": {"samples_every": 10}})),
}


def build(name: str) -> Project:
    """The example's project, exactly as it is shipped."""
    example, recipe = EXAMPLES[name], RECIPES[name]
    project = Project()
    project.metadata.name = example.title
    project.metadata.description = example.description
    recipe.draw(Sketch(project))
    project.dataset = copy.deepcopy(recipe.dataset)
    project.training = copy.deepcopy(recipe.training)
    project.init.weights = recipe.weights
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
