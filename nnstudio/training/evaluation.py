"""Scoring a model on a split, in eval mode and without gradients, in large batches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

from nnstudio.metrics.scores import TaskScores
from nnstudio.training.device import AUTOCAST_DTYPES, resolve_device
from nnstudio.training.factories import decision_threshold, make_loss

if TYPE_CHECKING:
    from nnstudio.training.job import TrainingJob

EVAL_BATCH = 1024  # memory, not accuracy, limits this: no gradients are kept


@torch.no_grad()
def score(module: nn.Module, criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], x: torch.Tensor,
          y: torch.Tensor, scores: TaskScores, batch_size: int = EVAL_BATCH, precision: str = "fp32") -> TaskScores:
    """Feed `x` through the model batch by batch and accumulate `scores`; restores train/eval mode."""
    was_training = module.training
    module.eval()
    try:
        for start in range(0, x.shape[0], batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            if precision == "fp32":
                output = module(xb)
            else:
                with torch.autocast(device_type=xb.device.type, dtype=AUTOCAST_DTYPES[precision]):
                    output = module(xb)
                output = output.float()
            scores.update(output, yb, criterion(output, yb))
    finally:
        module.train(was_training)
    return scores


@dataclass
class EvaluationReport:
    split: str
    count: int
    task: str
    metrics: dict[str, float]
    confusion: list[list[int]] | None = None
    class_names: list[str] | None = None

    def to_json(self) -> dict:
        return {"split": self.split, "samples": self.count, "task": self.task, "metrics": self.metrics,
                "confusion_matrix": self.confusion, "class_names": self.class_names}

    def text(self) -> str:
        lines = [f"{self.split} split, {self.count} samples"]
        lines += [f"  {key:<10} {value:.6g}" for key, value in self.metrics.items()]
        if self.confusion is not None:
            lines.append("confusion matrix (rows: true class, columns: predicted class)")
            names = self.class_names or [str(i) for i in range(len(self.confusion))]
            width = max(5, *(len(n) for n in names), *(len(str(c)) for row in self.confusion for c in row))
            lines.append(" " * (width + 2) + " ".join(f"{n:>{width}}" for n in names))
            for name, row in zip(names, self.confusion):
                lines.append(f"{name:>{width}}  " + " ".join(f"{c:>{width}}" for c in row))
        return "\n".join(lines)


def evaluate_job(job: TrainingJob, split: str = "auto") -> EvaluationReport:
    """Score the job's model (with whatever weights it holds) on one split; test first under 'auto'."""
    splits = job.data.splits()
    if split == "auto":
        split = "test" if "test" in splits else "val" if "val" in splits else "train"
    if split not in splits:
        raise ValueError(f"the dataset has no {split} split (it has {', '.join(splits)}); "
                         "set dataset.val_fraction / dataset.test_fraction")
    device = resolve_device(job.settings.device)
    module = job.compiled.module.to(device)
    criterion = make_loss(job.settings.loss, job.task, len(job.ends.output_type.shape), device)
    scores = TaskScores(job.task, job.data.num_classes, decision_threshold(job.settings.loss, job.task),
                        confusion=True)
    chosen = splits[split]
    score(module, criterion, chosen.x.to(device), chosen.y.to(device), scores, precision=job.settings.precision)
    return EvaluationReport(split, len(chosen), job.task, scores.compute(), scores.confusion_matrix(),
                            job.data.class_names if job.task == "classification" else None)
