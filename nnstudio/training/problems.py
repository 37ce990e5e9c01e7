"""Everything that makes a project untrainable, found before training starts.

`training_problems` returns Diagnostics whose message starts with the place ("training.optimizer.lr: ...",
"dataset.params.path: ...", or a node name). Given loaded data it also compares the dataset with the
graph's Input and Output, naming both shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nnstudio.analysis.diagnostics import Diagnostic, error, warning
from nnstudio.analysis.validate import Analysis, analyze
from nnstudio.layers.spec import TensorType
from nnstudio.model.project import Project
from nnstudio.training.augment.checks import augment_training_problems
from nnstudio.training.data import DATASETS, DataSplits, dataset_problems
from nnstudio.training.device import device_problem, precision_problem, resolve_device
from nnstudio.training.factories import LOSSES_FOR_TASK, loss_name
from nnstudio.training.objective_checks import objective_problems
from nnstudio.training.recipes.registry import parse_recipe, recipe_problems
from nnstudio.training.settings import TrainingSettings, parse_settings

METRICS_FOR_TASK = {
    "classification": ("val_loss", "val_accuracy", "train_loss"),
    "binary": ("val_loss", "val_accuracy", "train_loss"),
    "regression": ("val_loss", "val_rmse", "val_mae", "val_r2", "train_loss"),
    "reconstruction": ("val_loss", "val_rmse", "val_mae", "train_loss"),
}


def _setting(place: str, message: str, severity=error) -> Diagnostic:
    return severity("training-setting", f"{place}: {message}", param=place)


@dataclass
class Endpoints:
    """The graph's single Input and Output with their inferred types."""

    input_id: str
    input_name: str
    input_type: TensorType
    output_id: str
    output_name: str
    output_type: TensorType
    producer_type: str | None  # layer type feeding the Output


def training_problems(project: Project, data: DataSplits | None = None, base_dir: Path | None = None,
                      settings: TrainingSettings | None = None) -> list[Diagnostic]:
    """Problems with the training and dataset sections, and between them, the graph and the data."""
    problems: list[Diagnostic] = []
    if settings is None:
        settings, found = parse_settings(project.training)
        problems += [_setting(place, message) for place, message in found]
    if data is None:
        if not project.dataset:
            problems.append(error("dataset-setting", "dataset: no dataset chosen", param="dataset"))
        else:
            problems += [error("dataset-setting", f"{place}: {message}", param=place)
                         for place, message in dataset_problems(project.dataset, base_dir)]
    problems += settings_problems(settings)
    analysis = analyze(project.graph)
    recipe, _, _ = parse_recipe(settings.recipe)
    problems += augment_training_problems(project, settings, data, recipe.name, has_objective(analysis))
    if not recipe.objective:  # the recipe trains the graph its own way, and its check says what it needs
        if not analysis.ok:
            return problems + endpoints(project, analysis)[1]
        return problems + recipe_problems(project, analysis, data)
    ends, graph_problems = endpoints(project, analysis)
    problems += graph_problems + recipe_problems(project, analysis, data) + noise_problems(project, analysis)
    task = resolve_task(settings, project.dataset, data)
    if ends is not None and has_objective(analysis):
        problems += objective_problems(project, analysis, settings, task, data)
    elif task is not None:
        problems += task_problems(settings, task, ends, data)
    return problems


def noise_problems(project: Project, analysis: Analysis) -> list[Diagnostic]:
    """Field `noise` is drawn by recipes that need it (a GAN's generator input); an objective cannot read it."""
    structure = analysis.structure
    return [error("training-graph", f"{project.graph.nodes[n].name}: reads field noise, which only recipes that "
                  "draw noise (gan) provide; bind it to x or y, or choose such a recipe in training.recipe",
                  node_id=n) for n in structure.order if structure.specs[n].role in ("input", "target")
            and structure.params[n].get("field") == "noise"]


def has_objective(analysis: Analysis) -> bool:
    """Whether the graph declares its own objective (any loss node) instead of using training.loss."""
    return any(spec.role == "loss" for spec in analysis.structure.specs.values())


