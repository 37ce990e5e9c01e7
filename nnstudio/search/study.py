"""The `search.study` part (what to optimise, how to sample, how many trials) and `parse_search`.

`parse_search` is the one entry point the CLI (and later the app's Search panel) calls: it reads the whole
section, applies command-line overrides, and checks the combinations no single key shows are wrong (CMA-ES on
a choice dimension, a pruner on a two-objective study, a grid over a float range without a step). It never
raises; every problem comes back as (place, message).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from nnstudio.model.project import Project
from nnstudio.search.space import Dimension, Problem, SearchSpace, parse_space
from nnstudio.search.tables import (
    DEFAULT_TRIALS,
    DIMENSION_KINDS,
    DIRECTIONS,
    PRUNERS,
    SAMPLERS,
    SECOND_OBJECTIVES,
    STUDY_KEYS,
    choices_text,
)
from nnstudio.training.settings import parse_settings

METRIC = re.compile(r"^(train|val)_[A-Za-z0-9_]+$")
SECTION_KEYS = ("space", "study")


@dataclass(frozen=True)
class StudySettings:
    name: str | None  # None: the command names it (after the project)
    metric: str  # an epoch metric: val_loss, val_accuracy, train_loss, val_<term> ...
    direction: str  # minimize or maximize (resolved from the metric when the file says auto)
    second: str | None  # a SECOND_OBJECTIVES name: a two-objective study with a Pareto front
    sampler: str
    pruner: str
    trials: int
    seed: int | None

    @property
    def directions(self) -> list[str]:
        return [self.direction, "minimize"] if self.second else [self.direction]

    def describe(self) -> str:
        second = f" and {self.second} (Pareto front)" if self.second else ""
        name = f"study {self.name!r}: " if self.name else "study: "
        return (f"{name}{self.direction} {self.metric}{second}; sampler {self.sampler}, pruner {self.pruner}, "
                f"{self.trials} trial(s)")


def parse_search(project: Project, overrides: dict[str, Any] | None = None) -> tuple[SearchSpace, list[Problem]]:
    """The project's search space and study, with `overrides` (sampler, pruner, trials, name: None keeps the
    file's) applied, and every problem found."""
    section = project.search
    problems: list[Problem] = []
    if not isinstance(section, dict):
        problems.append(("search", "expected an object with space and study"))
        section = {}
    problems += [(f"search.{key}", f"unknown key; the search section holds {', '.join(SECTION_KEYS)}")
                 for key in section if key not in SECTION_KEYS]
    dims, found = parse_space(section.get("space"), project)
    problems += found
    study, found = parse_study(section.get("study"), project, overrides or {})
    problems += found + compatibility(study, dims)
    return SearchSpace(dims, study), problems


def parse_study(section: Any, project: Project, overrides: dict[str, Any]) -> tuple[StudySettings, list[Problem]]:
    problems: list[Problem] = []
    if section is None:
        section = {}
    if not isinstance(section, dict):
        problems.append(("search.study", "expected an object"))
        section = {}
    problems += [(f"search.study.{key}", f"unknown key; the study takes {', '.join(STUDY_KEYS)}")
                 for key in section if key not in STUDY_KEYS]
    values = {**section, **{k: v for k, v in overrides.items() if v is not None}}
    settings, _ = parse_settings(project.training)
    metric = _text(values, "metric", settings.early_stopping.monitor, problems)
    if not METRIC.match(metric):
        problems.append(("search.study.metric", f"expected an epoch metric such as val_loss, val_accuracy or "
                         f"train_loss, got {metric!r}"))
    direction = _pick(values, "direction", "auto", DIRECTIONS, problems)
    if direction == "auto":
        from nnstudio.metrics.scores import higher_is_better

        direction = "maximize" if higher_is_better(metric) else "minimize"
    second = values.get("second")
    if second is not None and (not isinstance(second, str) or second not in SECOND_OBJECTIVES):
        problems.append(("search.study.second", f"expected one of {choices_text(SECOND_OBJECTIVES)} or null, "
                         f"got {second!r}"))
        second = None
    sampler = _pick(values, "sampler", "nsga2" if second else "tpe", SAMPLERS, problems)
    pruner = _pick(values, "pruner", "none", PRUNERS, problems)
    trials = _whole(values, "trials", DEFAULT_TRIALS, 1, problems)
    seed = _whole(values, "seed", None, 0, problems)
    name = _text(values, "name", None, problems)
    return StudySettings(name, metric, direction, second, sampler, pruner, trials, seed), problems


def compatibility(study: StudySettings, dims: list[Dimension]) -> list[Problem]:
    """What the chosen sampler and pruner cannot do with this space and these objectives."""
    spec = SAMPLERS[study.sampler]
    place = "search.study.sampler"
    if study.second and not spec.multi_objective:
        return [(place, f"{study.sampler} optimises one objective; with search.study.second use "
                 f"{', '.join(n for n, s in SAMPLERS.items() if s.multi_objective)}")]
    if study.second and study.pruner != "none":
        return [("search.study.pruner", "pruning needs one objective: Optuna cannot compare partly trained "
                 "trials on a Pareto front; use pruner none with search.study.second")]
    if spec.numeric_only:
        other = [d.label for d in dims if not DIMENSION_KINDS[d.kind].numeric]
        if other:
            return [(place, f"{study.sampler} samples number ranges only; {', '.join(other)} "
                     f"{'is a choice' if len(other) == 1 else 'are choices'}: use tpe or random")]
    if spec.grid:
        endless = [d.label for d in dims if d.grid_values() is None]
        if endless:
            return [(place, f"a grid needs finite dimensions; give {', '.join(endless)} a step")]
    return []


def grid_space(dims: list[Dimension]) -> dict[str, list[Any]]:
    return {d.label: d.grid_values() for d in dims}


def _pick(values: dict, key: str, default: str, table: Any, problems: list[Problem]) -> str:
    value = values.get(key, default)
    if not isinstance(value, str) or value not in table:
        problems.append((f"search.study.{key}", f"expected one of {', '.join(table)}, got {value!r}"))
        return default
    return value


def _whole(values: dict, key: str, default: int | None, lowest: int, problems: list[Problem]) -> int | None:
    value = values.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
        problems.append((f"search.study.{key}", f"expected a whole number >= {lowest}, got {value!r}"))
        return default
    return value


def _text(values: dict, key: str, default: str | None, problems: list[Problem]) -> str | None:
    value = values.get(key, default)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        problems.append((f"search.study.{key}", f"expected a non-empty string, got {value!r}"))
        return default
    return value
