"""The dataset catalogue and the two entry points: checking a dataset section and loading it.

A project's dataset section is plain JSON:
    {"name": "spirals", "params": {"noise": 0.1}, "val_fraction": 0.2, "test_fraction": 0.0}
Params and fractions may be left out; each dataset declares its defaults (generated data: 20 %
validation and no test set, since fresh samples are free; bundled data: 20 % / 20 %; your own
files: 20 % / 10 %). Classification data also takes `classes` and `train_per_class` (see subsets.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nnstudio.layers.params import coerce_params
from nnstudio.training.augment.parse import KEY as AUGMENT_KEY
from nnstudio.training.augment.parse import augment_problems
from nnstudio.training.data.arrays import NUMPY_SPEC
from nnstudio.training.data.base import DatasetError, DatasetSpec, DataSplits, LoadContext, resolve_path
from nnstudio.training.data.bundled import BUNDLED
from nnstudio.training.data.csv_dataset import CSV_SPEC
from nnstudio.training.data.generated import GENERATED
from nnstudio.training.data.images import IMAGE_FOLDER_SPEC
from nnstudio.training.data.splits import MAX_HELD_OUT, assemble, seeded_generators
from nnstudio.training.data.streaming import STREAM_KEYS, load_streamed, storage_plan, streaming_problems, with_storage
from nnstudio.training.data.subsets import SUBSET_KEYS, Subset, apply_classes, subset_problems

DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec for spec in (*GENERATED, *BUNDLED, CSV_SPEC, NUMPY_SPEC, IMAGE_FOLDER_SPEC)
}
DEFAULT_DATASET = "spirals"
SECTION_KEYS = ("name", "params", "val_fraction", "test_fraction", *SUBSET_KEYS, AUGMENT_KEY, *STREAM_KEYS)

Problem = tuple[str, str]


def dataset_problems(dataset: Any, base_dir: Path | None = None) -> list[Problem]:
    """Everything wrong with a dataset section, as (location, message) pairs, without loading data.

    With `base_dir`, path params are also checked to exist (a cheap look at the file system).
    """
    if not isinstance(dataset, dict):
        return [("dataset", "expected an object with at least a 'name'")]
    problems = [(f"dataset.{key}", f"unknown key; a dataset section holds {', '.join(SECTION_KEYS)}")
                for key in dataset if key not in SECTION_KEYS]
    spec = _spec_problems(dataset.get("name"), problems)
    if spec is None:
        return problems
    values, param_problems = _coerce_params(spec, dataset.get("params", {}))
    problems += param_problems + _fraction_problems(spec, dataset)
    problems += subset_problems(dataset, spec.task_for(values), spec.name)
    problems += augment_problems(dataset)  # the transform list alone; data fit: training/augment/checks.py
    problems += streaming_problems(dataset)  # streaming, corrupt, workers (data/streaming.py)
    if not param_problems and spec.check is not None:
        problems += spec.check(values)
    if not param_problems and base_dir is not None:
        problems += _missing_paths(spec, values, base_dir)
    return problems


def resolve(dataset: dict[str, Any]) -> tuple[DatasetSpec, dict[str, Any]]:
    """The catalogue entry and its complete, checked params; raises DatasetError on any problem."""
    problems = dataset_problems(dataset)
    if problems:
        raise DatasetError("; ".join(f"{where}: {message}" for where, message in problems))
    spec = DATASETS[dataset["name"]]
    return spec, _coerce_params(spec, dataset.get("params", {}))[0]


def fractions(dataset: dict[str, Any], spec: DatasetSpec) -> tuple[float, float]:
    """(val_fraction, test_fraction), the dataset's defaults where the section leaves them out."""
    return (float(dataset.get("val_fraction", spec.val_fraction)),
            float(dataset.get("test_fraction", spec.test_fraction)))


def load_dataset(dataset: dict[str, Any], seed: int, base_dir: Path | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 stop: Callable[[], bool] | None = None) -> DataSplits:
    """Load, split and convert a dataset. The same section and seed give bitwise the same splits.

    `progress`, when given, is called with (bytes read, total bytes) while a large file is read, or with (class
    folders listed, class folders) while an image folder is scanned; `stop` returning True ends a scan.
    Image folders and CSV files that do not fit in memory are streamed (dataset.streaming; data/streaming.py).

    A `classes` subset is taken before the split (the split shuffles the kept samples only); the
    `train_per_class` cap after it. Without either key nothing else changes, not even the split.
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise DatasetError(f"seed: expected an integer, got {seed!r}")
    spec, values = resolve(dataset)
    subset = Subset.from_section(dataset)
    data_rng, split_rng = seeded_generators(seed)
    context = LoadContext(rng=data_rng, base_dir=Path(base_dir) if base_dir else None, progress=progress)
    val_fraction, test_fraction = fractions(dataset, spec)
    plan = storage_plan(dataset, spec, values, context, stop)  # None: a dataset that is never streamed
    if plan is not None and plan.stream:
        return load_streamed(dataset, spec, values, context, plan, split_rng, val_fraction, test_fraction)
    raw = spec.load(values, context)
    raw = apply_classes(raw, subset, spec.name)
    data = assemble(raw, val_fraction, test_fraction, split_rng, subset.train_per_class)
    return with_storage(data, plan.reason) if plan is not None else data


def _spec_problems(name: Any, problems: list[Problem]) -> DatasetSpec | None:
    if name is None:
        problems.append(("dataset.name", f"choose a dataset: {', '.join(DATASETS)}"))
        return None
    if not isinstance(name, str) or name not in DATASETS:
        problems.append(("dataset.name", f"no dataset named {name!r}; choose one of {', '.join(DATASETS)}"))
        return None
    return DATASETS[name]


def _coerce_params(spec: DatasetSpec, params: Any) -> tuple[dict[str, Any], list[Problem]]:
    """Defaults overlaid with the given params, each checked by its ParamSpec."""
    return coerce_params(spec.params, params, "dataset.params", spec.name)


def _fraction_problems(spec: DatasetSpec, dataset: dict[str, Any]) -> list[Problem]:
    problems = []
    for key in ("val_fraction", "test_fraction"):
        value = dataset.get(key, 0.0)
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or not 0.0 <= value < MAX_HELD_OUT:
            problems.append((f"dataset.{key}", f"expected a number in [0, {MAX_HELD_OUT}), got {value!r}"))
    if not problems:
        val_fraction, test_fraction = fractions(dataset, spec)
        if val_fraction + test_fraction > MAX_HELD_OUT:
            problems.append(("dataset.test_fraction", f"val_fraction + test_fraction is "
                             f"{val_fraction + test_fraction:g}; keep it at most {MAX_HELD_OUT} so there is "
                             f"data left to train on"))
    return problems


def _missing_paths(spec: DatasetSpec, values: dict[str, Any], base_dir: Path) -> list[Problem]:
    problems = []
    for name in spec.path_params:
        path = resolve_path(values[name], Path(base_dir))
        if values[name].strip() and not path.exists():
            problems.append((f"dataset.params.{name}", f"{path} does not exist"))
    return problems
