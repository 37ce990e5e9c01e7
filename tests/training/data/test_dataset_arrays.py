"""NumPy files: .npz archives and .npy pairs, never unpickled, with clear errors for bad arrays."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnstudio.training.data import DatasetError, load_dataset


def _load(tmp_path, seed: int = 0, **params):
    return load_dataset({"name": "numpy", "params": params, "val_fraction": 0.25}, seed=seed, base_dir=tmp_path)


def test_npz_with_integer_labels_is_classification(tmp_path) -> None:
    x = np.random.default_rng(0).normal(size=(40, 3, 4)).astype(np.float32)
    np.savez(tmp_path / "data.npz", x=x, y=np.arange(40) % 4)
    data = _load(tmp_path, path="data.npz")
    assert data.input_shape == (3, 4) and data.task == "classification" and data.num_classes == 4
    assert data.kind == "sequence" and (len(data.train), len(data.val), len(data.test)) == (26, 10, 4)
    rows = {tuple(r) for s in data.splits().values() for r in s.x.reshape(len(s), -1).tolist()}
    assert len(rows) == 40  # every sample exactly once across the splits


def test_npy_pair_with_float_targets_is_regression(tmp_path) -> None:
    np.save(tmp_path / "x.npy", np.linspace(0, 1, 30).reshape(30, 1))
    np.save(tmp_path / "y.npy", np.linspace(0, 2, 60).reshape(30, 2))
    data = _load(tmp_path, path="x.npy", y_path="y.npy", standardize=True)
    assert data.task == "regression" and data.target_shape == (2,) and data.train.y.dtype == torch.float32
    assert abs(float(data.train.x.mean())) < 1e-5


def test_token_ids_and_binary_task(tmp_path) -> None:
    tokens = np.random.default_rng(1).integers(0, 9, (50, 7))
    np.savez(tmp_path / "tokens.npz", x=tokens, y=(tokens.sum(axis=1) > 28).astype(np.int64))
    data = _load(tmp_path, path="tokens.npz", x_dtype="int64", task="binary")
    assert data.input_dtype == "int64" and data.kind == "tokens" and data.target_shape == (1,)
    assert data.train.x.dtype == torch.int64 and data.vocab_size == int(tokens.max()) + 1


@pytest.mark.parametrize(("arrays", "params", "expected"), [
    ({"x": np.zeros((4, 2))}, {}, r"data\.npz: the archive has no array named 'y' \(it holds x\)"),
    ({"y": np.zeros(4)}, {}, r"data\.npz: the archive has no array named 'x'"),
    ({"x": np.zeros((4, 2)), "y": np.zeros(5)}, {}, r"x has 4 samples but y has 5"),
    ({"x": np.array(["a", "b"]), "y": np.zeros(2)}, {}, r"x must be a numeric array"),
    ({"x": np.full((3, 2), np.nan), "y": np.zeros(3)}, {}, r"x sample 0 holds NaN"),
    ({"x": np.zeros((0, 2)), "y": np.zeros(0)}, {}, r"x is empty"),
    ({"x": np.zeros((3, 0)), "y": np.zeros(3)}, {}, r"x is empty"),
    ({"x": np.zeros((3, 2)), "y": np.zeros((3, 0))}, {}, r"y is empty"),
    ({"x": np.zeros((4, 2)), "y": np.array([0, 1, 2, 0])}, {"task": "binary"}, r"binary needs exactly 2"),
    ({"x": np.full((4, 2), 0.5), "y": np.zeros(4)}, {"x_dtype": "int64"}, r"fractional values"),
    ({"x": np.full((4, 2), -1), "y": np.zeros(4)}, {"x_dtype": "int64"}, r"must be >= 0"),
    ({"x": np.zeros((4, 2)), "y": np.zeros((4, 3), np.int64)}, {"task": "classification"}, r"shape \[N\]"),
])
def test_bad_archives_name_the_file(tmp_path, arrays: dict, params: dict, expected: str) -> None:
    np.savez(tmp_path / "data.npz", **arrays)
    with pytest.raises(DatasetError, match=expected):
        _load(tmp_path, path="data.npz", **params)


def test_pickled_arrays_are_never_loaded(tmp_path) -> None:
    np.save(tmp_path / "x.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    np.save(tmp_path / "y.npy", np.zeros(2))
    with pytest.raises(DatasetError, match=r"x\.npy, the inputs: holds Python objects .* never loaded"):
        _load(tmp_path, path="x.npy", y_path="y.npy")


def test_missing_and_garbage_files(tmp_path) -> None:
    with pytest.raises(DatasetError, match=r"absent\.npz: no such file"):
        _load(tmp_path, path="absent.npz")
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DatasetError, match=r"junk\.npz: cannot read"):
        _load(tmp_path, path="junk.npz")
    np.save(tmp_path / "x.npy", np.zeros((3, 2)))
    with pytest.raises(DatasetError, match=r"dataset\.params\.y_path"):
        _load(tmp_path, path="x.npy")
    with pytest.raises(DatasetError, match=r"missing_y\.npy: no such file"):
        _load(tmp_path, path="x.npy", y_path="missing_y.npy")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.sampled_from([b"", b"\x93NUMPY\x01\x00", b"PK\x03\x04", b"\x80\x04"]), body=st.binary(max_size=200))
def test_random_files_raise_only_dataset_errors(tmp_path, prefix: bytes, body: bytes) -> None:
    (tmp_path / "fuzz.npz").write_bytes(prefix + body)
    np.save(tmp_path / "y.npy", np.zeros(3))
    with contextlib.suppress(DatasetError):
        _load(tmp_path, path="fuzz.npz", y_path="y.npy")
