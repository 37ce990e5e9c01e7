"""The types every dataset shares: the error, the loaded splits, and the catalogue entry.

A dataset is loaded in two steps. Its loader turns params (plus files) into a `RawData`: numpy
arrays for every sample and a description of them. The catalogue then shuffles and splits the
samples, and only after that fits anything learnt from data (standardisation, imputation) on the
training rows, so validation and test numbers never leak into training.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nnstudio.layers.params import ParamSpec
from nnstudio.util.errors import InputError

GROUPS = ("Generated", "Bundled", "Your data")
TASKS = ("classification", "binary", "regression", "reconstruction")
KINDS = ("points2d", "image", "tabular", "sequence", "tokens")
EXTRA_HINT = 'install the optional extra: pip install "nnstudio[datasets]"'


class DatasetError(InputError):
    """Data that cannot be loaded. The message starts with the place: a file, column, row or param."""


def require_classes(class_names: list[str], place: str) -> None:
    """The one check every classification loader runs: a single class trains to loss 0 and accuracy 1
    without learning anything, so it is refused, naming the file or folder it came from."""
    if len(class_names) < 2:
        found = f"a single class, {class_names[0]!r}," if class_names else "no class"
        raise DatasetError(f"{place}: {found} so there is nothing to classify; classification needs at least "
                           "2 classes")


@dataclass
class Split:
    """One part of a dataset: `x` has the samples on dim 0, `y` the matching targets."""

    x: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return int(self.x.shape[0])


@dataclass
class DataSplits:
    """Train / validation / test splits plus what a model and a preview need to know about them."""

    train: Split
    val: Split | None
    test: Split | None
    input_shape: tuple[int, ...]
    input_dtype: str
    task: str
    num_classes: int | None
    target_shape: tuple[int, ...]
    class_names: list[str] | None
    feature_names: list[str] | None
    kind: str
    description: str
    vocab_size: int | None = None  # token inputs: ids run from 0 to vocab_size - 1
    vocabulary: Any = None  # text inputs: the Vocabulary fitted on the training rows (data/text.py)
    storage: str | None = None  # image folders and CSVs: held in memory or streamed, and why (data/streaming.py)

    def splits(self) -> dict[str, Split]:
        """The splits that exist, by name, in the order train, val, test."""
        found = {"train": self.train, "val": self.val, "test": self.test}
        return {name: split for name, split in found.items() if split is not None}

    def with_task(self, task: str) -> DataSplits:
        """The same samples with targets for another task.

        'reconstruction' makes every target the input itself (the same tensor, not a copy). A
        two-class dataset switches between 'classification' (int64 [N]) and 'binary'
        (float32 [N, 1]). Any other change raises DatasetError.
        """
        if task == self.task:
            return self
        if task == "reconstruction":
            return replace(self, **_map_targets(self, lambda s: s.x), task=task, num_classes=None,
                           target_shape=self.input_shape, class_names=None)
        if task == "binary" and self.task == "classification" and self.num_classes == 2:
            return replace(self, **_map_targets(self, lambda s: s.y.to(torch.float32).unsqueeze(1)),
                           task=task, target_shape=(1,))
        if task == "classification" and self.task == "binary":
            return replace(self, **_map_targets(self, lambda s: s.y.reshape(-1).round().to(torch.int64)),
                           task=task, target_shape=())
        raise DatasetError(f"task: this dataset's targets are for {self.task!r}, they cannot be used for "
                           f"{task!r}")


def _map_targets(data: DataSplits, make: Callable[[Split], torch.Tensor]) -> dict[str, Split | None]:
    return {name: split.retargeted(make) if hasattr(split, "retargeted") else Split(split.x, make(split))
            for name, split in data.splits().items()}  # retargeted: a streamed split (data/streaming_source.py)


@dataclass
class RawData:
    """Every sample of a dataset before it is split; produced by a DatasetSpec's loader.

    `finish`, when set, is called with the training-row indices once the split is known and
    returns the final (x, y) for all rows, with any statistics fitted on those rows only; `x`
    may then be a placeholder that only fixes the number of rows.
    """

    x: np.ndarray
    y: np.ndarray
    task: str
    kind: str
    num_classes: int | None = None
    class_names: list[str] | None = None
    feature_names: list[str] | None = None
    description: str = ""
    vocab_size: int | None = None  # token inputs; when None it is read off the largest id
    vocabulary: Any = None  # text inputs: the Vocabulary that `finish` fits on the training rows
    finish: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None


@dataclass(frozen=True)
class LoadContext:
    """What a loader may use besides its params: a seeded generator, the project's folder, and where to
    report how far reading a large file has come ((done, total) in bytes; a CLI draws a bar)."""

    rng: np.random.Generator
    base_dir: Path | None = None
    progress: Callable[[int, int], None] | None = None

    def resolve(self, path: str, param: str) -> Path:
        """An absolute path for a path param; relative paths start at the project file's folder."""
        if not path.strip():
            raise DatasetError(f"dataset.params.{param}: no path given")
        return resolve_path(path, self.base_dir)


def resolve_path(path: str, base_dir: Path | None) -> Path:
    """A path from a project file: '~' expanded, relative to the project's folder when known.
    'example:NAME' is a data file shipped beside the examples (nnstudio/examples/NAME)."""
    if path.startswith("example:"):
        from nnstudio.examples import HERE

        return HERE / path.removeprefix("example:")
    candidate = Path(path).expanduser()
    if not candidate.is_absolute() and base_dir is not None:
        candidate = Path(base_dir) / candidate
    return candidate


Loader = Callable[[dict[str, Any], LoadContext], RawData]
Checker = Callable[[dict[str, Any]], list[tuple[str, str]]]


@dataclass(frozen=True)
class DatasetSpec:
    """One catalogue entry: what the GUI lists and edits, and how to load it.

    `generator`, for generated datasets, is a pure numpy function `(params, rng) -> (x, y)` whose
    source can be copied into an exported script. `path_params` names the params that hold a file
    or folder path, so an editor can offer a browse button. `check` finds problems between params
    without loading anything. `task` is the task the data is made for, or None where it depends
    on the user's file (see `task_for`).
    """

    name: str
    title: str
    group: str
    summary: str
    params: tuple[ParamSpec, ...]
    load: Loader
    kind: str
    task: str | None
    val_fraction: float = 0.2
    test_fraction: float = 0.0
    generator: Callable[[dict[str, Any], np.random.Generator], tuple[np.ndarray, np.ndarray]] | None = None
    path_params: tuple[str, ...] = ()
    check: Checker | None = None

    def param(self, name: str) -> ParamSpec:
        for spec in self.params:
            if spec.name == name:
                return spec
        raise KeyError(f"dataset {self.name!r} has no param {name!r}")

    def defaults(self) -> dict[str, Any]:
        return {spec.name: spec.default for spec in self.params}

    def task_for(self, params: dict[str, Any]) -> str | None:
        """The task before loading: a 'task' param other than 'auto' decides, else the spec's own."""
        hint = params.get("task", "auto") if isinstance(params, dict) else "auto"
        has_hint = any(p.name == "task" for p in self.params) and hint != "auto"
        return hint if has_hint and hint in TASKS else self.task
