"""Scoring a model on a split, in eval mode and without gradients, in large batches.

A classifier (or binary task) also gets the per-class report of metrics/classification_report.py (per-class
precision, recall, F1, ROC and PR curves, top-k, calibration), computed by scikit-learn from the kept
probabilities; without scikit-learn the report is left out with a note saying how to install it.

A graph that declares its own objective is scored by that objective (training/objective.py): the total, every
loss term and each head's metrics, under the same names the training curves use (`loss_kl`, `digit_accuracy`).
Its confusion matrix is that of the first classification head. Each classifying head with one decision per
sample (a class, or yes/no) gets its own per-class report; a per-pixel BCE head of a reconstruction has none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
from torch import nn

from nnstudio.metrics.classification_report import (
    MAX_PROBABILITIES,
    ClassificationMetrics,
    MissingScikitLearn,
    classification_report,
)
from nnstudio.metrics.scores import CLASSIFYING, TaskScores, metric_names
from nnstudio.training.data.streaming_source import on_device, split_batches
from nnstudio.training.device import AUTOCAST_DTYPES, resolve_device
from nnstudio.training.factories import decision_threshold, make_loss
from nnstudio.training.objective import (
    ObjectiveScores,
    describe_objective,
    head_classes,
    head_prefix,
    score_objective,
    term_metric,
)

if TYPE_CHECKING:
    from nnstudio.training.job import TrainingJob

EVAL_BATCH = 1024  # memory, not accuracy, limits this: no gradients are kept


@torch.no_grad()
def score(module: nn.Module, criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], x: torch.Tensor,
          y: torch.Tensor, scores: TaskScores, batch_size: int = EVAL_BATCH, precision: str = "fp32",
          keep: list[torch.Tensor] | None = None) -> TaskScores:
    """Feed `x` through the model batch by batch and accumulate `scores`; restores train/eval mode.
    `keep` collects every batch's outputs on the CPU (the per-class report needs each sample's)."""
    was_training = module.training
    module.eval()
    try:
        for xb, yb in split_batches(x, y, batch_size):  # slices, or a streamed split's batches (data/)
            if precision == "fp32":
                output = module(xb)
            else:
                with torch.autocast(device_type=xb.device.type, dtype=AUTOCAST_DTYPES[precision]):
                    output = module(xb)
                output = output.float()
            scores.update(output, yb, criterion(output, yb))
            if keep is not None:
                keep.append(output.detach().float().cpu())
    finally:
        module.train(was_training)
    return scores


@dataclass
class HeadSummary:
    """One scored pair of an objective graph, as a report names it."""

    name: str
    task: str
    metrics: dict[str, float]
    classification: ClassificationMetrics | None = None  # a classifying head's per-class report


@dataclass
class EvaluationReport:
    split: str
    count: int
    task: str  # the dataset's task, or "objective" for a graph with loss nodes
    metrics: dict[str, float]
    confusion: list[list[int]] | None = None
    class_names: list[str] | None = None
    objective: str | None = None  # "rec + 0.01·kl" for a graph with loss nodes
    terms: dict[str, float] = field(default_factory=dict)  # loss node name -> its (unweighted) value
    heads: list[HeadSummary] = field(default_factory=list)
    confusion_head: str | None = None  # the head the confusion matrix belongs to
    classification: ClassificationMetrics | None = None  # per-class metrics (objective: the first head's report)
    notes: list[str] = field(default_factory=list)  # what was left out, and why

    def to_json(self) -> dict:
        data = {"split": self.split, "samples": self.count, "task": self.task, "metrics": self.metrics,
                "confusion_matrix": self.confusion, "class_names": self.class_names}
        if self.objective is not None:
            data.update({"objective": self.objective, "terms": self.terms, "confusion_head": self.confusion_head,
                         "heads": [_head_json(h) for h in self.heads]})
        elif self.classification is not None:  # an objective's reports are its heads'
            data["classification"] = self.classification.to_json()
        if self.notes:
            data["notes"] = self.notes
        return data

    def text(self) -> str:
        lines = [f"{self.split} split, {self.count} samples"]
        if self.objective is None:
            lines += [f"  {key:<10} {value:.6g}" for key, value in self.metrics.items()]
        else:
            lines += self._objective_lines()
        if self.confusion is not None:
            whose = f" of head '{self.confusion_head}'" if len(self.heads) > 1 and self.confusion_head else ""
            lines.append(f"confusion matrix{whose} (rows: true class, columns: predicted class)")
            names = self.class_names or [str(i) for i in range(len(self.confusion))]
            width = max(5, *(len(n) for n in names), *(len(str(c)) for row in self.confusion for c in row))
            lines.append(" " * (width + 2) + " ".join(f"{n:>{width}}" for n in names))
            for name, row in zip(names, self.confusion):
                lines.append(f"{name:>{width}}  " + " ".join(f"{c:>{width}}" for c in row))
        if self.objective is None and self.classification is not None:
            lines.append(self.classification.text())
        for head in self.heads if self.objective is not None else ():
            if head.classification is not None:
                lines += [f"head '{head.name}':", head.classification.text()]
        lines += self.notes
        return "\n".join(lines)

    def _objective_lines(self) -> list[str]:
        rows = [(f"loss ({self.objective})", self.metrics.get("loss", float("nan")))]
        rows += [(f"  {name}", value) for name, value in self.terms.items()]
        for head in self.heads:
            rows += [(f"{head.name} {metric}", value) for metric, value in head.metrics.items()]
        width = max(10, *(len(label) for label, _ in rows))
        return [f"  {label:<{width}} {value:.6g}" for label, value in rows]


def _head_json(head: HeadSummary) -> dict:
    data = {"name": head.name, "task": head.task, "metrics": head.metrics}
    if head.classification is not None:
        data["classification"] = head.classification.to_json()
    return data


def choose_split(job: TrainingJob, split: str = "auto") -> str:
    """The split to score: test first under 'auto', then validation, then train."""
    splits = job.data.splits()
    if split == "auto":
        split = "test" if "test" in splits else "val" if "val" in splits else "train"
    if split not in splits:
        raise ValueError(f"the dataset has no {split} split (it has {', '.join(splits)}); "
                         "set dataset.val_fraction / dataset.test_fraction")
    return split


def evaluate_job(job: TrainingJob, split: str = "auto") -> EvaluationReport:
    """Score the job's model (with whatever weights it holds) on one split; test first under 'auto'."""
    from nnstudio.training.recipes.registry import RECIPES

    custom = RECIPES[job.recipe].evaluator_function()
    if custom is not None:  # a recipe that measures its own way (few-shot: episodes of the test classes)
        return custom(job, split)
    split = choose_split(job, split)
    if job.compiled.objective is not None:
        return _evaluate_objective(job, split)
    device = resolve_device(job.settings.device)
    module = job.compiled.module.to(device)
    criterion = make_loss(job.settings.loss, job.task, len(job.ends.output_type.shape), device)
    scores = TaskScores(job.task, job.data.num_classes, decision_threshold(job.settings.loss, job.task),
                        confusion=True)
    chosen = job.data.splits()[split]
    keep: list[torch.Tensor] | None = [] if job.task in CLASSIFYING else None
    score(module, criterion, *on_device(chosen, device), scores, precision=job.settings.precision, keep=keep)
    report = EvaluationReport(split, len(chosen), job.task, scores.compute(), scores.confusion_matrix(),
                              job.data.class_names if job.task == "classification" else None)
    if keep:
        probabilities = class_probabilities(torch.cat(keep), job.task, decision_threshold(job.settings.loss, job.task))
        add_classification(report, probabilities, chosen.y.numpy(), job.data.class_names)
    return report


