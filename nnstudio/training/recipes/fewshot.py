"""The few-shot recipe's declaration: prototypical networks trained and tested on N-way K-shot episodes.

The graph is only the embedding network (Input → … → Output, the embedding); the recipe supplies the loss. Each
training step is one episode of the training classes: the support rows' mean embedding per class is its
prototype, the queries are classified by their negative squared distance to each prototype, and the
cross-entropy of the queries is minimised. The test classes are never trained on; the recipe reports how well
the embedding tells them apart from a few examples, as N-way K-shot accuracy with a 95 % confidence interval.

Which rows episodes come from: training episodes draw from the training split's rows of `train_classes`;
evaluation episodes draw from every split's rows of their classes (the test classes are never trained on, so
their validation and test rows are no more held out than their training rows). The classes are numbered as
the dataset gives them, after `dataset.classes` (if set) has kept and renumbered a subset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nnstudio.analysis.diagnostics import Diagnostic, error
from nnstudio.analysis.validate import Analysis
from nnstudio.layers.params import ParamKind, ParamSpec, int_param
from nnstudio.model.project import Project
from nnstudio.training.recipes.spec import RecipeSpec

PARAMS = (
    int_param("ways", 5, "Classes per training episode (N).", 2, 10_000),
    int_param("shots", 5, "Support samples per class (K) in training episodes and in the per-epoch evaluation.",
              1, 10_000),
    int_param("queries", 10, "Query samples per class in every episode: the loss and the accuracy are measured "
              "on them.", 1, 10_000),
    int_param("episodes", 100, "Training episodes per epoch; each is one optimizer step.", 1, 1_000_000),
    ParamSpec("train_classes", ParamKind.INT_LIST, None, "The classes the embedding is trained on, by index. "
              "Empty: the first half of the dataset's classes.", minimum=0, optional=True),
    ParamSpec("test_classes", ParamKind.INT_LIST, None, "The classes it is tested on, never trained on. Empty: "
              "the second half.", minimum=0, optional=True),
    ParamSpec("val_classes", ParamKind.INT_LIST, None, "The classes of the per-epoch validation episodes, kept "
              "apart from both for an unbiased choice of the best epoch. Empty: the test classes (other episodes "
              "than the final test's).", minimum=0, optional=True),
    ParamSpec("test_ways", ParamKind.INT, None, "Classes per evaluation episode. Empty: the same as ways.",
              minimum=2, maximum=10_000, optional=True),
    ParamSpec("test_shots", ParamKind.INT_LIST, [1, 5], "The K of the final evaluation: one N-way K-shot "
              "accuracy for each.", minimum=1, maximum=10_000),
    int_param("val_episodes", 100, "Validation episodes each epoch (fewer: faster, with a wider interval).",
              1, 100_000),
    int_param("test_episodes", 600, "Episodes of the final evaluation, for each K.", 1, 100_000),
)
PLACE = "training.recipe.params."
MONITORED = ("val_loss", "val_accuracy", "train_loss")  # what the recipe's epochs report of the usual names


@dataclass(frozen=True)
class FewShotPlan:
    """The resolved params: class lists filled in, so the check, the trainer and the evaluation agree."""

    ways: int
    shots: int
    queries: int
    episodes: int
    train_classes: list[int]
    val_classes: list[int]
    test_classes: list[int]
    test_ways: int
    test_shots: list[int]
    val_episodes: int
    test_episodes: int
    val_is_test: bool  # val_classes was left empty

    @classmethod
    def resolve(cls, params: Mapping[str, Any], num_classes: int) -> FewShotPlan:
        half = num_classes // 2
        train = list(params["train_classes"]) if params["train_classes"] else list(range(half))
        test = list(params["test_classes"]) if params["test_classes"] else list(range(half, num_classes))
        val = list(params["val_classes"]) if params["val_classes"] else list(test)
        shots = list(dict.fromkeys(params["test_shots"]))  # each K once, in the order given
        return cls(params["ways"], params["shots"], params["queries"], params["episodes"], train, val, test,
                   params["test_ways"] or params["ways"], shots, params["val_episodes"], params["test_episodes"],
                   not params["val_classes"])

    @property
    def largest_shots(self) -> int:
        return max(self.shots, *self.test_shots)

    def class_sets(self) -> tuple[tuple[str, list[int], int, int], ...]:
        """(param, classes, ways, shots) of each set, for the checks: the most each set's episodes ask for."""
        sets = [("train_classes", self.train_classes, self.ways, self.shots),
                ("test_classes", self.test_classes, self.test_ways, self.largest_shots)]
        if not self.val_is_test:
            sets.append(("val_classes", self.val_classes, self.test_ways, self.shots))
        return tuple(sets)


