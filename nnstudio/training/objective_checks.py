"""Training checks for graphs that declare their own objective, before any data is moved or model is built.

Shape rules already hold each loss node to its ports (class indices for cross-entropy, equal mu and logvar for
KL, equal teacher and student for distillation). What needs the data as well is checked here: that each Input
and Target matches the field it reads, that a classifier's logits cover the classes its target can hold, and
that the settings name metrics this objective reports.
"""

from __future__ import annotations

from nnstudio.analysis.diagnostics import Diagnostic, error, warning
from nnstudio.analysis.validate import Analysis
from nnstudio.compile.objective import Head, ObjectivePlan, plan_objective
from nnstudio.layers.spec import TensorType
from nnstudio.model.project import Project
from nnstudio.training.data import DataSplits
from nnstudio.training.objective import objective_metric_names
from nnstudio.training.settings import TrainingSettings


def objective_plan(project: Project, analysis: Analysis) -> ObjectivePlan:
    structure = analysis.structure
    placeholders = [n for n in structure.order if structure.specs[n].role in ("input", "target")]
    losses = {n: None for n in structure.order if structure.specs[n].role == "loss"}
    return plan_objective(project.graph, structure, placeholders, losses)  # type: ignore[arg-type]


def objective_problems(project: Project, analysis: Analysis, settings: TrainingSettings, task: str | None,
                       data: DataSplits | None) -> list[Diagnostic]:
    plan = objective_plan(project, analysis)
    found = _settings_problems(project, plan, settings, data)
    if data is not None:
        found += _field_problems(project, analysis, plan, data)
        found += [p for head in plan.heads for p in _class_problems(project, analysis, head, data)]
    return found


def _settings_problems(project: Project, plan: ObjectivePlan, settings: TrainingSettings,
                       data: DataSplits | None) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    if isinstance(project.training.get("loss"), dict) and project.training["loss"].get("name", "auto") != "auto":
        found.append(warning("training-setting", "training.loss: ignored, because the graph declares its own "
                             "objective with loss nodes", param="training.loss.name"))
    names = objective_metric_names(plan)
    reported = {"train_loss", *(f"train_{n}" for n in names if n.startswith("loss_")), *(f"val_{n}" for n in names)}
    checks = (("training.early_stopping.monitor", settings.early_stopping.monitor, settings.early_stopping.enabled),
              ("training.schedule.monitor", settings.schedule.monitor, settings.schedule.name == "plateau"))
    for place, monitor, needed in checks:
        if place.endswith("schedule.monitor") and not needed:
            continue
        if monitor not in reported:
            found.append(error("training-setting", f"{place}: '{monitor}' is not measured by this objective; "
                               f"choose one of {', '.join(sorted(reported))}", param=place))
        elif monitor.startswith("val_") and needed and data is not None and data.val is None:
            found.append(error("training-setting", f"{place}: '{monitor}' needs a validation split: set "
                               "dataset.val_fraction above 0, or monitor 'train_loss'", param=place))
    return found


def _field_type(field: str, data: DataSplits) -> TensorType:
    if field == "x":
        return TensorType(tuple(data.input_shape), data.input_dtype)
    dtype = "int64" if data.task == "classification" else "float32"
    return TensorType(tuple(data.target_shape), dtype)


def _field_problems(project: Project, analysis: Analysis, plan: ObjectivePlan, data: DataSplits) -> list[Diagnostic]:
    found = []
    for node_id, field in zip(plan.placeholders, plan.fields):
        node, declared = project.graph.nodes[node_id], analysis.shapes.of(node_id)
        actual = _field_type(field, data)
        if declared is None or (declared.shape, declared.dtype) == (actual.shape, actual.dtype):
            continue
        what = "samples" if field == "x" else "targets"
        found.append(error("data-shape", f"{node.name}: reads field {field}, the dataset's {what}, which are "
                           f"{actual}, but it declares {declared}; set its shape and dtype to match",
                           node_id=node_id))
    return found


def _class_problems(project: Project, analysis: Analysis, head: Head, data: DataSplits) -> list[Diagnostic]:
    """A classifier's logits must cover every class index its target can hold."""
    if head.task != "classification" or data.task != "classification" or not data.num_classes:
        return []
    logits = analysis.shapes.of(head.prediction.node, head.prediction.port)
    if logits is None or not logits.shape:
        return []
    graph, structure = project.graph, analysis.structure
    source = graph.nodes[head.target.node]
    spec = structure.specs[head.target.node]
    loss = graph.nodes[head.loss_id]
    if spec.role == "target" and structure.params[source.id]["field"] == "y":
        classes, origin = data.num_classes, f"the dataset has {data.num_classes} classes"
    elif spec.type == "ClassMap":
        table = structure.params[source.id]["table"]
        if len(table) < data.num_classes:
            return [error("class-map", f"{source.name}.table: has {len(table)} entries but the dataset has "
                          f"{data.num_classes} classes; give one new class per old class", node_id=source.id,
                          param="table")]
        classes, origin = max(table) + 1, f"{source.name} maps to {max(table) + 1} classes"
    else:
        return []
    if logits.shape[-1] == classes:
        return []
    return [error("target-shape", f"{loss.name}.input: gets {logits} logits but {origin}; the head must give "
                  f"one logit per class ({classes})", node_id=head.loss_id, port="input")]
