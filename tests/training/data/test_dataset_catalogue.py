"""The catalogue and dataset sections: problems are listed with their place, loading never crashes."""

from __future__ import annotations

import pytest

from nnstudio.layers.params import ParamSpec
from nnstudio.training.data import DATASETS, DatasetError, dataset_problems, load_dataset
from nnstudio.training.data.base import GROUPS, KINDS, TASKS


@pytest.mark.parametrize("name", list(DATASETS))
def test_catalogue_entries_are_complete(name: str) -> None:
    spec = DATASETS[name]
    assert spec.name == name and spec.title and spec.summary
    assert spec.group in GROUPS and spec.kind in KINDS and (spec.task in TASKS or spec.group == "Your data")
    for param in spec.params:
        assert isinstance(param, ParamSpec) and param.doc
        assert param.coerce(param.default) == param.default
    assert set(spec.path_params) <= {p.name for p in spec.params}


def test_a_good_section_has_no_problems() -> None:
    section = {"name": "spirals", "params": {"noise": 0.1}, "val_fraction": 0.1, "test_fraction": 0.1}
    assert dataset_problems(section) == []


@pytest.mark.parametrize(("section", "place"), [
    ({}, "dataset.name"),
    ("spirals", "dataset"),
    ({"name": "no_such_data"}, "dataset.name"),
    ({"name": 3}, "dataset.name"),
    ({"name": "spirals", "params": []}, "dataset.params"),
    ({"name": "spirals", "params": {"noise": -1}}, "dataset.params.noise"),
    ({"name": "spirals", "params": {"noise": "a lot"}}, "dataset.params.noise"),
    ({"name": "spirals", "params": {"samples": 2.5}}, "dataset.params.samples"),
    ({"name": "spirals", "params": {"colour": "red"}}, "dataset.params.colour"),
    ({"name": "spirals", "val_fraction": 1.5}, "dataset.val_fraction"),
    ({"name": "spirals", "test_fraction": True}, "dataset.test_fraction"),
    ({"name": "spirals", "val_fraction": 0.5, "test_fraction": 0.5}, "dataset.test_fraction"),
    ({"name": "spirals", "shuffle": False}, "dataset.shuffle"),
    ({"name": "sine", "params": {"x_min": 2.0, "x_max": 1.0}}, "dataset.params.x_max"),
    ({"name": "sequence_sum_sign", "params": {"samples": 200_000, "length": 500}}, "dataset.params.samples"),
    ({"name": "csv"}, "dataset.params.path"),
    ({"name": "image_folder", "params": {"size": [0, 8]}}, "dataset.params.size"),
])
def test_bad_sections_name_the_place(section, place: str) -> None:
    problems = dataset_problems(section)
    assert place in [where for where, _ in problems]
    with pytest.raises(DatasetError, match=place.replace(".", r"\.")):
        load_dataset(section, seed=0)


def test_unknown_name_lists_the_choices() -> None:
    with pytest.raises(DatasetError, match="spirals"):
        load_dataset({"name": "spiral"}, seed=0)


def test_missing_files_are_found_without_loading(tmp_path) -> None:
    section = {"name": "numpy", "params": {"path": "data.npz"}}
    assert dataset_problems(section) == []
    problems = dataset_problems(section, base_dir=tmp_path)
    assert problems == [("dataset.params.path", f"{tmp_path / 'data.npz'} does not exist")]


def test_seed_must_be_an_integer() -> None:
    with pytest.raises(DatasetError, match="seed"):
        load_dataset({"name": "xor"}, seed="7")  # type: ignore[arg-type]


def test_task_before_loading() -> None:
    assert DATASETS["spirals"].task_for({}) == "classification"
    assert DATASETS["csv"].task_for({"path": "a.csv"}) is None  # decided by the file's target column
    assert DATASETS["csv"].task_for({"task": "regression"}) == "regression"
    assert DATASETS["image_folder"].task_for({}) == "classification"