def _graph_problems(project: Project, analysis: Analysis) -> list[Diagnostic]:
    structure, graph = analysis.structure, project.graph
    roles = {role: [n for n in structure.order if structure.specs[n].role == role]
             for role in ("input", "output", "loss", "target")}
    if roles["loss"] or roles["target"]:
        return [error("recipe-graph", "training.recipe: the fewshot recipe supplies its own loss (on distances "
                      "to class prototypes), so the graph is only the embedding network, Input → … → Output; "
                      "remove its loss and Target nodes", param="training.recipe.name")]
    for role, title in (("input", "Input"), ("output", "Output")):
        if len(roles[role]) != 1:
            return [error("recipe-graph", f"training.recipe: the fewshot recipe trains an embedding network with "
                          f"one Input and one Output (the embedding); the graph has {len(roles[role])} {title} "
                          "nodes", param="training.recipe.name")]
    node = roles["input"][0]
    if structure.params[node].get("field", "x") != "x":
        return [error("recipe-graph", f"{graph.nodes[node].name}: reads field {structure.params[node]['field']}; "
                      "the fewshot recipe embeds the samples, so bind the Input to field x", node_id=node)]
    out = analysis.shapes.outputs.get((roles["output"][0], ""))
    if out is not None and out.dtype != "float32":
        return [error("recipe-graph", f"{graph.nodes[roles['output'][0]].name}: gives {out}; an embedding must be "
                      "float numbers", node_id=roles["output"][0])]
    return []


def _list_problems(lists: Mapping[str, list[int] | None]) -> list[Diagnostic]:
    """What is wrong with the class lists (param name -> classes; None or absent: left empty)."""
    for name, listed in lists.items():
        listed = listed or []
        twice = next((c for i, c in enumerate(listed) if c in listed[:i]), None)
        if twice is not None:
            return [_param(name, f"class {twice} is listed twice; list each class once")]
    pairs = (("test_classes", "train_classes", "a training"), ("val_classes", "train_classes", "a training"),
             ("val_classes", "test_classes", "a test"))
    for name, other, what in pairs:
        shared = [c for c in lists.get(name) or [] if c in (lists.get(other) or [])]
        if shared:
            return [_param(name, f"class {shared[0]} is also {what} class; training, validation and test "
                           "classes must be disjoint")]
    return []


def _param(name: str, message: str) -> Diagnostic:
    return error("training-setting", f"{PLACE}{name}: {message}", param=PLACE + name)


def _settings_problems(project: Project) -> list[Diagnostic]:
    from nnstudio.training.settings import parse_settings

    settings, _ = parse_settings(project.training)
    watched = [("training.early_stopping.monitor", settings.early_stopping.monitor, settings.early_stopping.enabled),
               ("training.schedule.monitor", settings.schedule.monitor, settings.schedule.name == "plateau")]
    return [error("training-setting", f"{place}: the fewshot recipe does not measure '{metric}'; watch one of "
                  f"{', '.join(MONITORED)}", param=place) for place, metric, used in watched
            if used and metric not in MONITORED]