def class_probabilities(outputs: torch.Tensor, task: str, threshold: float) -> torch.Tensor:
    """[..., classes] probabilities: a softmax of a classifier's logits; [1 - p, p] for a binary output, whose
    logits (threshold 0) go through a sigmoid and whose probabilities are clamped."""
    if task == "classification":
        return torch.softmax(outputs, dim=-1)
    positive = torch.sigmoid(outputs) if threshold == 0.0 else outputs.clamp(0, 1)
    positive = positive.reshape(-1)
    return torch.stack([1 - positive, positive], dim=1)


def add_classification(report: EvaluationReport, probabilities: torch.Tensor, truth, class_names) -> None:
    """Attach the per-class report, or a note saying why it is missing (no scikit-learn, too many values)."""
    report.classification, note = per_class(probabilities, truth, class_names, report.task)
    report.notes += [note] if note else []


def per_class(probabilities: torch.Tensor, truth, class_names, task: str) -> tuple[ClassificationMetrics | None,
                                                                                     str | None]:
    """The per-class report of kept probabilities, or None and the note that says why there is none."""
    if probabilities.numel() > MAX_PROBABILITIES:
        return None, (f"per-class metrics left out: {probabilities.numel():,} probabilities exceed "
                      f"{MAX_PROBABILITIES:,}")
    labels = truth.reshape(-1)
    if probabilities.shape[-1] == 2 and task == "binary":
        labels = (labels > 0.5).astype("int64")
        class_names = class_names if class_names and len(class_names) == 2 else ["negative", "positive"]
    try:
        return classification_report(probabilities.numpy(), labels, class_names), None
    except MissingScikitLearn as exc:
        return None, str(exc)
    except ValueError as exc:  # labels that do not match the outputs (one per sequence, several outputs)
        return None, f"per-class metrics left out: {exc}"


