"""Class subsets and per-class training caps: relabelling, names, counts, seeds, and every error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from nnstudio.training.data import DatasetError, dataset_problems, load_dataset
from nnstudio.training.data.catalogue import SECTION_KEYS
from nnstudio.training.data.subsets import CLASSES, SUBSET_PARAMS, TRAIN_PER_CLASS, cap_per_class


def _numbered_arrays(tmp_path: Path, labels: list[int]) -> dict:
    """A numpy dataset whose first feature is the row number, so each sample can be traced back."""
    x = np.stack([np.arange(len(labels)), np.zeros(len(labels))], axis=1).astype(np.float64)
    np.savez(tmp_path / "data.npz", x=x, y=np.array(labels, np.int64))
    return {"name": "numpy", "params": {"path": str(tmp_path / "data.npz")}, "val_fraction": 0.2,
            "test_fraction": 0.2}


def _all(data) -> tuple[torch.Tensor, torch.Tensor]:
    splits = list(data.splits().values())
    return torch.cat([s.x for s in splits]), torch.cat([s.y for s in splits])


def _same_splits(first, second) -> bool:
    return all(torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
               for a, b in zip(first.splits().values(), second.splits().values(), strict=True))


# --- classes ---------------------------------------------------------------------------------
def test_classes_keep_their_samples_and_are_relabelled_in_list_order(tmp_path) -> None:
    labels = [k % 4 for k in range(80)]
    section = {**_numbered_arrays(tmp_path, labels), "classes": [3, 1]}
    data = load_dataset(section, seed=0, base_dir=tmp_path)
    x, y = _all(data)
    rows = x[:, 0].round().long().tolist()
    assert sorted(rows) == [r for r in range(80) if labels[r] in (3, 1)]
    assert all({3: 0, 1: 1}[labels[row]] == int(label) for row, label in zip(rows, y.tolist()))
    assert data.num_classes == 2 and data.class_names == ["3", "1"]


def test_digits_five_to_nine_become_five_classes() -> None:
    data = load_dataset({"name": "digits", "classes": [5, 6, 7, 8, 9]}, seed=0)
    assert data.num_classes == 5 and data.class_names == ["5", "6", "7", "8", "9"]
    assert data.input_shape == (1, 8, 8)
    for split in data.splits().values():
        assert set(split.y.tolist()) == {0, 1, 2, 3, 4}
    assert "Kept" in data.description and "5, 6, 7, 8, 9" in data.description


def test_class_names_follow_the_dataset_names() -> None:
    assert load_dataset({"name": "iris", "classes": [2, 0]}, seed=0).class_names == ["virginica", "setosa"]
    spirals = load_dataset({"name": "spirals", "params": {"classes": 3}, "classes": [2, 1]}, seed=0)
    assert spirals.class_names == ["class 2", "class 1"] and spirals.num_classes == 2


def test_every_class_in_order_gives_the_same_splits_as_no_key() -> None:
    section = {"name": "digits", "params": {"flat": True}}
    plain = load_dataset(section, seed=3)
    assert _same_splits(plain, load_dataset({**section, "classes": list(range(10))}, seed=3))
    assert _same_splits(plain, load_dataset({**section, "classes": None, "train_per_class": None}, seed=3))


def test_classes_work_for_csv_and_image_folders(tmp_path) -> None:
    rows = "\n".join(f"{k},{k % 3}" for k in range(30))
    (tmp_path / "t.csv").write_text(f"f,label\n{rows}\n", encoding="utf-8")
    csv = load_dataset({"name": "csv", "params": {"path": "t.csv", "task": "classification"}, "classes": [2, 0]},
                       seed=0, base_dir=tmp_path)
    assert csv.class_names == ["2", "0"] and len(csv.train) + len(csv.val) + len(csv.test) == 20
    for name, colour in (("ants", 10), ("bees", 120), ("wasps", 240)):
        (tmp_path / "bugs" / name).mkdir(parents=True)
        for k in range(4):
            Image.new("RGB", (4, 4), (colour, k, 0)).save(tmp_path / "bugs" / name / f"{k}.png")
    images = load_dataset({"name": "image_folder", "params": {"path": "bugs", "size": 4}, "classes": [2, 1]},
                          seed=0, base_dir=tmp_path)
    assert images.class_names == ["wasps", "bees"] and images.num_classes == 2
    assert len(images.train) + len(images.val) + len(images.test) == 8


def test_standardisation_is_fitted_on_the_kept_training_rows() -> None:
    data = load_dataset({"name": "iris", "classes": [1, 2], "train_per_class": 5}, seed=0)
    assert len(data.train) == 10
    assert torch.allclose(data.train.x.double().mean(0), torch.zeros(4, dtype=torch.float64), atol=1e-6)
    assert torch.allclose(data.train.x.double().std(0, unbiased=False), torch.ones(4, dtype=torch.float64),
                          atol=1e-5)


# --- train_per_class -------------------------------------------------------------------------
def test_train_per_class_caps_training_only() -> None:
    section = {"name": "digits", "params": {"flat": True}}
    full = load_dataset(section, seed=1)
    few = load_dataset({**section, "train_per_class": 7}, seed=1)
    assert torch.bincount(few.train.y, minlength=10).tolist() == [7] * 10
    assert torch.equal(few.val.x, full.val.x) and torch.equal(few.test.y, full.test.y)
    full_rows = {tuple(row) for row in full.train.x.tolist()}
    assert all(tuple(row) in full_rows for row in few.train.x.tolist())
    assert "At most 7 training samples per class" in few.description


def test_a_class_with_fewer_samples_keeps_them_all(tmp_path) -> None:
    labels = [0] * 40 + [1] * 4
    data = load_dataset({**_numbered_arrays(tmp_path, labels), "val_fraction": 0.0, "test_fraction": 0.0,
                         "train_per_class": 10}, seed=0, base_dir=tmp_path)
    assert torch.bincount(data.train.y).tolist() == [10, 4]


def test_per_class_samples_depend_only_on_the_seed() -> None:
    section = {"name": "digits", "classes": [5, 6, 7, 8, 9], "train_per_class": 10}
    first, again = load_dataset(section, seed=4), load_dataset(section, seed=4)
    assert _same_splits(first, again)
    other = load_dataset(section, seed=5)
    assert not torch.equal(first.train.x, other.train.x)
    assert torch.bincount(first.train.y).tolist() == [10] * 5


def test_a_smaller_cap_keeps_a_subset_of_a_larger_one() -> None:
    section = {"name": "digits", "params": {"flat": True}}  # pixels are not standardised: rows compare as is
    small = load_dataset({**section, "train_per_class": 3}, seed=2)
    large = load_dataset({**section, "train_per_class": 8}, seed=2)
    large_rows = {tuple(row) for row in large.train.x.tolist()}
    assert all(tuple(row) in large_rows for row in small.train.x.tolist())


def test_cap_per_class_keeps_the_split_order() -> None:
    train = np.array([5, 0, 3, 1, 4, 2])
    labels = np.array([0, 0, 1, 1, 0, 1])  # by row: rows 0, 1, 4 are class 0
    assert cap_per_class(train, labels, 2).tolist() == [5, 0, 3, 1]


def test_binary_data_can_be_capped() -> None:
    data = load_dataset({"name": "breast_cancer", "train_per_class": 6}, seed=0)
    assert data.task == "binary" and len(data.train) == 12


# --- declarations and errors -----------------------------------------------------------------
def test_each_key_is_declared_once_as_a_param_spec() -> None:
    assert {p.name for p in SUBSET_PARAMS} == {"classes", "train_per_class"} <= set(SECTION_KEYS)
    assert CLASSES.optional and TRAIN_PER_CLASS.optional and TRAIN_PER_CLASS.minimum == 1
    assert dataset_problems({"name": "digits", "classes": [0, 1], "train_per_class": 5}) == []


@pytest.mark.parametrize(("section", "place", "message"), [
    ({"name": "digits", "classes": "5-9"}, "dataset.classes", "expected a list of integers >= 0 or null, got '5-9'"),
    ({"name": "digits", "classes": [5, 6.5]}, "dataset.classes", "expected a list of integers"),
    ({"name": "digits", "classes": [-1, 3]}, "dataset.classes", "expected a list of integers >= 0"),
    ({"name": "digits", "classes": [True, 3]}, "dataset.classes", "expected a list of integers"),
    ({"name": "digits", "classes": [5, 6, 5]}, "dataset.classes", "class 5 is listed twice"),
    ({"name": "digits", "classes": [5]}, "dataset.classes", "keep at least 2 classes to tell apart, got 1"),
    ({"name": "digits", "classes": []}, "dataset.classes", "keep at least 2 classes to tell apart, got 0"),
    ({"name": "sine", "classes": [0, 1]}, "dataset.classes",
     "needs classification data, but sine has regression targets"),
    ({"name": "diabetes", "train_per_class": 5}, "dataset.train_per_class",
     "needs classification data, but diabetes has regression targets"),
    ({"name": "csv", "params": {"path": "a.csv", "task": "regression"}, "train_per_class": 5},
     "dataset.train_per_class", "needs classification data, but csv has regression targets"),
    ({"name": "iris", "train_per_class": 0}, "dataset.train_per_class", "expected an integer >= 1 or null, got 0"),
    ({"name": "iris", "train_per_class": 2.5}, "dataset.train_per_class", "expected an integer >= 1"),
    ({"name": "iris", "train_per_class": "ten"}, "dataset.train_per_class", "expected an integer >= 1"),
])
def test_bad_subset_keys_are_named_without_loading(section, place: str, message: str) -> None:
    problems = dataset_problems(section)
    assert any(where == place and message in text for where, text in problems), problems
    with pytest.raises(DatasetError, match=place.replace(".", r"\.")):
        load_dataset(section, seed=0)


def test_out_of_range_classes_name_the_real_count() -> None:
    section = {"name": "iris", "classes": [0, 3]}
    assert dataset_problems(section) == []  # the count is only known once loaded
    with pytest.raises(DatasetError, match=r"^dataset\.classes: class 3 is out of range; iris has 3 classes, "
                                           r"numbered 0 to 2$"):
        load_dataset(section, seed=0)


def test_regression_found_at_load_time_is_refused(tmp_path) -> None:
    rows = "\n".join(f"{k},{k * 0.37:.3f}" for k in range(30))
    (tmp_path / "r.csv").write_text(f"f,target\n{rows}\n", encoding="utf-8")
    for key, value in (("classes", [0, 1]), ("train_per_class", 3)):
        section = {"name": "csv", "params": {"path": "r.csv"}, key: value}
        assert dataset_problems(section) == []  # 'auto' decides from the file
        with pytest.raises(DatasetError, match=rf"^dataset\.{key}: needs classification data, but csv has "
                                               rf"regression targets$"):
            load_dataset(section, seed=0, base_dir=tmp_path)


def test_unknown_keys_list_the_subset_keys() -> None:
    problems = dataset_problems({"name": "digits", "class": [1, 2]})
    assert problems[0][0] == "dataset.class" and "classes, train_per_class" in problems[0][1]
