"""Synthetic datasets as pure numpy functions of (params, rng) -> (x, y).

Each function uses nothing but numpy and its arguments, so `inspect.getsource` of one of them
can be pasted into an exported training script and produce the same samples from the same
seeded generator. `params` is a complete dict (defaults filled in, values already checked).
Classification labels are integers 0..classes-1; regression targets are float arrays [N, 1].
"""

from __future__ import annotations

from typing import Any

import numpy as np


def spirals(params: dict[str, Any], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Spiral arms winding out from the centre, one class per arm, inside the unit disc."""
    samples, classes = params["samples"], params["classes"]
    counts = np.full(classes, samples // classes)
    counts[: samples % classes] += 1
    labels = np.repeat(np.arange(classes), counts)
    # sqrt spreads points evenly along each arm instead of crowding the centre
    radius = np.sqrt(rng.uniform(0.0, 1.0, samples))
    angle = radius * params["turns"] * 2.0 * np.pi + labels * (2.0 * np.pi / classes)
    points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    points += rng.normal(0.0, params["noise"], points.shape)
    return points, labels


def moons(params: dict[str, Any], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles, centred on the origin."""
    samples = params["samples"]
    labels = np.arange(samples) % 2
    angle = rng.uniform(0.0, np.pi, samples)
    upper = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    lower = np.stack([1.0 - np.cos(angle), 0.5 - np.sin(angle)], axis=1)
    points = np.where(labels[:, None] == 0, upper, lower) - np.array([0.5, 0.25])
    points += rng.normal(0.0, params["noise"], points.shape)
    return points, labels


def circles(params: dict[str, Any], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A ring (class 0) around a smaller ring (class 1) whose radius is `factor`."""
    samples = params["samples"]
    labels = np.arange(samples) % 2
    angle = rng.uniform(0.0, 2.0 * np.pi, samples)
    radius = np.where(labels == 0, 1.0, params["factor"])
    points = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    points += rng.normal(0.0, params["noise"], points.shape)
    return points, labels


def xor(params: dict[str, Any], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Points in the square [-1, 1]^2; the class is 1 where exactly one coordinate is positive."""
    points = rng.uniform(-1.0, 1.0, (params["samples"], 2))
    labels = ((points[:, 0] > 0) != (points[:, 1] > 0)).astype(np.int64)
    points += rng.normal(0.0, params["noise"], points.shape)
    return points, labels


def blobs(params: dict[str, Any], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clusters around centres drawn in [-1, 1]^2, one class per cluster."""
    samples, classes = params["samples"], params["classes"]
    centres = rng.uniform(-1.0, 1.0, (classes, 2))
    labels = np.arange(samples) % classes
    points = centres[labels] + rng.normal(0.0, params["std"], (samples, 2))
    return points, labels


def sine(params: dict[str, Any], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """y = sin(frequency * x) plus Gaussian noise, for x drawn evenly from [x_min, x_max]."""
    x = rng.uniform(params["x_min"], params["x_max"], (params["samples"], 1))
    y = np.sin(params["frequency"] * x) + rng.normal(0.0, params["noise"], x.shape)
    return x, y


def polynomial(params: dict[str, Any], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A random polynomial of the given degree on [-1, 1], scaled to unit spread, plus noise.

    The coefficients come from the seed, so each seed gives a different curve.
    """
    coefficients = rng.normal(0.0, 1.0, params["degree"] + 1)
    x = rng.uniform(-1.0, 1.0, (params["samples"], 1))
    clean = np.polynomial.polynomial.polyval(x, coefficients)
    clean = (clean - clean.mean()) / max(float(clean.std()), 1e-6)
    return x, clean + rng.normal(0.0, params["noise"], x.shape)


def sequence_sum_sign(params: dict[str, Any], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Sequences of Gaussian values [T, 1]; the class is 1 when their sum is positive."""
    x = rng.normal(0.0, 1.0, (params["samples"], params["length"], 1))
    return x, (x.sum(axis=(1, 2)) > 0).astype(np.int64)


def sequence_parity(params: dict[str, Any], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Sequences of 0/1 values [T, 1]; the class is 1 when the number of ones is odd."""
    bits = rng.integers(0, 2, (params["samples"], params["length"]))
    return bits[:, :, None].astype(np.float64), bits.sum(axis=1) % 2


def token_majority(params: dict[str, Any], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Token sequences [T] from a vocabulary; the class is 1 when 'high' tokens outnumber 'low' ones.

    Tokens below vocab_size // 2 are low, the rest high. Every position counts, so a model has
    to look at the whole sequence; each sample draws its own mix, so many are close calls.
    """
    samples, length, vocab = params["samples"], params["length"], params["vocab_size"]
    half = vocab // 2
    share = rng.uniform(0.25, 0.75, (samples, 1))
    high = rng.uniform(0.0, 1.0, (samples, length)) < share
    tokens = np.where(high, rng.integers(half, vocab, (samples, length)), rng.integers(0, half, (samples, length)))
    tied = np.flatnonzero(2 * high.sum(axis=1) == length)
    first_low = np.argmax(~high[tied], axis=1)
    tokens[tied, first_low] = rng.integers(half, vocab, len(tied))  # break ties towards 'high'
    return tokens.astype(np.int64), (2 * (tokens >= half).sum(axis=1) > length).astype(np.int64)


def sine_forecast(params: dict[str, Any], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Noisy windows [T, 1] of sine waves with random phase and frequency; the target is the next
    noise-free value [1]."""
    samples, length = params["samples"], params["length"]
    phase = rng.uniform(0.0, 2.0 * np.pi, (samples, 1))
    frequency = rng.uniform(0.5, 1.5, (samples, 1))
    times = np.arange(length + 1)[None, :] * params["step"]
    wave = np.sin(frequency * times + phase)
    window = wave[:, :length] + rng.normal(0.0, params["noise"], (samples, length))
    return window[:, :, None], wave[:, length:]


def ring(params: dict[str, Any], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian modes of standard deviation `std` evenly spaced on a circle of `radius`; the class is the mode.

    With the defaults it is the GAN literature's ring of 8 Gaussians (radius 2, std 0.02; Metz et al. 2017).
    """
    samples, modes = params["samples"], params["modes"]
    labels = np.arange(samples) % modes
    angle = labels * (2.0 * np.pi / modes)
    centres = params["radius"] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return centres + rng.normal(0.0, params["std"], (samples, 2)), labels
