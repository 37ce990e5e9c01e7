"""Splitting: requested sizes, disjoint parts, defaults per group, and switching tasks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnstudio.training.data import DATASETS, DatasetError, load_dataset
from nnstudio.training.data.splits import split_indices, split_sizes


def _rows(split) -> set[tuple[float, ...]]:
    return {tuple(row) for row in split.x.reshape(len(split), -1).tolist()}


def test_splits_have_requested_sizes_and_do_not_overlap() -> None:
    section = {"name": "moons", "params": {"samples": 500}, "val_fraction": 0.2, "test_fraction": 0.1}
    data = load_dataset(section, seed=4)
    assert (len(data.train), len(data.val), len(data.test)) == (350, 100, 50)
    train, val, test = _rows(data.train), _rows(data.val), _rows(data.test)
    assert len(train) + len(val) + len(test) == 500  # continuous noise: every point is distinct
    assert not (train & val or train & test or val & test)


def test_split_indices_cover_every_row_once() -> None:
    train, val, test = split_indices(101, 0.25, 0.15, np.random.default_rng(0))
    assert sorted(np.concatenate([train, val, test]).tolist()) == list(range(101))
    assert (len(val), len(test)) == (25, 15)


def test_small_fractions_still_get_a_sample_and_zero_means_none() -> None:
    assert split_sizes(10, 0.01, 0.0) == (9, 1, 0)
    data = load_dataset({"name": "xor", "params": {"samples": 50}, "val_fraction": 0.0}, seed=0)
    assert data.val is None and data.test is None and len(data.train) == 50


def test_too_few_samples_to_split_is_a_dataset_error() -> None:
    with pytest.raises(DatasetError, match="too few"):
        split_sizes(2, 0.5, 0.4)


def test_defaults_depend_on_the_group() -> None:
    assert (DATASETS["spirals"].val_fraction, DATASETS["spirals"].test_fraction) == (0.2, 0.0)
    assert DATASETS["iris"].test_fraction == 0.2 and DATASETS["csv"].test_fraction == 0.1


def test_split_is_independent_of_torch_and_numpy_global_state() -> None:
    torch.manual_seed(123)
    np.random.seed(5)
    first = load_dataset({"name": "blobs"}, seed=9)
    torch.manual_seed(7)
    np.random.seed(77)
    second = load_dataset({"name": "blobs"}, seed=9)
    assert torch.equal(first.val.x, second.val.x) and torch.equal(first.train.y, second.train.y)


def test_reconstruction_targets_are_the_inputs() -> None:
    data = load_dataset({"name": "digits", "params": {"flat": True}}, seed=0).with_task("reconstruction")
    assert data.task == "reconstruction" and data.target_shape == (64,) and data.num_classes is None
    for split in data.splits().values():
        assert split.y is split.x


def test_two_classes_switch_between_classification_and_binary() -> None:
    data = load_dataset({"name": "moons"}, seed=0)
    binary = data.with_task("binary")
    assert binary.target_shape == (1,) and binary.train.y.dtype == torch.float32
    assert torch.equal(binary.train.y[:, 0].long(), data.train.y)
    back = binary.with_task("classification")
    assert torch.equal(back.train.y, data.train.y) and back.target_shape == ()


def test_impossible_task_switch_is_a_dataset_error() -> None:
    with pytest.raises(DatasetError, match="task"):
        load_dataset({"name": "sine"}, seed=0).with_task("classification")
    with pytest.raises(DatasetError, match="task"):
        load_dataset({"name": "blobs"}, seed=0).with_task("binary")
