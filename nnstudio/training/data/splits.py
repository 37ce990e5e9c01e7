"""Seeded shuffling and splitting, train-only statistics, and the final conversion to tensors."""

from __future__ import annotations

import numpy as np
import torch

from nnstudio.training.data.base import DatasetError, DataSplits, RawData, Split
from nnstudio.training.data.subsets import cap_per_class

MAX_HELD_OUT = 0.9  # val + test together; the rest is for training


def seeded_generators(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Two independent generators: one makes the data, one shuffles it.

    Keeping them apart means a loader that draws more or fewer numbers never changes the split
    of another dataset with the same seed.
    """
    sequence = np.random.SeedSequence(int(seed) % 2**64)
    data_seq, split_seq = sequence.spawn(2)
    return np.random.default_rng(data_seq), np.random.default_rng(split_seq)


def split_sizes(count: int, val_fraction: float, test_fraction: float) -> tuple[int, int, int]:
    """(train, val, test) sizes. A non-zero fraction always gets at least one sample."""
    sizes = []
    for fraction in (val_fraction, test_fraction):
        size = round(count * fraction)
        sizes.append(max(size, 1) if fraction > 0 else 0)
    n_val, n_test = sizes
    n_train = count - n_val - n_test
    if n_train < 1:
        raise DatasetError(f"dataset: {count} sample(s) are too few to hold out val_fraction={val_fraction} "
                           f"and test_fraction={test_fraction} and still train on something")
    return n_train, n_val, n_test


def split_indices(count: int, val_fraction: float, test_fraction: float,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Disjoint index arrays for train, val and test, from one seeded permutation."""
    n_train, n_val, _ = split_sizes(count, val_fraction, test_fraction)
    order = rng.permutation(count)
    return order[:n_train], order[n_train:n_train + n_val], order[n_train + n_val:]


def standardise(values: np.ndarray, train: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance per feature, with statistics from the training rows only.

    A feature that is constant on the training rows is only centred, never divided by zero.
    """
    values = values.astype(np.float64, copy=False)
    mean = values[train].mean(axis=0)
    std = values[train].std(axis=0)
    std = np.where(std > 1e-12, std, 1.0)
    return (values - mean) / std


def assemble(raw: RawData, val_fraction: float, test_fraction: float,
             rng: np.random.Generator, train_per_class: int | None = None) -> DataSplits:
    """Split a loader's arrays, fit train-only statistics, and wrap everything as tensors.

    `train_per_class` caps the training rows per class before `finish` fits anything on them, so
    statistics come from the samples that are really trained on; val and test stay whole.
    """
    count = int(raw.x.shape[0])
    if count == 0:
        raise DatasetError("dataset: it holds no samples")
    if raw.y.shape[0] != count:
        raise DatasetError(f"dataset: {count} inputs but {raw.y.shape[0]} targets")
    train, val, test = split_indices(count, val_fraction, test_fraction, rng)
    if train_per_class is not None:
        train = cap_per_class(train, raw.y, train_per_class)
    x, y = raw.finish(train) if raw.finish is not None else (raw.x, raw.y)
    x, y = _as_model_arrays(x, y, raw.task)
    sizes = f"{len(train)} train, {len(val)} validation" + (f", {len(test)} test" if len(test) else "")
    cap = f" At most {train_per_class} training samples per class." if train_per_class is not None else ""
    return DataSplits(
        train=_split(x, y, train),
        val=_split(x, y, val) if len(val) else None,
        test=_split(x, y, test) if len(test) else None,
        input_shape=tuple(int(d) for d in x.shape[1:]),
        input_dtype="int64" if x.dtype == np.int64 else "float32",
        task=raw.task,
        num_classes=raw.num_classes,
        target_shape=tuple(int(d) for d in y.shape[1:]),
        class_names=raw.class_names,
        feature_names=raw.feature_names,
        kind=raw.kind,
        description=f"{raw.description} Split: {sizes} samples.{cap}".strip(),
        vocab_size=(raw.vocab_size or int(x.max()) + 1) if x.dtype == np.int64 else None,
        vocabulary=raw.vocabulary,
    )


def _as_model_arrays(x: np.ndarray, y: np.ndarray, task: str) -> tuple[np.ndarray, np.ndarray]:
    """The dtypes and target layout the engine expects for each task. int64 inputs stay tokens."""
    x = x.astype(np.int64 if x.dtype == np.int64 else np.float32, copy=False)
    if x.dtype == np.float32 and not np.isfinite(x).all():
        raise DatasetError("dataset: the inputs hold NaN or infinite values")
    if task == "classification":
        y = y.reshape(-1).astype(np.int64, copy=False)
    elif task == "binary":
        y = y.reshape(-1, 1).astype(np.float32, copy=False)
    else:
        y = (y.reshape(-1, 1) if y.ndim == 1 else y).astype(np.float32, copy=False)
    return x, y


def _split(x: np.ndarray, y: np.ndarray, rows: np.ndarray) -> Split:
    return Split(torch.from_numpy(np.ascontiguousarray(x[rows])),
                 torch.from_numpy(np.ascontiguousarray(y[rows])))
