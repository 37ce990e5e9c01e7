"""Catalogue entries for the synthetic datasets: their params, and how their samples are described.

Defaults stay small (1,000 to 2,000 samples) so that the examples train in seconds on a CPU.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from nnstudio.layers.params import ParamSpec, float_param, int_param
from nnstudio.training.data import generators as gen
from nnstudio.training.data.base import DatasetSpec, LoadContext, RawData

Generator = Callable[[dict[str, Any], np.random.Generator], tuple[np.ndarray, np.ndarray]]
MAX_SAMPLES = 200_000
MAX_VALUES = 20_000_000  # samples x length for sequence datasets


def _samples(default: int = 1000) -> ParamSpec:
    return int_param("samples", default, "How many samples to generate, before splitting.", 10, MAX_SAMPLES)


def _noise(default: float, doc: str = "Standard deviation of the Gaussian noise added to each point.") -> ParamSpec:
    return float_param("noise", default, doc, 0.0, 10.0)


def _classes(default: int, doc: str) -> ParamSpec:
    return int_param("classes", default, doc, 2, 10)


def _length(default: int, maximum: int = 512) -> ParamSpec:
    return int_param("length", default, "Time steps in each sequence.", 2, maximum)


def _generated(name: str, title: str, summary: str, generator: Generator, params: tuple[ParamSpec, ...],
               kind: str, task: str, features: list[str] | None = None,
               class_names: Callable[[dict[str, Any]], list[str]] | None = None,
               check: Callable[[dict[str, Any]], list[tuple[str, str]]] | None = None) -> DatasetSpec:
    """A catalogue entry whose loader calls the generator with the data generator of the seed."""

    def load(values: dict[str, Any], context: LoadContext) -> RawData:
        x, y = generator(values, context.rng)
        names = class_names(values) if class_names else None
        return RawData(x=np.asarray(x, np.int64 if kind == "tokens" else np.float64), y=np.asarray(y),
                       task=task, kind=kind, num_classes=len(names) if names else None, class_names=names,
                       feature_names=features, description=f"{len(x)} generated samples. {summary}",
                       vocab_size=values.get("vocab_size"))

    def check_all(values: dict[str, Any]) -> list[tuple[str, str]]:
        return _size_check(values) + (check(values) if check else [])

    return DatasetSpec(name=name, title=title, group="Generated", summary=summary, params=params, load=load,
                       kind=kind, task=task, generator=generator, check=check_all)


def _size_check(values: dict[str, Any]) -> list[tuple[str, str]]:
    """Keep sequence datasets within memory: samples times length has a ceiling."""
    total = values["samples"] * values.get("length", 1)
    if total <= MAX_VALUES:
        return []
    return [("dataset.params.samples", f"samples x length is {total:,}, over the limit of {MAX_VALUES:,} values")]


def _numbered(values: dict[str, Any]) -> list[str]:
    return [f"class {k}" for k in range(values["classes"])]


def _range_check(values: dict[str, Any]) -> list[tuple[str, str]]:
    if values["x_min"] < values["x_max"]:
        return []
    return [("dataset.params.x_max", f"must be greater than x_min ({values['x_min']})")]


_POINTS = ["x1", "x2"]

GENERATED: tuple[DatasetSpec, ...] = (
    _generated(
        "spirals", "Spirals", "Interleaved spiral arms in the plane, one class per arm.", gen.spirals,
        (_samples(), _classes(2, "Number of spiral arms, one class each."),
         float_param("turns", 1.5, "How many times each arm winds around the centre.", 0.25, 5.0),
         _noise(0.05)),
        "points2d", "classification", _POINTS, _numbered),
    _generated(
        "moons", "Moons", "Two interleaving half circles.", gen.moons, (_samples(), _noise(0.1)),
        "points2d", "classification", _POINTS, lambda v: ["upper moon", "lower moon"]),
    _generated(
        "circles", "Circles", "A small ring inside a larger one.", gen.circles,
        (_samples(), float_param("factor", 0.5, "Radius of the inner ring relative to the outer ring.", 0.05,
                                 0.95), _noise(0.05)),
        "points2d", "classification", _POINTS, lambda v: ["outer ring", "inner ring"]),
    _generated(
        "xor", "XOR", "The four quadrants of a square, diagonal quadrants sharing a class.", gen.xor,
        (_samples(), _noise(0.05)), "points2d", "classification", _POINTS, lambda v: ["same sign", "opposite signs"]),
    _generated(
        "blobs", "Blobs", "Gaussian clusters around random centres, one class per cluster.", gen.blobs,
        (_samples(), _classes(3, "Number of clusters, one class each."),
         float_param("std", 0.2, "Spread (standard deviation) of each cluster.", 0.001, 5.0)),
        "points2d", "classification", _POINTS, _numbered),
    _generated(
        "sine", "Sine regression", "Fit y = sin(frequency * x) from noisy samples.", gen.sine,
        (_samples(), _noise(0.1, "Standard deviation of the noise added to y."),
         float_param("x_min", -3.14159, "Smallest x value."), float_param("x_max", 3.14159, "Largest x value."),
         float_param("frequency", 1.0, "How fast the sine wave oscillates.", 0.01, 100.0)),
        "tabular", "regression", ["x"], check=_range_check),
    _generated(
        "polynomial", "Polynomial regression",
        "Fit a random polynomial on [-1, 1]; its coefficients come from the seed.", gen.polynomial,
        (_samples(), int_param("degree", 3, "Degree of the polynomial.", 1, 10),
         _noise(0.1, "Standard deviation of the noise added to y (the curve itself has unit spread).")),
        "tabular", "regression", ["x"]),
    _generated(
        "sequence_sum_sign", "Sequence sum sign",
        "Sequences of random numbers; is their sum positive? Suits recurrent networks.", gen.sequence_sum_sign,
        (_samples(), _length(20)), "sequence", "classification", None, lambda v: ["negative", "positive"]),
    _generated(
        "sequence_parity", "Sequence parity",
        "Sequences of zeros and ones; is the number of ones odd? Each extra step makes it much harder.",
        gen.sequence_parity, (_samples(2000), _length(6, 64)), "sequence", "classification", None,
        lambda v: ["even", "odd"]),
    _generated(
        "token_majority", "Token majority",
        "Token sequences; do tokens from the upper half of the vocabulary outnumber the rest? "
        "Suits embeddings and attention.", gen.token_majority,
        (_samples(2000), _length(16),
         int_param("vocab_size", 8, "Number of distinct tokens; ids run from 0 to vocab_size - 1.", 2, 10_000)),
        "tokens", "classification", None, lambda v: ["mostly low tokens", "mostly high tokens"]),
    _generated(
        "sine_forecast", "Sine forecast",
        "Windows of noisy sine waves with random phase and frequency; predict the next clean value.",
        gen.sine_forecast,
        (_samples(), _length(20), _noise(0.05, "Standard deviation of the noise on each reading."),
         float_param("step", 0.25, "Time between readings, in radians at unit frequency.", 0.01, 3.0)),
        "sequence", "regression", None),
    _generated(
        "ring", "Ring of Gaussians",
        "Gaussian modes evenly spaced on a circle, one class per mode: the usual test of whether a GAN covers "
        "every mode.", gen.ring,
        (_samples(2000), int_param("modes", 8, "Number of Gaussian modes on the circle, one class each.", 2, 64),
         float_param("radius", 2.0, "Radius of the circle the mode centres lie on.", 0.01, 100.0),
         float_param("std", 0.02, "Standard deviation of each mode.", 0.0001, 10.0)),
        "points2d", "classification", _POINTS, lambda v: [f"mode {k}" for k in range(v["modes"])]),
)