def _evaluate_objective(job: TrainingJob, split: str) -> EvaluationReport:
    compiled, plan = job.compiled, job.compiled.plan
    device = resolve_device(job.settings.device)
    objective = compiled.objective.to(device)
    scores = _KeepingScores(compiled, [i for i, h in enumerate(plan.heads) if h.task in CLASSIFYING])
    chosen = job.data.splits()[split]
    score_objective(objective, scores, chosen.x.to(device), chosen.y.to(device), precision=job.settings.precision)
    metrics = scores.compute()
    terms = {t.name: metrics.get(term_metric(t.name), float("nan")) for t in plan.terms}
    heads = []
    for head in plan.heads:
        prefix = head_prefix(plan, head)
        wanted = [m for m in metric_names(head.task) if m != "loss" and prefix + m in metrics]
        heads.append(HeadSummary(head.name, head.task, {m: metrics[prefix + m] for m in wanted}))
    report = EvaluationReport(split, len(chosen), "objective", metrics, objective=describe_objective(plan),
                              terms=terms, heads=heads)
    _add_head_reports(job, report, scores)
    index = first_head(plan, ("classification",))
    if index is not None:
        report.confusion = scores.heads[index].confusion_matrix()
        report.confusion_head = plan.heads[index].name
        report.class_names = head_class_names(job, index, len(report.confusion or []))
    return report


class _KeepingScores(ObjectiveScores):
    """ObjectiveScores that also keep, on the CPU, the outputs and targets of the classifying heads that decide
    once per sample, for their per-class reports; a head found to decide per pixel or per step is let go."""

    def __init__(self, compiled, heads: list[int]) -> None:
        super().__init__(compiled, confusion=True)
        self.kept: dict[int, tuple[list[torch.Tensor], list[torch.Tensor]]] = {i: ([], []) for i in heads}

    def update(self, total, terms, predictions, targets, count: int) -> None:
        super().update(total, terms, predictions, targets, count)
        for i in list(self.kept):
            prediction, target = predictions[i], targets[i]
            one = target.numel() == count and (prediction.ndim == 2 if self.plan.heads[i].task == "classification"
                                               else prediction.numel() == count)
            if not one:
                del self.kept[i]
                continue
            self.kept[i][0].append(prediction.detach().float().cpu())
            self.kept[i][1].append(target.detach().cpu())


def _add_head_reports(job: TrainingJob, report: EvaluationReport, scores: _KeepingScores) -> None:
    """Each kept head's per-class report; the first one is also the report's own (the app's Metrics page)."""
    plan = job.compiled.plan
    for i, (outputs, targets) in scores.kept.items():
        if not outputs:
            continue
        head = plan.heads[i]
        probabilities = class_probabilities(torch.cat(outputs), head.task, head.threshold)
        classification, note = per_class(probabilities, torch.cat(targets).numpy(), head_class_names(job, i),
                                         head.task)
        report.heads[i].classification = classification
        report.notes += [f"head '{head.name}': {note}"] if note else []
        if report.classification is None:
            report.classification = classification


def first_head(plan, tasks: tuple[str, ...] = CLASSIFYING) -> int | None:
    """The index of the first head of one of these tasks: the classifier a confusion matrix describes."""
    return next((i for i, h in enumerate(plan.heads) if h.task in tasks), None)


def head_class_names(job: TrainingJob, index: int, classes: int | None = None) -> list[str] | None:
    """The dataset's class names for a head that scores the dataset's own labels (a Target on field y);
    a relabelled target (a ClassMap: digit → parity) has classes of its own, shown as indices."""
    head = job.compiled.plan.heads[index]
    structure = job.compiled.analysis.structure
    source = head.target.node
    names = job.data.class_names
    if structure.specs[source].role != "target" or structure.params[source].get("field") != "y" or not names:
        return None
    classes = classes if classes is not None else head_classes(job.compiled, head)
    return list(names) if classes == len(names) else None
