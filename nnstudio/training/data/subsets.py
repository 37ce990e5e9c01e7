"""Class subsets and small training sets: the dataset section's `classes` and `train_per_class` keys.

    {"name": "digits", "classes": [5, 6, 7, 8, 9], "train_per_class": 10}

`classes` keeps the samples of the listed classes and renumbers them 0..k-1 in the list's order,
so a model pretrained on digits 0-4 can get a fresh 5-class head for digits 5-9 (transfer
learning), and train and test class sets can be kept disjoint (few-shot learning).
`train_per_class` caps the training split per class after splitting, so validation and test
scores stay comparable with a run on all the data.

Both act on the rows before anything is fitted on training rows (`RawData.finish`), so
standardisation only ever sees the samples that are really trained on. Each key is declared once,
as a ParamSpec, for the file checks, the GUI editor and the docs alike.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from nnstudio.layers.params import ParamKind, ParamSpec, ParamValueError
from nnstudio.training.data.base import DatasetError, RawData

CLASSES = ParamSpec(
    "classes", ParamKind.INT_LIST, None,
    "Keep only these classes, by index, and number them 0, 1, ... in this order (e.g. 5, 6, 7, 8, 9 for "
    "the upper digits). Empty keeps every class.", minimum=0, optional=True, label="Keep classes")
TRAIN_PER_CLASS = ParamSpec(
    "train_per_class", ParamKind.INT, None,
    "The most training samples kept per class, drawn with the seed (for few-shot experiments); validation "
    "and test samples are not touched. Empty ('all') keeps every one.", minimum=1, optional=True,
    label="Training samples per class")
SUBSET_PARAMS: tuple[ParamSpec, ...] = (CLASSES, TRAIN_PER_CLASS)
SUBSET_KEYS = tuple(param.name for param in SUBSET_PARAMS)
LABELLED_TASKS = ("classification", "binary")  # tasks whose targets are class indices

Problem = tuple[str, str]


@dataclass(frozen=True)
class Subset:
    """The checked subset keys of a section; None means the key is absent (keep everything)."""

    classes: list[int] | None = None
    train_per_class: int | None = None

    @classmethod
    def from_section(cls, dataset: dict[str, Any]) -> Subset:
        """The coerced keys of a section that `subset_problems` found nothing wrong with."""
        return cls(*(param.coerce(dataset.get(param.name)) for param in SUBSET_PARAMS))

    def present(self) -> list[str]:
        """The keys that are set, in declaration order (for messages)."""
        return [key for key in SUBSET_KEYS if getattr(self, key) is not None]


def classes_problem(classes: list[int]) -> str | None:
    """What is wrong with a list that passed CLASSES.coerce, or None; shared by file checks and the GUI."""
    if len(classes) < 2:
        return f"keep at least 2 classes to tell apart, got {len(classes)}"
    seen: set[int] = set()
    for index in classes:
        if index in seen:
            return f"class {index} is listed twice; list each class once"
        seen.add(index)
    return None


def task_problem(task: str | None, dataset_name: str) -> str | None:
    """Why a subset key does not apply to data made for `task`; None when it does or is not known yet."""
    if task is None or task in LABELLED_TASKS:
        return None
    return f"needs classification data, but {dataset_name} has {task} targets"


def subset_problems(dataset: dict[str, Any], task: str | None, dataset_name: str) -> list[Problem]:
    """Problems with the subset keys of a section, without loading; `task` is the task known so far."""
    problems = []
    for param in SUBSET_PARAMS:
        value = dataset.get(param.name)
        if value is None:
            continue
        message = _value_problem(param, value) or task_problem(task, dataset_name)
        if message:
            problems.append((f"dataset.{param.name}", message))
    return problems


def _value_problem(param: ParamSpec, value: Any) -> str | None:
    if param is CLASSES and isinstance(value, (list, tuple)) and not value:
        return classes_problem([])
    try:
        coerced = param.coerce(value)
    except ParamValueError as exc:
        return str(exc)
    return classes_problem(coerced) if param is CLASSES else None


def apply_classes(raw: RawData, subset: Subset, dataset_name: str) -> RawData:
    """Checks that need the loaded data (its task and class count), then the class filter.

    Raises DatasetError naming the key. Without subset keys the data is returned as it is.
    """
    for key in subset.present():
        message = task_problem(raw.task, dataset_name)
        if message:
            raise DatasetError(f"dataset.{key}: {message}")
    return keep_classes(raw, subset.classes, dataset_name) if subset.classes is not None else raw


def keep_classes(raw: RawData, classes: list[int], dataset_name: str) -> RawData:
    """The samples of `classes` only, relabelled 0..k-1 in the list's order.

    A loader's `finish` is wrapped so that it is called with training rows of the kept samples,
    numbered as the loader knows them: statistics are fitted on exactly what is trained on.
    """
    labels = np.asarray(raw.y).reshape(-1).astype(np.int64)
    count = _class_count(raw, labels)
    out_of_range = [index for index in classes if index >= count]
    if out_of_range:
        raise DatasetError(f"dataset.classes: class {out_of_range[0]} is out of range; {dataset_name} has "
                           f"{count} classes, numbered 0 to {count - 1}")
    lookup = np.full(count, -1, np.int64)
    lookup[classes] = np.arange(len(classes))
    rows = np.flatnonzero(lookup[labels] >= 0)
    y = lookup[labels[rows]]
    names = raw.class_names or [str(index) for index in range(count)]
    finish = raw.finish

    def finish_kept(train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, _ = finish(rows[train])
        return x[rows], y

    kept = ", ".join(names[index] for index in classes)
    tokens = raw.x.dtype == np.int64 and raw.x.size > 0
    vocab_size = raw.vocab_size or (int(raw.x.max()) + 1 if tokens else None)  # the same embedding size
    return replace(raw, x=raw.x[rows], y=y, num_classes=len(classes), vocab_size=vocab_size,
                   class_names=[names[index] for index in classes],
                   description=f"{raw.description} Kept {len(rows)} samples of {len(classes)} classes ({kept}), "
                   f"numbered 0 to {len(classes) - 1}.".strip(),
                   finish=finish_kept if finish is not None else None)


def _class_count(raw: RawData, labels: np.ndarray) -> int:
    """The number of classes the loader declares, else one more than the largest label."""
    if raw.num_classes:
        return int(raw.num_classes)
    if raw.class_names:
        return len(raw.class_names)
    return int(labels.max()) + 1 if len(labels) else 0


def cap_per_class(train: np.ndarray, labels: np.ndarray, limit: int) -> np.ndarray:
    """The training rows with at most `limit` of each class, in the split's order.

    The split's order is a permutation drawn from the seeded split generator, so the first `limit`
    rows of each class are a seeded random sample. Drawing nothing more leaves every other use of
    that generator unchanged, and a smaller limit keeps a subset of a larger one's samples.
    """
    classes = np.asarray(labels).reshape(-1)[train]
    rank = np.zeros(len(train), np.int64)
    for value in np.unique(classes):
        where = classes == value
        rank[where] = np.arange(int(where.sum()))
    return train[rank < limit]