def resolve_task(settings: TrainingSettings, dataset: dict, data: DataSplits | None) -> str | None:
    """The task to train for: the setting, else the data's, else the catalogue's (None if unknown)."""
    if settings.task != "auto":
        return settings.task
    if data is not None:
        return data.task
    spec = DATASETS.get(dataset.get("name")) if isinstance(dataset.get("name"), str) else None
    return spec.task if spec is not None else None


def settings_problems(s: TrainingSettings) -> list[Diagnostic]:
    """Rules that involve more than one setting, or the machine."""
    found: list[Diagnostic] = []
    if s.optimizer.nesterov and (s.optimizer.name != "sgd" or s.optimizer.momentum <= 0):
        found.append(_setting("training.optimizer.nesterov", "Nesterov momentum needs the 'sgd' optimizer with "
                              "momentum > 0"))
    sched = s.schedule
    if sched.name == "multistep" and any(b <= a for a, b in zip(sched.milestones, sched.milestones[1:])):
        found.append(_setting("training.schedule.milestones", f"expected increasing epochs, got {sched.milestones}"))
    if sched.name == "warmup_cosine" and sched.warmup_epochs >= s.epochs:
        found.append(_setting("training.schedule.warmup_epochs", f"the warm-up ({sched.warmup_epochs} epochs) "
                              f"must be shorter than training ({s.epochs} epochs)"))
    if sched.name == "plateau" and sched.gamma >= 1:
        found.append(_setting("training.schedule.gamma", "reduce-on-plateau needs a factor below 1"))
    if sched.name == "step" and sched.step_size >= s.epochs:
        found.append(_setting("training.schedule.step_size", f"the rate never drops: step_size "
                              f"{sched.step_size} >= epochs {s.epochs}", warning))
    problem = device_problem(s.device)
    if problem:
        found.append(_setting("training.device", problem))
    else:
        problem = precision_problem(s.precision, resolve_device(s.device))
        if problem:
            found.append(_setting("training.precision", problem))
    return found


def endpoints(project: Project, analysis: Analysis | None = None) -> tuple[Endpoints | None, list[Diagnostic]]:
    """The single Input and Output the engine trains, or a diagnostic saying why there is none."""
    analysis = analysis or analyze(project.graph)
    if not analysis.ok:
        return None, [error("training-graph", f"the graph has {len(analysis.errors)} error(s); first: "
                            f"{analysis.errors[0].message}", node_id=analysis.errors[0].node_id)]
    structure, graph = analysis.structure, project.graph
    roles = {role: [n for n in structure.order if structure.specs[n].role == role]
             for role in ("input", "output", "loss")}
    if not roles["loss"]:  # the implicit objective: training.loss between the one Output and the targets
        for role, title in (("input", "Input"), ("output", "Output")):
            if len(roles[role]) != 1:
                return None, [error("training-graph", f"the graph has {len(roles[role])} {title} nodes but no "
                                    f"loss node: a menu loss (training.loss) trains exactly one Input against one "
                                    f"Output; for more, add a loss node (palette: Losses) for each {title} you train "
                                    "and Target nodes for what they are compared with")]
    if not roles["input"] or not roles["output"]:
        return None, [error("training-graph", "the graph needs an Input and an Output")]
    inp, out = roles["input"][0], roles["output"][0]
    in_type, out_type = analysis.shapes.of(inp), analysis.shapes.outputs.get((out, ""))
    if in_type is None or out_type is None:
        return None, [error("training-graph", "the graph's shapes could not be inferred")]
    feeding = structure.incoming[out].get("in", [])
    producer = graph.nodes[feeding[0].source.node].type if feeding else None
    return Endpoints(inp, graph.nodes[inp].name, in_type, out, graph.nodes[out].name, out_type, producer), []


