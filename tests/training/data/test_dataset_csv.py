"""CSV files: categories, missing values under both policies, and every kind of bad file."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnstudio.training.data import DatasetError, load_dataset

PEOPLE = """age,city,income,bought
34,Oslo,52000,yes
28,Bergen,,no
45,Oslo,61000,yes
,Bergen,38000,no
52,Tromso,75000,yes
39,,47000,no
23,Bergen,31000,no
61,Oslo,82000,yes
30,Tromso,45000,no
48,Oslo,69000,yes
"""


def _write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _load(path: Path, seed: int = 0, **params):
    section = {"name": "csv", "params": {"path": path.name, **params}, "val_fraction": 0.2, "test_fraction": 0.0}
    return load_dataset(section, seed=seed, base_dir=path.parent)


def test_categorical_columns_become_one_hot_and_rows_with_gaps_are_dropped(tmp_path) -> None:
    data = _load(_write(tmp_path, PEOPLE), target="bought")
    assert data.feature_names == ["age", "city=Bergen", "city=Oslo", "city=Tromso", "income"]
    assert data.input_shape == (5,) and data.task == "classification" and data.class_names == ["no", "yes"]
    assert len(data.train) + len(data.val) == 7  # three rows miss a feature
    one_hot = torch.cat([data.train.x, data.val.x])[:, 1:4]
    assert torch.equal(one_hot.sum(dim=1), torch.ones(7))
    assert "3 rows with missing values dropped" in data.description


def test_impute_fills_with_training_mean_and_mode(tmp_path) -> None:
    data = _load(_write(tmp_path, PEOPLE), target="bought", missing="impute")
    assert len(data.train) + len(data.val) == 10
    x = torch.cat([data.train.x, data.val.x])
    assert torch.isfinite(x).all()
    assert torch.equal(x[:, 1:4].sum(dim=1), torch.ones(10))  # the missing city got one category
    train_age = data.train.x[:, 0].double()
    assert abs(float(train_age.mean())) < 1e-5  # standardised with training statistics


def test_numbers_as_target_give_regression_or_classes(tmp_path) -> None:
    path = _write(tmp_path, PEOPLE)
    regression = _load(path, target="income", missing="impute", task="regression")
    assert regression.task == "regression" and regression.target_shape == (1,)
    auto = _load(path, target="income")  # many distinct values: regression
    assert auto.task == "regression"
    binary = _load(path, target="bought", task="binary")
    assert binary.target_shape == (1,) and binary.train.y.dtype == torch.float32


def test_target_defaults_to_last_column_and_delimiter_is_guessed(tmp_path) -> None:
    text = "a;b;label\n" + "".join(f"{i};{i % 3};{i % 2}\n" for i in range(30))
    data = _load(_write(tmp_path, text))
    assert data.feature_names == ["a", "b"] and data.class_names == ["0", "1"]


def test_forced_categorical_and_ignored_columns(tmp_path) -> None:
    text = "id,zone,x,y\n" + "".join(f"{i},{i % 3},{i * 0.5},{i % 2}\n" for i in range(30))
    data = _load(_write(tmp_path, text), target="y", categorical="zone", ignore="id")
    assert data.feature_names == ["zone=0", "zone=1", "zone=2", "x"]


def test_same_seed_same_split(tmp_path) -> None:
    path = _write(tmp_path, PEOPLE)
    first, second = _load(path, seed=3, target="bought"), _load(path, seed=3, target="bought")
    assert torch.equal(first.train.x, second.train.x) and torch.equal(first.val.y, second.val.y)


@pytest.mark.parametrize(("text", "params", "expected"), [
    (PEOPLE, {"target": "price"}, r"no column 'price'; its columns are age, city, income, bought"),
    ("a,b,c\n1,2,0\n3,oops,1\n" + "5,6,0\n" * 5, {}, r"line 3 \(data row 2\), column 'b': 'oops' is not a number"),
    ("a,b\n1,2.5\n3,oops\n" + "5,6.5\n" * 5, {}, r"line 3 \(data row 2\), column 'b': 'oops' is not a number"),
    ("a,b\n1,2\n3,4,5\n", {}, r"line 3: 3 fields, but the header on line 1 has 2"),
    ("", {}, r"data\.csv: the file is empty"),
    ("\n\n", {}, r"data\.csv: the file is empty"),
    ("a,b\n", {}, r"header but no data rows"),
    ("a,a\n1,2\n", {}, r"names column 'a' twice"),
    ("a,b\n,1\n,2\n", {}, r"column 'a': every value is missing"),
    ("a,b\n1,\n2,\n", {}, r"every row misses a value"),
    ("a,b\n1,x\n2,x\n", {}, r"column 'b': a single class, 'x', so there is nothing to classify"),
    ("a,b\n1,x\n2,y\n3,z\n", {"task": "binary"}, r"binary needs exactly 2"),
    ("a,b\n1,x\n2,y\n", {"task": "regression"}, r"column 'b': 'x' is not a number"),
    ("a,b\n1,x\n2,y\n", {"categorical": "c"}, r"dataset\.params\.categorical: .* no column 'c'"),
    ("a,b\nx1,1\nx2,0\nx3,1\n", {"max_categories": 2}, r"column 'a': 3 different text values"),
    ("b\n1\n0\n", {}, r"no feature columns"),
    ('a,b\n"1,2\n', {}, r"data\.csv"),
])
def test_bad_files_name_the_place(tmp_path, text: str, params: dict, expected: str) -> None:
    with pytest.raises(DatasetError, match=expected):
        _load(_write(tmp_path, text), **params)


def test_missing_file_names_the_path(tmp_path) -> None:
    with pytest.raises(DatasetError, match=r"nowhere\.csv: no such file"):
        _load(tmp_path / "nowhere.csv")


def test_a_folder_is_not_a_file(tmp_path) -> None:
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(DatasetError, match="not a file"):
        _load(tmp_path / "folder.csv")


def test_binary_garbage_is_refused(tmp_path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"\xff\xfe\x00\x81abc")
    with pytest.raises(DatasetError, match="not UTF-8"):
        _load(path)


CELLS = st.sampled_from(["1", "2.5", "x", "", "NA", "-3", "a b", '"', "1e999", ";", "0", "y"])


def _csv_bytes(rows: list[list[str]]) -> bytes:
    return "\n".join(",".join(row) for row in rows).encode("utf-8")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda s: s.encode("utf-8")),
    st.lists(st.lists(CELLS, max_size=5), max_size=12).map(_csv_bytes),
    st.lists(st.lists(CELLS, min_size=3, max_size=3), max_size=15).map(lambda rows: _csv_bytes([["a", "b", "c"],
                                                                                                  *rows])),
), missing=st.sampled_from(["drop", "impute"]), task=st.sampled_from(["auto", "classification", "binary",
                                                                     "regression"]))
def test_random_files_raise_only_dataset_errors(tmp_path, data: bytes, missing: str, task: str) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    section = {"name": "csv", "params": {"path": str(path), "missing": missing, "task": task},
               "val_fraction": 0.2}
    try:
        loaded = load_dataset(section, seed=0)
    except DatasetError as exc:
        assert str(exc)
        return
    x = torch.cat([s.x for s in loaded.splits().values()])
    assert torch.isfinite(x).all() and not any(math.isnan(v) for v in loaded.train.y.flatten().tolist())
