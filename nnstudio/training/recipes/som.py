"""The self-organising map recipe's declaration: Kohonen's competitive learning, without gradients.

The graph is Input → (fixed steps such as Flatten) → SOM → Output. Each step finds every sample's
best-matching unit (BMU) and pulls the BMU and its grid neighbours towards the sample, with a neighbourhood
radius σ and a rate α that decay over the run (som_trainer.py). These params replace training.optimizer,
training.loss and training.schedule, which the recipe does not read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nnstudio.analysis.diagnostics import Diagnostic, error
from nnstudio.analysis.validate import Analysis
from nnstudio.layers.params import ParamKind, ParamSpec, choice_param, float_param, int_param
from nnstudio.layers.spec import TensorType
from nnstudio.model.project import Project
from nnstudio.training.recipes.spec import RecipeSpec
from nnstudio.training.settings import parse_settings

PARAMS = (
    ParamSpec("radius_start", ParamKind.FLOAT, None, "The neighbourhood radius σ at the first step, in grid units; "
              "empty: half the longer side of the grid.", minimum=1e-3, optional=True),
    float_param("radius_end", 0.5, "The radius σ at the last step: below 1 almost only the BMU itself moves.",
                1e-3),
    float_param("rate_start", 0.5, "The learning rate α at the first step: the share of the way a BMU moves "
                "towards its samples.", 1e-6, 1.0),
    float_param("rate_end", 0.01, "The rate α at the last step.", 1e-6, 1.0),
    choice_param("decay", "exponential", ("exponential", "linear"), "How σ and α go from their start to their "
                 "end values over the run's steps: geometrically or in equal steps."),
    int_param("map_every", 1, "Record the U-matrix and hit map every this many epochs (0: only at the start and "
              "the end).", 0),
)
SOM_TYPE = "SOM"
WHY_NOT_DISTRIBUTED = ("the som recipe does not run under --distributed: its Kohonen updates are not gradients "
                       "that processes can average; train the map on one process")


def _place(message: str) -> Diagnostic:
    return error("recipe-graph", f"training.recipe.name: {message}", param="training.recipe.name")


def _upstream(analysis: Analysis, node_id: str) -> set[str]:
    """Every node whose value reaches `node_id`."""
    seen: set[str] = set()
    todo = [node_id]
    while todo:
        for edges in analysis.structure.incoming.get(todo.pop(), {}).values():
            for edge in edges:
                if edge.source.node not in seen:
                    seen.add(edge.source.node)
                    todo.append(edge.source.node)
    return seen


def _graph_problems(project: Project, analysis: Analysis) -> list[Diagnostic]:
    """One map fed by one Input through fixed steps only; nothing the recipe would leave untrained."""
    structure, graph = analysis.structure, project.graph
    name = {n: graph.nodes[n].name for n in structure.order}
    maps = [n for n in structure.order if structure.specs[n].type == SOM_TYPE]
    if not maps:
        return [_place("the som recipe trains a self-organising map and the graph has none; add a SOM layer "
                       "(palette: Competitive) between the Input and the Output")]
    som = maps[0]
    if len(maps) > 1:
        return [error("recipe-graph", f"{name[maps[1]]}: a second SOM layer; the som recipe trains one map "
                      f"('{name[som]}'), so remove the others", node_id=maps[1])]
    for n in structure.order:
        if structure.specs[n].role in ("loss", "target"):
            return [error("recipe-graph", f"{name[n]}: the som recipe minimises no objective, so it has no use "
                          "for loss nodes and Targets; remove it, or train with the supervised recipe", node_id=n)]
    inputs = [n for n in structure.order if structure.specs[n].role == "input"]
    if len(inputs) != 1:
        return [_place(f"the som recipe maps the samples of one Input; the graph has {len(inputs)}")]
    field = structure.params[inputs[0]].get("field", "x")
    if field != "x":
        return [error("recipe-graph", f"{name[inputs[0]]}: reads field {field}; the som recipe maps the "
                      "samples, so bind it to x", node_id=inputs[0])]
    feeding = _upstream(analysis, som)
    for n in structure.order:
        if n != som and structure.specs[n].has_weights:
            where = "feeds the map" if n in feeding else "is in the graph"
            return [error("recipe-graph", f"{name[n]}: {where} but has weights ({graph.nodes[n].type}), and the "
                          "som recipe moves only the map's prototypes, so they would never train; keep only "
                          "fixed steps such as Flatten or Reshape besides the map", node_id=n)]
    arriving = analysis.shapes.input_types(structure, som)
    vector = arriving.one() if arriving is not None else None
    if vector is not None and len(vector.shape) != 1:
        return [error("recipe-graph", f"{name[som]}: gets {vector}, but the som recipe maps one vector per sample "
                      "[N, features]; put a Flatten before it", node_id=som)]
    return []


def _check(project: Project, analysis: Analysis, params: Mapping[str, Any], data: Any) -> list[Diagnostic]:
    problems = _graph_problems(project, analysis)
    settings, _ = parse_settings(project.training)
    if settings.early_stopping.enabled:
        problems.append(error("training-setting", "training.early_stopping.enabled: the som recipe runs its "
                              "radius and rate schedule to the end; turn early stopping off",
                              param="training.early_stopping.enabled"))
    if problems or data is None:
        return problems
    structure = analysis.structure
    inp = next(n for n in structure.order if structure.specs[n].role == "input")
    expected, sample = analysis.shapes.of(inp), TensorType(tuple(data.input_shape), data.input_dtype)
    if expected is not None and (expected.shape != sample.shape or expected.dtype != sample.dtype):
        return [error("data-shape", f"dataset: samples are {sample} but Input '{project.graph.nodes[inp].name}' "
                      f"expects {expected}; change the Input's shape or the dataset", node_id=inp)]
    return []


SPEC = RecipeSpec(
    name="som",
    title="Self-organising map",
    summary="Kohonen's map: a grid of prototypes organised by competition, no gradients.",
    explanation=(
        "A self-organising map is a grid of units, each holding a prototype vector. For every sample the unit "
        "with the nearest prototype wins (its best-matching unit, BMU); the BMU and its grid neighbours move "
        "towards the sample, the neighbours less the farther they are on the grid. The neighbourhood radius σ "
        "and the rate α shrink as training goes on: first the whole map unfolds over the data, then each unit "
        "settles on its own region. No loss is minimised and no gradient is computed. Similar samples end up "
        "on nearby units, so the grid becomes a 2-D picture of the data. The curves show the quantisation error "
        "(the mean distance of a sample to its BMU's prototype: how well the map fits the data) and the "
        "topographic error (the share of samples whose two best units are not neighbours: how well the grid "
        "keeps the data's shape). The U-matrix shades each unit by its mean distance to its neighbours' "
        "prototypes: dark ridges are borders between clusters. The hit map counts the samples each unit wins "
        "and colours it by their majority class."
    ),
    trainer="nnstudio.training.recipes.som_trainer.SomTrainer",
    params=PARAMS,
    logs=("quantisation_error", "topographic_error", "radius"),
    live_views=("metrics", "u_matrix", "hit_map"),
    evaluation_views=("metrics", "u_matrix", "hit_map"),
    exports="the map's prototypes, inside the SOM layer of the inference model",
    distributed=WHY_NOT_DISTRIBUTED,
    check=_check,
    objective=False,
    evaluator="nnstudio.training.recipes.som_trainer.evaluate_map",
)