def task_problems(s: TrainingSettings, task: str, ends: Endpoints | None,
                  data: DataSplits | None) -> list[Diagnostic]:
    """Loss, metric and shape rules that depend on the task (and on the data when it is loaded)."""
    found: list[Diagnostic] = []
    loss = loss_name(s.loss, task)
    if loss not in LOSSES_FOR_TASK[task]:
        hint = f"use one of {', '.join(LOSSES_FOR_TASK[task])}"
        if task == "classification" and loss.startswith("bce"):
            classes = f" with {data.num_classes} classes" if data is not None and data.num_classes else ""
            hint = f"'{loss}' scores one yes/no output per target, not a choice among classes; use 'cross_entropy'"
            found.append(_setting("training.loss.name", f"the task is classification{classes}: {hint}"))
        else:
            found.append(_setting("training.loss.name", f"'{loss}' does not fit the {task} task; {hint}"))
    weights = s.loss.class_weights
    if weights is not None and data is not None and data.num_classes and len(weights) != data.num_classes:
        found.append(_setting("training.loss.class_weights", f"expected {data.num_classes} weights (one per "
                              f"class), got {len(weights)}"))
    for place, monitor in (("training.early_stopping.monitor", s.early_stopping.monitor),
                           ("training.schedule.monitor", s.schedule.monitor)):
        if place.endswith("schedule.monitor") and s.schedule.name != "plateau":
            continue
        if monitor not in METRICS_FOR_TASK[task]:
            found.append(_setting(place, f"'{monitor}' is not measured for {task}; choose one of "
                                  f"{', '.join(METRICS_FOR_TASK[task])}"))
        elif monitor.startswith("val_") and data is not None and data.val is None:
            needed = s.early_stopping.enabled if "early" in place else True
            if needed:
                found.append(_setting(place, f"'{monitor}' needs a validation split: set dataset.val_fraction "
                                      "above 0, or monitor 'train_loss'"))
    if ends is not None:
        found += output_problems(loss, task, ends, data)
    if ends is not None and data is not None:
        found += input_problems(ends, data)
        if s.batch_size > len(data.train):
            found.append(_setting("training.batch_size", f"{s.batch_size} is more than the {len(data.train)} "
                                  "training samples: each epoch is a single step", warning))
    return found


def input_problems(ends: Endpoints, data: DataSplits) -> list[Diagnostic]:
    sample = TensorType(tuple(data.input_shape), data.input_dtype)
    if sample.shape != ends.input_type.shape or sample.dtype != ends.input_type.dtype:
        return [error("data-shape", f"dataset: samples are {sample} but Input '{ends.input_name}' expects "
                      f"{ends.input_type}; change the Input's shape or the dataset", node_id=ends.input_id)]
    return []


def output_problems(loss: str, task: str, ends: Endpoints, data: DataSplits | None) -> list[Diagnostic]:
    """Whether the Output's shape fits the loss and the targets."""
    out, name = ends.output_type, ends.output_name
    if loss == "nll" and ends.producer_type != "LogSoftmax":
        return [_setting("training.loss.name", f"'nll' expects log-probabilities but Output '{name}' is fed by "
                         f"{ends.producer_type}; end the graph with LogSoftmax or use 'cross_entropy'", warning)]
    if loss == "cross_entropy" and ends.producer_type == "Softmax":
        return [_setting("training.loss.name", f"Output '{name}' is fed by Softmax, but 'cross_entropy' applies "
                         "log-softmax itself; remove the Softmax so the model outputs logits", warning)]
    if data is None:
        return []
    if task == "classification":
        expected = TensorType((*data.target_shape, data.num_classes or 0))
        if out.shape != expected.shape:
            return [error("target-shape", f"{name}: gives {out} but '{loss}' needs one output per class: the "
                          f"dataset has {data.num_classes} classes, so the Output should give {expected}",
                          node_id=ends.output_id)]
        return []
    target = TensorType(tuple(data.target_shape))
    if out.shape != target.shape:
        what = {"binary": "the binary targets are", "regression": "the regression targets are",
                "reconstruction": "the reconstruction targets (the inputs) are"}[task]
        return [error("target-shape", f"{name}: gives {out} but {what} {target}; '{loss}' needs them equal",
                      node_id=ends.output_id)]
    return []
