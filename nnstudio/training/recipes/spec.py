"""RecipeSpec: the one declaration of a training recipe that every consumer reads.

A recipe is how a graph is trained when that is not "minimise one objective with one optimizer": a GAN plays two
networks against each other, a self-organising map learns by competition, few-shot learning trains on episodes,
adversarial training attacks every batch first. The declaration carries the recipe's params (ParamSpecs, so the
file loader, its errors, the GUI's editors and the docs read one list), what it logs, which live and evaluation
views the app offers for it, what export writes, and whether it runs under --distributed. The trainer itself is
named by import path, so reading the catalogue (the GUI's menu, `validate`) never imports torch.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nnstudio.analysis.diagnostics import Diagnostic
from nnstudio.layers.params import ParamSpec

if TYPE_CHECKING:
    from nnstudio.analysis.validate import Analysis
    from nnstudio.model.project import Project

# (project, analysis, resolved params, loaded DataSplits or None) -> what is wrong for this recipe: a GAN needs
# two players, few-shot needs enough classes ... Data-dependent rules run only once the data is loaded.
GraphCheck = Callable[["Project", "Analysis", Mapping[str, Any], Any], list[Diagnostic]]


@dataclass(frozen=True)
class RecipeSpec:
    name: str  # the key in `training.recipe.name`
    title: str
    summary: str  # one line, for menus
    explanation: str  # what the system is and what its views show, shown in the app
    trainer: str  # import path of the Trainer subclass, e.g. "nnstudio.training.recipes.gan_trainer.GanTrainer"
    params: tuple[ParamSpec, ...] = ()
    logs: tuple[str, ...] = ()  # epoch metrics it adds to the usual ones (without the train_/val_ prefix)
    live_views: tuple[str, ...] = ("loss", "metrics")  # ids of the app's live views
    evaluation_views: tuple[str, ...] = ("metrics",)
    exports: str = "the trained model"  # what export writes, in words
    distributed: str | None = None  # None when it runs under --distributed; else why it cannot
    check: GraphCheck | None = None
    # Whether the graph's objective (its loss nodes, or training.loss between one Input and one Output) is what
    # the recipe minimises; False for recipes that train their own way, whose `check` then covers the graph
    # and whose jobs have no `ends`.
    objective: bool = True
    # For a recipe whose inference model is a part of the graph (a GAN's generator): (compiled, project) -> that
    # part as a CompiledModel of its own (nnstudio.compile.parts.part_model), which export writes instead of
    # the whole model; None exports the whole model.
    export_part: Callable[[Any, Project], Any] | None = None
    # Import path of a function (job, split) -> EvaluationReport that replaces the usual scoring of a split in
    # `nnstudio evaluate` and the Evaluation tab (few-shot episodes); None: the usual scoring.
    evaluator: str | None = None

    def param(self, name: str) -> ParamSpec:
        for spec in self.params:
            if spec.name == name:
                return spec
        raise KeyError(f"recipe {self.name!r} has no param {name!r}")

    def defaults(self) -> dict[str, Any]:
        return {spec.name: spec.default for spec in self.params}

    def trainer_class(self) -> type:
        module_name, _, attr = self.trainer.rpartition(".")
        return getattr(importlib.import_module(module_name), attr)

    def evaluator_function(self) -> Callable[..., Any] | None:
        if self.evaluator is None:
            return None
        module_name, _, attr = self.evaluator.rpartition(".")
        return getattr(importlib.import_module(module_name), attr)