def _data_problems(plan: FewShotPlan, data: Any) -> list[Diagnostic]:
    import torch

    count = data.num_classes or 0
    names = data.class_names or [str(c) for c in range(count)]
    training = data.train.y.reshape(-1)
    every = torch.cat([split.y.reshape(-1) for split in data.splits().values()])
    for name, classes, ways, shots in plan.class_sets():
        outside = [c for c in classes if c >= count]
        if outside:
            return [_param(name, f"class {outside[0]} is out of range; the dataset has {count} classes, numbered "
                           f"0 to {count - 1}")]
        if len(classes) < ways:
            what = "ways" if name == "train_classes" else "test_ways"
            return [_param(name, f"{len(classes)} classes cannot make {ways}-way episodes; list at least {ways} "
                           f"classes or lower {what}")]
        rows, where = (training, "in the training split") if name == "train_classes" else (every, "in all splits")
        need = shots + plan.queries
        for cls in classes:
            have = int((rows == cls).sum())
            if have < need:
                return [_param(name, f"class {cls} ('{names[cls]}') has {have} samples {where}; {shots}-shot "
                               f"episodes with {plan.queries} queries need {need} per class")]
    return []


def _check(project: Project, analysis: Analysis, params: Mapping[str, Any], data: Any) -> list[Diagnostic]:
    names = ("train_classes", "val_classes", "test_classes")
    problems = _graph_problems(project, analysis) or _list_problems({name: params[name] for name in names})
    problems += _settings_problems(project)
    if problems or data is None:
        return problems
    if data.task != "classification":
        return [error("training-setting", f"training.recipe.name: the fewshot recipe draws episodes of classes; "
                      f"this dataset's task is {data.task}", param="training.recipe.name")]
    inputs = [n for n in analysis.structure.order if analysis.structure.specs[n].role == "input"]
    expected = analysis.shapes.of(inputs[0])
    if expected is not None and (tuple(expected.shape) != tuple(data.input_shape)
                                 or expected.dtype != data.input_dtype):
        return [error("data-shape", f"dataset: samples are {list(data.input_shape)} {data.input_dtype} but Input "
                      f"'{project.graph.nodes[inputs[0]].name}' expects {expected}; change the Input's shape or "
                      "the dataset", node_id=inputs[0])]
    plan = FewShotPlan.resolve(params, data.num_classes or 0)
    resolved = {"train_classes": plan.train_classes, "test_classes": plan.test_classes}
    if not plan.val_is_test:
        resolved["val_classes"] = plan.val_classes
    return _list_problems(resolved) or _data_problems(plan, data)


SPEC = RecipeSpec(
    name="fewshot",
    title="Few-shot learning (prototypical networks)",
    summary="Learns an embedding on N-way K-shot episodes; tested on classes it never saw.",
    explanation=(
        "Few-shot learning asks a model to recognise new classes from a handful of examples. The graph is an "
        "embedding network. Each training step is an episode: N of the training classes, K labelled support "
        "samples and Q query samples of each. A class's prototype is the mean embedding of its support, and each "
        "query is classified by its distance to the prototypes (logits = −squared distance); the cross-entropy "
        "of the queries is the loss, so the embedding learns to put samples of one class close together. The "
        "test classes are never trained on: the views show the N-way K-shot accuracy on their episodes each "
        "epoch, with its 95 % confidence interval over the episodes, beside chance (1/N), and at the end the "
        "accuracy for each K tested."
    ),
    trainer="nnstudio.training.recipes.fewshot_trainer.FewShotTrainer",
    params=PARAMS,
    logs=("fewshot_accuracy", "fewshot_ci95"),
    live_views=("loss", "metrics", "fewshot"),
    evaluation_views=("fewshot",),
    exports="the embedding network (the encoder)",
    distributed="the fewshot recipe does not run under --distributed: each step is one small episode, too small "
                "to share; train it on one process",
    check=_check,
    objective=False,
    evaluator="nnstudio.training.recipes.fewshot_trainer.evaluate_fewshot",
)
