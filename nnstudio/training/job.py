"""From a project to everything a run needs, or a TrainingInputError naming the first bad place.

The CLI and the GUI both call `prepare`; only then do they build a Trainer, so a bad setting, missing
data or a shape mismatch is reported before any training starts.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nnstudio.analysis.diagnostics import Diagnostic, error
from nnstudio.compile.builder import CompiledModel, CompileError, build_module
from nnstudio.compile.weights import WeightsError
from nnstudio.examples import missing_run_hint
from nnstudio.model.project import Project
from nnstudio.training.data import DatasetError, DataSplits, load_dataset
from nnstudio.training.data_init import data_init_warnings
from nnstudio.training.factories import loss_name
from nnstudio.training.init_weights import MatchReport, apply_init_weights
from nnstudio.training.node_training import nothing_to_train
from nnstudio.training.objective import describe_objective
from nnstudio.training.problems import Endpoints, endpoints, resolve_task, training_problems
from nnstudio.training.recipes.registry import DEFAULT_RECIPE, parse_recipe
from nnstudio.training.settings import TrainingSettings, parse_settings


class TrainingInputError(Exception):
    """The project cannot be trained as it is. `problems` are the error diagnostics, first one first."""

    def __init__(self, problems: list[Diagnostic]) -> None:
        self.problems = problems
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        super().__init__(problems[0].message + more)


@dataclass
class TrainingJob:
    project: Project
    settings: TrainingSettings
    compiled: CompiledModel
    data: DataSplits  # targets already in the form the task needs
    task: str
    loss: str
    ends: Endpoints
    names: dict[str, str] = field(default_factory=dict)  # node id -> node name
    types: dict[str, str] = field(default_factory=dict)  # node id -> layer type
    warnings: list[Diagnostic] = field(default_factory=list)
    init_report: MatchReport | None = None  # what project.init.weights loaded; None when it is not set
    recipe: str = DEFAULT_RECIPE  # training.recipe.name: which Trainer runs the job
    recipe_params: dict[str, Any] = field(default_factory=dict)  # its params, defaults filled in


OVERRIDES = {"epochs": ("epochs",), "batch_size": ("batch_size",), "lr": ("optimizer", "lr"),
             "device": ("device",), "seed": ("seed",)}


def with_overrides(training: dict[str, Any], **values: Any) -> dict[str, Any]:
    """A copy of a training section with command-line style overrides (None means keep)."""
    result = copy.deepcopy(training) if isinstance(training, dict) else {}
    for key, value in values.items():
        if value is None:
            continue
        *parents, leaf = OVERRIDES[key]
        target = result
        for parent in parents:
            if not isinstance(target.get(parent), dict):
                target[parent] = {}
            target = target[parent]
        target[leaf] = value
    return result


# Recipes whose step is one optimizer over the network's trainable weights: with none, there is nothing to train.
# (A GAN checks each player's optimizer itself; a SOM updates its map without gradients.)
GRADIENT_RECIPES = frozenset({"supervised", "adversarial", "fewshot"})


def _raise_errors(problems: list[Diagnostic]) -> list[Diagnostic]:
    errors = [p for p in problems if p.is_error]
    if errors:
        raise TrainingInputError(errors)
    return problems


def prepare(project: Project, base_dir: Path | None = None, data: DataSplits | None = None,
            progress: Callable[[int, int], None] | None = None, allow_nothing_to_train: bool = False) -> TrainingJob:
    """Check the project, load its data and compile its graph. Raises TrainingInputError.
    `progress` is told (bytes read, total) while a large data file loads. `allow_nothing_to_train` lets the
    sanity checks report an all-frozen model as a failed check instead of refusing it."""
    settings, found = parse_settings(project.training)
    if data is None:
        _raise_errors(training_problems(project, base_dir=base_dir))
        try:
            data = load_dataset(project.dataset, settings.seed, base_dir, progress)
        except DatasetError as exc:
            raise TrainingInputError([error("dataset", str(exc), param="dataset")]) from None
    elif found:
        _raise_errors(training_problems(project, data=data))
    task = resolve_task(settings, project.dataset, data)
    if task != data.task:
        try:
            data = data.with_task(task)
        except DatasetError as exc:
            message = str(exc).removeprefix("task: ")
            raise TrainingInputError([error("training-setting", f"training.task: {message}",
                                            param="training.task")]) from None
    warnings = _raise_errors(training_problems(project, data=data, settings=settings))
    try:
        compiled = build_module(project)
    except CompileError as exc:
        raise TrainingInputError(exc.diagnostics) from None
    except ImportError as exc:  # a block whose optional extra is missing (the neural ODE's torchdiffeq)
        raise TrainingInputError([error("missing-extra", str(exc))]) from None
    try:
        init_report = apply_init_weights(project, compiled, base_dir)
    except WeightsError as exc:
        hint = missing_run_hint(project.init.weights, base_dir)  # another example's run, not made yet
        raise TrainingInputError([error("init-weights", f"init.weights: {exc}{hint}", param="init.weights")]) from None
    ends, _ = endpoints(project, compiled.analysis)
    graph = project.graph
    recipe, recipe_params, _ = parse_recipe(settings.recipe)  # its problems were raised with the others
    empty = None if allow_nothing_to_train or recipe.name not in GRADIENT_RECIPES else nothing_to_train(compiled, graph)
    if empty:
        raise TrainingInputError([error("nothing-to-train", empty)])
    warnings += data_init_warnings(compiled, {n.id: n.name for n in graph.nodes.values()})
    loss = describe_objective(compiled.plan) if compiled.plan else loss_name(settings.loss, task)
    return TrainingJob(project, settings, compiled, data, task, loss, ends,
                       {n.id: n.name for n in graph.nodes.values()},
                       {n.id: n.type for n in graph.nodes.values()}, warnings, init_report=init_report,
                       recipe=recipe.name, recipe_params=recipe_params)
