"""Datasets bundled with scikit-learn: shapes, scaling fitted on the training split, missing extra."""

from __future__ import annotations

import sys

import pytest
import torch

from nnstudio.training.data import DatasetError, load_dataset


def test_digits_are_images_in_unit_range() -> None:
    data = load_dataset({"name": "digits"}, seed=0)
    assert data.input_shape == (1, 8, 8) and data.kind == "image" and data.num_classes == 10
    assert tuple(data.train.x.shape[1:]) == (1, 8, 8) and data.train.y.dtype == torch.int64
    assert len(data.train) + len(data.val) + len(data.test) == 1797
    everything = torch.cat([s.x for s in data.splits().values()])
    assert float(everything.min()) == 0.0 and float(everything.max()) == 1.0
    assert data.class_names == [str(d) for d in range(10)]


def test_flat_digits() -> None:
    data = load_dataset({"name": "digits", "params": {"flat": True}}, seed=0)
    assert data.input_shape == (64,) and data.kind == "tabular" and len(data.feature_names) == 64


@pytest.mark.parametrize(("name", "features", "task", "classes", "target_shape"), [
    ("iris", 4, "classification", 3, ()),
    ("wine", 13, "classification", 3, ()),
    ("breast_cancer", 30, "binary", 2, (1,)),
    ("diabetes", 10, "regression", None, (1,)),
])
def test_tabular_shapes_and_train_only_standardisation(name, features, task, classes, target_shape) -> None:
    data = load_dataset({"name": name}, seed=2)
    assert data.input_shape == (features,) and data.task == task and data.num_classes == classes
    assert data.target_shape == target_shape and len(data.feature_names) == features
    train = data.train.x.double()
    torch.testing.assert_close(train.mean(0), torch.zeros(features, dtype=torch.float64), atol=1e-5, rtol=0)
    torch.testing.assert_close(train.std(0, unbiased=False), torch.ones(features, dtype=torch.float64),
                               atol=1e-4, rtol=0)
    assert data.test is not None  # held-out data matters for real measurements


def test_breast_cancer_targets_are_zero_one_floats() -> None:
    data = load_dataset({"name": "breast_cancer"}, seed=0)
    assert data.train.y.dtype == torch.float32 and set(data.train.y.flatten().tolist()) == {0.0, 1.0}


def test_diabetes_target_scaling_can_be_switched_off() -> None:
    raw = load_dataset({"name": "diabetes", "params": {"scale_target": False}}, seed=0)
    assert float(raw.train.y.min()) >= 25.0
    scaled = load_dataset({"name": "diabetes"}, seed=0)
    assert abs(float(scaled.train.y.mean())) < 1e-4


def test_missing_scikit_learn_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(DatasetError, match=r'pip install "nnstudio\[datasets\]"'):
        load_dataset({"name": "iris"}, seed=0)
