"""The recipe catalogue, parsing `training.recipe`, and making the trainer a recipe names.

The section reads like the dataset section:
    "recipe": {"name": "adversarial", "params": {"attack": "pgd", "epsilon": 0.1}}
(or just "recipe": "gan"). Left out, the recipe is `supervised`: today's engine and its fast path.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from nnstudio.analysis.diagnostics import Diagnostic, error
from nnstudio.layers.params import coerce_params
from nnstudio.training.recipes.spec import RecipeSpec

if TYPE_CHECKING:
    from nnstudio.analysis.validate import Analysis
    from nnstudio.model.project import Project

DEFAULT_RECIPE = "supervised"
# Each module declares SPEC; its trainer lives beside it and is imported only when a run starts.
_MODULES = ("supervised", "adversarial", "gan", "som", "fewshot")
Problem = tuple[str, str]


def _load() -> dict[str, RecipeSpec]:
    specs: dict[str, RecipeSpec] = {}
    for name in _MODULES:
        try:
            spec = importlib.import_module(f"nnstudio.training.recipes.{name}").SPEC
        except ModuleNotFoundError as exc:
            if exc.name == f"nnstudio.training.recipes.{name}":
                continue  # a recipe that is not part of this build
            raise
        specs[spec.name] = spec
    return specs


RECIPES: dict[str, RecipeSpec] = _load()


def parse_recipe(section: Any) -> tuple[RecipeSpec, dict[str, Any], list[Problem]]:
    """The recipe, its complete params (defaults filled in, bad values replaced by defaults) and the problems."""
    if section is None:
        return RECIPES[DEFAULT_RECIPE], RECIPES[DEFAULT_RECIPE].defaults(), []
    if isinstance(section, str):
        section = {"name": section}
    if not isinstance(section, dict):
        return RECIPES[DEFAULT_RECIPE], RECIPES[DEFAULT_RECIPE].defaults(), [
            ("training.recipe", "expected an object like {\"name\": \"gan\", \"params\": {...}} or a recipe name")]
    problems = [(f"training.recipe.{key}", "unknown key; a recipe section holds name and params")
                for key in section if key not in ("name", "params")]
    name = section.get("name", DEFAULT_RECIPE)
    if not isinstance(name, str) or name not in RECIPES:
        problems.append(("training.recipe.name", f"no recipe named {name!r}; choose one of {', '.join(RECIPES)}"))
        return RECIPES[DEFAULT_RECIPE], RECIPES[DEFAULT_RECIPE].defaults(), problems
    spec = RECIPES[name]
    values, found = _coerce(spec, section.get("params", {}))
    return spec, values, problems + found


def _coerce(spec: RecipeSpec, params: Any) -> tuple[dict[str, Any], list[Problem]]:
    return coerce_params(spec.params, params, "training.recipe.params", f"the {spec.name} recipe")


def recipe_problems(project: Project, analysis: Analysis, data: Any = None) -> list[Diagnostic]:
    """The section's own problems, then what the recipe needs of the graph and, when loaded, the data (only when
    the section itself is sound)."""
    spec, values, found = parse_recipe(project.training.get("recipe") if isinstance(project.training, dict) else None)
    problems = [error("training-setting", f"{place}: {message}", param=place) for place, message in found]
    if not found and spec.check is not None and analysis.ok:
        problems += spec.check(project, analysis, values, data)
    return problems


def create_trainer(job: Any, out_dir: Any = None, writer: Any = None, history: Any = None) -> Any:
    """The Trainer the job's recipe names, built like `Trainer(job, out_dir, writer, history)`."""
    return RECIPES[job.recipe].trainer_class()(job, out_dir, writer=writer, history=history)


def distributed_recipe_problem(job: Any) -> str | None:
    """Why the job's recipe cannot run under --distributed, in one line; None when it can."""
    reason = RECIPES[job.recipe].distributed
    return f"training.recipe: {reason}" if reason else None


def export_model(compiled: Any, project: Project) -> Any:
    """What export writes for the project: its recipe's inference part (a GAN's generator) as a CompiledModel
    of its own, or `compiled` itself when the recipe names none."""
    spec, _, _ = parse_recipe(project.training.get("recipe") if isinstance(project.training, dict) else None)
    chosen = spec.export_part(compiled, project) if spec.export_part is not None else None
    return chosen if chosen is not None else compiled
