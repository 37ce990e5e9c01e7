"""The project's `search` section as a typed search space, and its text form.

    "search": {
      "space": [
        {"kind": "float", "param": "training.optimizer.lr", "low": 1e-4, "high": 0.1, "log": true},
        {"kind": "int", "node": "fc1", "param": "out_features", "low": 16, "high": 128, "step": 16},
        {"kind": "choice", "param": "training.optimizer.name", "choices": ["adam", "sgd"]},
        {"kind": "optional", "nodes": ["dropout"]},
        {"kind": "repeat", "nodes": ["fc2", "relu2"], "low": 1, "high": 3}
      ],
      "study": {"metric": "val_accuracy", "sampler": "tpe", "pruner": "median", "trials": 30}
    }

`parse_search` never raises: it returns the space (bad entries left out) and (place, message) problems such as
("search.space[0].low", "training.optimizer.lr: a log range must stay above 0, got low 0"). The kinds, samplers
and pruners come from tables.py; study-level rules (which sampler suits which space) live in study.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from nnstudio.model.project import Project
from nnstudio.search.structure import Block, find_block
from nnstudio.search.tables import DIMENSION_KINDS
from nnstudio.search.targets import Target, node_target, training_target

Problem = tuple[str, str]  # (place, message)


@dataclass(frozen=True)
class Dimension:
    """One search dimension: a value (float, int, choice) written to a target, or a block's structure."""

    kind: str
    place: str  # where it is in the file: "search.space[2]"
    target: Target | None = None  # value kinds
    block: Block | None = None  # structure kinds
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    step: float | int | None = None
    choices: tuple[Any, ...] = ()

    @property
    def structure(self) -> bool:
        return DIMENSION_KINDS[self.kind].structure

    @property
    def label(self) -> str:
        """The name Optuna stores the sampled value under, and reports show."""
        if self.target is not None:
            return self.target.label
        prefix = "keep" if self.kind == "optional" else "repeat"
        return f"{prefix}:{'+'.join(self.block.names)}"

    @property
    def whole(self) -> bool:
        return DIMENSION_KINDS[self.kind].whole

    def categories(self) -> list[Any] | None:
        """The values of a categorical dimension (a choice, or kept/bypassed); None for a number range."""
        if DIMENSION_KINDS[self.kind].flag:
            return [True, False]
        return list(self.choices) if not DIMENSION_KINDS[self.kind].numeric else None

    def grid_values(self) -> list[Any] | None:
        """Every value of a finite dimension, for the grid sampler; None for a float range without a step."""
        categories = self.categories()
        if categories is not None:
            return categories
        if not self.whole and self.step is None:
            return None
        step = self.step or 1
        count = math.floor((self.high - self.low) / step + 1e-9) + 1
        values = [self.low + i * step for i in range(count)]
        return [int(v) for v in values] if self.whole else [round(v, 12) for v in values]

    def describe(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(_show(c) for c in self.choices)
        if self.kind == "optional":
            return "kept or bypassed"
        if self.kind == "repeat":
            return f"repeated {self.low}..{self.high} times in series"
        extras = [text for text, on in (("log", self.log), (f"step {_show(self.step)}", self.step is not None))
                  if on]
        return f"{self.kind} {_show(self.low)} .. {_show(self.high)}" + (f" ({', '.join(extras)})" if extras else "")


@dataclass
class SearchSpace:
    dimensions: list[Dimension] = field(default_factory=list)
    study: Any = None  # a study.StudySettings; set by study.parse_study

    @property
    def values(self) -> list[Dimension]:
        return [d for d in self.dimensions if not d.structure]

    @property
    def structure(self) -> list[Dimension]:
        return [d for d in self.dimensions if d.structure]

    def describe(self) -> str:
        """The space as text: one line per dimension under the study's own line (`--report`, docs)."""
        lines = [self.study.describe()] if self.study is not None else []
        if not self.dimensions:
            lines.append("  (no dimensions: every trial trains the project as it is)")
        width = max((len(d.label) for d in self.dimensions), default=0)
        lines += [f"  {d.label:<{width}}  {d.describe()}" for d in self.dimensions]
        return "\n".join(lines)


def parse_space(entries: Any, project: Project, where: str = "search.space") -> tuple[list[Dimension], list[Problem]]:
    """Every readable dimension of `search.space`, and the problems of the rest."""
    if entries is None:
        return [], []
    if not isinstance(entries, list):
        return [], [(where, "expected a list of dimensions like {\"kind\": \"float\", \"param\": ...}")]
    dims: list[Dimension] = []
    problems: list[Problem] = []
    for index, entry in enumerate(entries):
        dim = _dimension(entry, project, f"{where}[{index}]", problems)
        if dim is not None:
            dims.append(dim)
    return dims, problems + _overlaps(dims)


def _dimension(entry: Any, project: Project, place: str, problems: list[Problem]) -> Dimension | None:
    if not isinstance(entry, dict):
        problems.append((place, "expected an object with a kind"))
        return None
    kind = DIMENSION_KINDS.get(entry["kind"]) if isinstance(entry.get("kind"), str) else None
    if kind is None:
        problems.append((f"{place}.kind", f"expected one of {', '.join(DIMENSION_KINDS)}, got {entry.get('kind')!r}"))
        return None
    found = [(f"{place}.{key}", f"unknown key for a {kind.name} dimension; it takes {', '.join(kind.keys)}")
             for key in entry if key not in kind.keys]
    found += [(f"{place}.{key}", f"missing; a {kind.name} dimension needs {', '.join(kind.required)}")
              for key in kind.required if key not in entry]
    if found:
        problems.extend(found)
        return None
    reader = _structure if kind.structure else _value
    return reader(entry, kind.name, project, place, problems)


def _value(entry: dict, kind: str, project: Project, place: str, problems: list[Problem]) -> Dimension | None:
    target = _target(entry, project, place, problems)
    if target is None:
        return None
    if kind == "choice":
        return _choice(entry, target, place, problems)
    return _range(entry, kind, target, place, problems)


def _target(entry: dict, project: Project, place: str, problems: list[Problem]) -> Target | None:
    param = entry.get("param")
    if not isinstance(param, str) or not param:
        problems.append((f"{place}.param", "expected a training setting (training.optimizer.lr) or, with node, "
                         "a parameter name"))
        return None
    node = entry.get("node")
    if node is not None and not isinstance(node, str):
        problems.append((f"{place}.node", f"expected a node name, got {node!r}"))
        return None
    target, why = node_target(project, node, param) if node is not None else training_target(param)
    if target is None:
        problems.append((f"{place}.node" if node is not None and "no node named" in why else f"{place}.param", why))
    return target


def _choice(entry: dict, target: Target, place: str, problems: list[Problem]) -> Dimension | None:
    choices = entry["choices"]
    if not isinstance(choices, list) or not choices:
        problems.append((f"{place}.choices", "expected a non-empty list of values"))
        return None
    bad = False
    for index, value in enumerate(choices):
        why = "expected a number, string or boolean" if not isinstance(value, (bool, int, float, str)) else \
            target.check(value)
        if why:
            problems.append((f"{place}.choices[{index}]", why))
            bad = True
    if len({repr(c) for c in choices}) != len(choices):
        problems.append((f"{place}.choices", f"{target.label}: a value is listed twice"))
        bad = True
    return None if bad else Dimension("choice", place, target=target, choices=tuple(choices))


def _range(entry: dict, kind: str, target: Target, place: str, problems: list[Problem]) -> Dimension | None:
    whole = kind == "int"
    if not whole and target.whole:
        problems.append((f"{place}.kind", f"{target.label} takes whole numbers; use kind int"))
        return None
    found = len(problems)
    low, high = (_number(entry, key, whole, place, problems) for key in ("low", "high"))
    log, step = entry.get("log", False), entry.get("step")
    if not isinstance(log, bool):
        problems.append((f"{place}.log", f"expected true or false, got {log!r}"))
    if step is not None and _number(entry, "step", whole, place, problems) is not None and step <= 0:
        problems.append((f"{place}.step", f"{target.label}: expected a step > 0, got {step!r}"))
    if len(problems) > found:
        return None
    if low > high:
        problems.append((f"{place}.low", f"{target.label}: low {low!r} is above high {high!r}"))
    elif log is True and low <= 0:
        problems.append((f"{place}.low", f"{target.label}: a log range must stay above 0, got low {low!r}"))
    elif log is True and step is not None and kind == "float":
        problems.append((f"{place}.step", f"{target.label}: a log range cannot have a step"))
    else:
        for key, value in (("low", low), ("high", high)):
            why = target.check(value)
            if why:
                problems.append((f"{place}.{key}", why))
    if len(problems) > found:
        return None
    return Dimension(kind, place, target=target, low=low, high=high, log=log, step=step)


def _number(entry: dict, key: str, whole: bool, place: str, problems: list[Problem]) -> float | int | None:
    value = entry.get(key)
    ok = isinstance(value, int) if whole else isinstance(value, (int, float)) and math.isfinite(value)
    if isinstance(value, bool) or not ok:
        problems.append((f"{place}.{key}", f"expected {'a whole number' if whole else 'a number'}, got {value!r}"))
        return None
    return value


def _structure(entry: dict, kind: str, project: Project, place: str, problems: list[Problem]) -> Dimension | None:
    names = entry["nodes"]
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        problems.append((f"{place}.nodes", "expected a non-empty list of node names"))
        return None
    block, why = find_block(project.graph, names)
    if block is None:
        problems.append((f"{place}.nodes", why))
        return None
    if kind == "optional":
        return Dimension(kind, place, block=block)
    found = len(problems)
    low, high = (_number(entry, key, True, place, problems) for key in ("low", "high"))
    if len(problems) > found:
        return None
    if low < 0:
        problems.append((f"{place}.low", f"a repeat count must be >= 0, got {low}"))
    elif low > high:
        problems.append((f"{place}.low", f"low {low} is above high {high}"))
    elif high > 64:
        problems.append((f"{place}.high", f"at most 64 copies of a block, got {high}"))
    return None if len(problems) > found else Dimension(kind, place, block=block, low=low, high=high)


def _overlaps(dims: list[Dimension]) -> list[Problem]:
    """A value searched twice, or a node in two structure blocks, makes samples ambiguous."""
    problems: list[Problem] = []
    labels: dict[str, str] = {}
    owners: dict[str, str] = {}
    for dim in dims:
        if dim.label in labels:
            problems.append((dim.place, f"{dim.label} is already searched by {labels[dim.label]}"))
        labels.setdefault(dim.label, dim.place)
        for name in dim.block.names if dim.block else ():
            if name in owners:
                problems.append((f"{dim.place}.nodes", f"node {name!r} is already in the block of {owners[name]}"))
            owners.setdefault(name, dim.place)
    return problems


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
