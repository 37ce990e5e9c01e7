"""Every generated dataset: declared shapes and dtypes, determinism under a seed, portable generators."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

from nnstudio.training.data import DATASETS, load_dataset

GENERATED = [name for name, spec in DATASETS.items() if spec.group == "Generated"]

# (input shape, input dtype, task, target shape, num_classes) with default params
EXPECTED = {
    "spirals": ((2,), "float32", "classification", (), 2),
    "moons": ((2,), "float32", "classification", (), 2),
    "circles": ((2,), "float32", "classification", (), 2),
    "xor": ((2,), "float32", "classification", (), 2),
    "blobs": ((2,), "float32", "classification", (), 3),
    "sine": ((1,), "float32", "regression", (1,), None),
    "polynomial": ((1,), "float32", "regression", (1,), None),
    "sequence_sum_sign": ((20, 1), "float32", "classification", (), 2),
    "sequence_parity": ((6, 1), "float32", "classification", (), 2),
    "token_majority": ((16,), "int64", "classification", (), 2),
    "sine_forecast": ((20, 1), "float32", "regression", (1,), None),
    "ring": ((2,), "float32", "classification", (), 8),
}


def test_every_generated_dataset_has_expectations() -> None:
    assert sorted(GENERATED) == sorted(EXPECTED)


@pytest.mark.parametrize("name", GENERATED)
def test_shapes_and_dtypes(name: str) -> None:
    data = load_dataset({"name": name}, seed=3)
    input_shape, input_dtype, task, target_shape, classes = EXPECTED[name]
    assert (data.input_shape, data.input_dtype, data.task) == (input_shape, input_dtype, task)
    assert (data.target_shape, data.num_classes) == (target_shape, classes)
    assert data.kind == DATASETS[name].kind and data.test is None
    for split in data.splits().values():
        assert tuple(split.x.shape[1:]) == input_shape
        assert split.x.dtype == (torch.int64 if input_dtype == "int64" else torch.float32)
        assert tuple(split.y.shape) == (len(split), *target_shape)
        assert split.y.dtype == (torch.int64 if task == "classification" else torch.float32)
    if classes is not None:
        labels = torch.cat([data.train.y, data.val.y])
        assert set(labels.tolist()) == set(range(classes))
        assert len(data.class_names) == classes
    total = len(data.train) + len(data.val)
    assert 1000 <= total <= 2000  # small by default, so examples train in seconds


@pytest.mark.parametrize("name", GENERATED)
def test_same_seed_gives_bitwise_same_splits(name: str) -> None:
    first, second = load_dataset({"name": name}, seed=11), load_dataset({"name": name}, seed=11)
    other = load_dataset({"name": name}, seed=12)
    for part in ("train", "val"):
        a, b = getattr(first, part), getattr(second, part)
        assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert not torch.equal(first.train.x, other.train.x)


@pytest.mark.parametrize("name", GENERATED)
def test_generator_source_runs_on_its_own(name: str) -> None:
    """Export copies a generator's source into a script: it must need nothing but numpy."""
    spec = DATASETS[name]
    namespace: dict = {"np": np, "Any": object}
    source = inspect.getsource(spec.generator).replace("dict[str, Any]", "dict")
    exec(compile(source, f"<{name}>", "exec"), namespace)
    params = spec.defaults()
    copied = namespace[spec.generator.__name__](params, np.random.default_rng(5))
    original = spec.generator(params, np.random.default_rng(5))
    for a, b in zip(copied, original):
        np.testing.assert_array_equal(a, b)


def test_params_change_the_data() -> None:
    data = load_dataset({"name": "spirals", "params": {"samples": 300, "classes": 4, "noise": 0.0}}, seed=0)
    assert data.num_classes == 4 and len(data.train) + len(data.val) == 300
    tokens = load_dataset({"name": "token_majority", "params": {"vocab_size": 5, "length": 9}}, seed=0)
    assert tokens.input_shape == (9,) and int(tokens.train.x.max()) <= 4 and int(tokens.train.x.min()) >= 0
    assert tokens.vocab_size == 5 and data.vocab_size is None


def test_token_majority_labels_follow_the_rule() -> None:
    data = load_dataset({"name": "token_majority", "params": {"vocab_size": 6, "length": 10}}, seed=1)
    high = (data.train.x >= 3).sum(dim=1)
    assert torch.equal(data.train.y, (2 * high > 10).long())
    assert 0.3 < data.train.y.float().mean().item() < 0.7  # roughly balanced


def test_sequence_labels_follow_their_rules() -> None:
    parity = load_dataset({"name": "sequence_parity"}, seed=0)
    assert torch.equal(parity.train.y, parity.train.x.sum(dim=(1, 2)).long() % 2)
    signs = load_dataset({"name": "sequence_sum_sign"}, seed=0)
    assert torch.equal(signs.train.y, (signs.train.x.sum(dim=(1, 2)) > 0).long())


def test_sine_targets_follow_the_curve_without_noise() -> None:
    data = load_dataset({"name": "sine", "params": {"noise": 0.0, "frequency": 2.0}}, seed=0)
    torch.testing.assert_close(data.train.y, torch.sin(2.0 * data.train.x))
    assert float(data.train.x.min()) >= -3.1416 and float(data.train.x.max()) <= 3.1416
