"""The numbers behind the Search panel's plots, Qt-free: optimisation history, parallel coordinates, parameter
importances and the Pareto front, each computed from `summarize_study`'s trial dicts (importances from the study).

Kept apart from the widgets so they can be tested without a display and reused by a report, and so the panel
redraws from one summary per finished trial instead of asking the storage for each plot.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

Trial = dict[str, Any]


def completed(trials: list[Trial]) -> list[Trial]:
    return [t for t in trials if t["state"] == "complete" and t.get("values")]


@dataclass
class History:
    numbers: list[int]
    values: list[float]
    best: list[float]  # the best value so far, at each completed trial


def history(trials: list[Trial], maximize: bool) -> History:
    """The first objective of every completed trial in trial order, and the best so far."""
    done = sorted(completed(trials), key=lambda t: t["number"])
    numbers = [t["number"] for t in done]
    values = [float(t["values"][0]) for t in done]
    best: list[float] = []
    for value in values:
        if not best:
            best.append(value)
        else:
            best.append(max(best[-1], value) if maximize else min(best[-1], value))
    return History(numbers, values, best)


@dataclass
class Axis:
    name: str
    low: float
    high: float
    log: bool = False
    labels: list[str] | None = None  # a categorical axis: its choices, bottom to top

    def position(self, value: Any) -> float:
        """Where `value` sits on this axis, 0 (bottom) to 1 (top)."""
        if self.labels is not None:
            return self.labels.index(_text(value)) / max(1, len(self.labels) - 1)
        low, high, x = (math.log10(v) for v in (self.low, self.high, float(value))) if self.log else \
            (self.low, self.high, float(value))
        return 0.5 if high == low else (x - low) / (high - low)


@dataclass
class Parallel:
    axes: list[Axis]
    lines: list[list[float]]  # per completed trial: its position on each axis, then the metric's
    metric: list[float]  # per completed trial: the first objective (what colours its line)


def parallel(trials: list[Trial], metric_name: str) -> Parallel:
    """One axis per searched parameter plus the metric's; one polyline per completed trial over them."""
    done = [t for t in completed(trials)]
    names = sorted({name for t in done for name in t["params"]})
    axes = [_axis(name, [t["params"][name] for t in done if name in t["params"]]) for name in names]
    metric = [float(t["values"][0]) for t in done]
    axes.append(_axis(metric_name, metric))
    lines = []
    for trial, value in zip(done, metric, strict=True):
        points = [axis.position(trial["params"][axis.name]) if axis.name in trial["params"] else math.nan
                  for axis in axes[:-1]]
        lines.append([*points, axes[-1].position(value)])
    return Parallel(axes, lines, metric)


def _axis(name: str, values: list[Any]) -> Axis:
    numeric = values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if not numeric:
        return Axis(name, 0.0, 1.0, labels=sorted({_text(v) for v in values}))
    low, high = float(min(values)), float(max(values))
    log = low > 0 and high / low >= 100.0  # a learning rate from 1e-4 to 1e-1 reads on a log axis
    return Axis(name, low, high, log=log)


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def importances(study: Any) -> tuple[dict[str, float], str]:
    """Optuna's parameter importances for the first objective (its default evaluator, PED-ANOVA in Optuna 4+),
    most important first, or ({}, why not). The evaluator ranks parameters by how they reach LOW values, so a
    maximised metric is negated first."""
    from optuna.importance import get_param_importances
    from optuna.study import StudyDirection

    trials = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    if len(trials) < 2:
        return {}, "importances need at least 2 completed trials"
    sign = -1.0 if study.directions[0] == StudyDirection.MAXIMIZE else 1.0
    try:
        with warnings.catch_warnings():  # "importances … to achieve low target values": the sign sees to it
            warnings.simplefilter("ignore", UserWarning)
            found = get_param_importances(study, target=lambda t: sign * t.values[0])
    except (ValueError, RuntimeError) as exc:  # one value per parameter so far, or a space of one point
        return {}, f"importances are not available yet: {exc}"
    return dict(found), ""


@dataclass
class Pareto:
    x: list[float]  # every completed trial's first objective
    y: list[float]  # and its second
    front: list[int]  # indices (into x, y) of the trials on the front, by their first objective


def pareto(trials: list[Trial], maximize_first: bool) -> Pareto:
    """The trials no other trial beats on both objectives (the second is always minimised: size or cost)."""
    done = [t for t in completed(trials) if len(t["values"]) >= 2]
    x = [float(t["values"][0]) for t in done]
    y = [float(t["values"][1]) for t in done]
    sign = -1.0 if maximize_first else 1.0

    def beaten(i: int) -> bool:
        return any(sign * x[j] <= sign * x[i] and y[j] <= y[i] and (sign * x[j] < sign * x[i] or y[j] < y[i])
                   for j in range(len(x)))

    front = sorted((i for i in range(len(x)) if not beaten(i)), key=lambda i: sign * x[i])
    return Pareto(x, y, front)
