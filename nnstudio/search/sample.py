"""From sampled values to the project a trial trains: values written, blocks bypassed or repeated, checked.

`suggest` asks an Optuna trial for one value per dimension (define-by-run, so every sampler sees the same
names). `apply_sample` is plain Python over a copy of the project: the runner, `--apply-best` and the tests
share it, so the best trial's project is rebuilt exactly as it was trained.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nnstudio.analysis.diagnostics import located
from nnstudio.analysis.validate import analyze
from nnstudio.model.project import Project
from nnstudio.search.space import Dimension, SearchSpace
from nnstudio.search.structure import bypass, find_block, repeat
from nnstudio.search.targets import project_copy


@dataclass
class Sampled:
    """A trial's project, or why the sample cannot train (the analyzer's first error, naming the node)."""

    project: Project
    params: dict[str, Any]
    invalid: str | None = None


def suggest(trial: Any, dims: list[Dimension]) -> dict[str, Any]:
    """One value per dimension from an optuna.Trial, keyed by the dimension's label."""
    params: dict[str, Any] = {}
    for dim in dims:  # how each kind samples is declared in tables.DIMENSION_KINDS (whole, flag, numeric)
        categories = dim.categories()
        if categories is not None:
            params[dim.label] = trial.suggest_categorical(dim.label, categories)
        elif dim.whole:
            params[dim.label] = trial.suggest_int(dim.label, dim.low, dim.high, step=dim.step or 1, log=dim.log)
        else:
            params[dim.label] = trial.suggest_float(dim.label, dim.low, dim.high, log=dim.log, step=dim.step)
    return params


def apply_sample(project: Project, space: SearchSpace, params: dict[str, Any]) -> Sampled:
    """A copy of `project` with `params` applied: values first (so a repeated block's copies carry the sampled
    widths), then each structure dimension in file order. A block is found again on the graph as it is by
    then, since an earlier bypass may have removed what fed it."""
    trial = project_copy(project)
    for dim in space.values:
        if dim.label in params:
            dim.target.apply(trial, params[dim.label])
    for dim in space.structure:
        value = params.get(dim.label)
        if value is None or (dim.kind == "optional" and value is True) or (dim.kind == "repeat" and value == 1):
            continue
        block, why = find_block(trial.graph, list(dim.block.names))
        if block is None:
            return Sampled(trial, params, f"{dim.label}: {why}")
        if dim.kind == "optional":
            bypass(trial.graph, block)
        else:
            repeat(trial.graph, block, int(value))
    return Sampled(trial, params, _invalid(trial) if space.structure else None)


def _invalid(project: Project) -> str | None:
    """The analyzer's first error about the sampled graph, in the words `nnstudio validate` uses."""
    errors = analyze(project.graph).errors
    if not errors:
        return None
    names = {n.id: (n.name, n.type) for n in project.graph.nodes.values()}
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return located(errors[0], names) + more


def describe_params(params: dict[str, Any]) -> str:
    """`lr=0.0123, fc1.out_features=64, keep:dropout=false` for progress lines."""
    def show(value: Any) -> str:
        if isinstance(value, bool):
            return str(value).lower()
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    return ", ".join(f"{label}={show(value)}" for label, value in params.items()) or "(no dimensions)"
