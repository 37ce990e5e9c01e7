"""Training a graph that declares its own objective: the step, the metric names and the scoring.

The compiled objective (nnstudio.compile.objective) returns `(total, terms, predictions, targets)`. The step
minimises `total` exactly as the single-loss step minimises `criterion(model(x), y)`, and also keeps each term,
so every term has its own train and validation curve (`train_loss_kl`, `val_loss_recon`, …). Each scored pair
(a "head") gets the metrics of its task; with one head they keep the plain names (`val_accuracy`), with several
they carry the head's name (`val_digit_accuracy`, `val_parity_accuracy`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import nn

from nnstudio.compile.objective import Head, ObjectivePlan
from nnstudio.metrics.scores import TaskScores, metric_names
from nnstudio.training.device import AUTOCAST_DTYPES
from nnstudio.training.step import StepRunner

if TYPE_CHECKING:
    from nnstudio.compile.builder import CompiledModel

EVAL_BATCH = 1024


def term_metric(name: str) -> str:
    """The metric key of one loss term: `loss_<node name>` never collides with `loss` or a task metric."""
    return f"loss_{name}"


def describe_objective(plan: ObjectivePlan) -> str:
    """The objective as a user reads it: 'recon + 0.5·kl'."""
    parts = [t.name if t.weight == 1.0 else f"{t.weight:g}·{t.name}" for t in plan.terms]
    return " + ".join(parts)


def head_prefix(plan: ObjectivePlan, head: Head) -> str:
    return "" if len(plan.heads) == 1 else f"{head.name}_"


def objective_metric_names(plan: ObjectivePlan) -> list[str]:
    """Every metric an epoch of this objective reports (without the train_/val_ prefix)."""
    names = ["loss", *(term_metric(t.name) for t in plan.terms)]
    for head in plan.heads:
        names += [head_prefix(plan, head) + m for m in metric_names(head.task) if m != "loss"]
    return names


def head_classes(compiled: CompiledModel, head: Head) -> int | None:
    """The number of classes a classification head scores: the last dim of its logits."""
    if head.task != "classification":
        return None
    shape = compiled.analysis.shapes.of(head.prediction.node, head.prediction.port)
    return shape.shape[-1] if shape is not None and shape.shape else None


def field_args(plan: ObjectivePlan, x: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor]:
    """The objective's arguments for a batch: each Input and Target reads its dataset field."""
    return [x if field == "x" else y for field in plan.fields]


class ObjectiveStepRunner(StepRunner):
    """The step for graphs with loss nodes. The epoch's loss sum is a vector: [total, term 1, term 2, …]."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.plan: ObjectivePlan = self.trainer.job.compiled.plan  # type: ignore[assignment]
        self.field_is_x = [field == "x" for field in self.plan.fields]
        self._terms: Sequence[torch.Tensor] = ()
        self._pairs: tuple[Sequence[torch.Tensor], Sequence[torch.Tensor]] = ((), ())
        self._term_values: list[float] = []
        first = self.plan.heads[0] if self.plan.heads else None
        self.scored = first if first is not None and first.task in ("classification", "binary") else None

    def _forward(self, xb: torch.Tensor, yb: torch.Tensor):
        objective = self.trainer.forward_module
        args = [xb if is_x else yb for is_x in self.field_is_x]
        if self.autocast_dtype is None:
            total, terms, predictions, targets = objective(*args)
        else:
            with torch.autocast(device_type=xb.device.type, dtype=self.autocast_dtype):
                total, terms, predictions, targets = objective(*args)
        self._terms, self._pairs = terms, (predictions, targets)
        return predictions, total

    def _sums(self, total: torch.Tensor) -> torch.Tensor:
        """What the epoch accumulates: the total and each term, detached, in one small vector."""
        return torch.stack([total.detach().float(), *(t.detach().float() for t in self._terms)])

    def plain_step(self, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        return self._sums(super().plain_step(xb, yb))

    def sampled_step(self, xb, yb, epoch, step, want_loss, want_grads, want_acts):
        loss, value = super().sampled_step(xb, yb, epoch, step, want_loss, want_grads, want_acts)
        return self._sums(loss), value

    def _fetch_loss(self, output, loss: torch.Tensor, yb: torch.Tensor) -> tuple[float, float | None]:
        """The total, every term and (for a classifying first head) the batch accuracy, in one transfer."""
        with torch.no_grad():
            parts = [loss.detach().float(), *(t.detach().float() for t in self._terms)]
            hits = self._hits()
            values = torch.stack([*parts, hits] if hits is not None else parts).tolist()
        self._term_values = values[1:1 + len(self._terms)]
        return values[0], values[-1] if hits is not None else None

    def _hits(self) -> torch.Tensor | None:
        if self.scored is None:
            return None
        output, target = self._pairs[0][0], self._pairs[1][0]
        if self.scored.task == "classification":
            return (output.argmax(-1).reshape(-1) == target.reshape(-1)).float().mean()
        return ((output.reshape(target.shape) > self.scored.threshold) == (target > 0.5)).float().mean()

    def step_extras(self) -> dict:
        return {"terms": dict(zip(self.plan.term_names, self._term_values))}


def epoch_term_metrics(plan: ObjectivePlan, sums: torch.Tensor, batches: int) -> dict[str, float]:
    """train_loss_<term> for every term, from the epoch's summed vector."""
    values = sums.detach().double().cpu().tolist()[1:]
    return {f"train_{term_metric(term.name)}": value / max(1, batches) for term, value in zip(plan.terms, values)}


class ObjectiveScores:
    """Running sums over a split for an objective: the total, each term, and each head's task metrics."""

    def __init__(self, compiled: CompiledModel, confusion: bool = False) -> None:
        self.plan: ObjectivePlan = compiled.plan  # type: ignore[assignment]
        self.heads = [TaskScores(h.task, head_classes(compiled, h), h.threshold, confusion) for h in self.plan.heads]
        self._sums: torch.Tensor | None = None  # [samples, Σ total·n, Σ term·n …] in float64

    def _start(self, device: torch.device) -> torch.Tensor:
        if self._sums is None:
            self._sums = torch.zeros(2 + len(self.plan.terms), dtype=torch.float64, device=device)
        return self._sums

    def update(self, total: torch.Tensor, terms: Sequence[torch.Tensor], predictions: Sequence[torch.Tensor],
               targets: Sequence[torch.Tensor], count: int) -> None:
        sums = self._start(total.device)
        sums[0] += count
        sums[1:] += torch.stack([total.detach().double(), *(t.detach().double() for t in terms)]) * count
        zero = torch.zeros((), device=total.device)
        for scores, prediction, target in zip(self.heads, predictions, targets):
            scores.update(prediction.float(), target, zero)

    def accumulators(self, device: torch.device) -> list[torch.Tensor]:
        """Every running sum as device tensors, so several processes can add theirs together."""
        return [self._start(device), *(t for scores in self.heads for t in scores.accumulators(device))]

    def compute(self) -> dict[str, float]:
        if self._sums is None:
            return {}
        count, *sums = self._sums.cpu().tolist()
        values = [v / max(1.0, count) for v in sums]
        result = {"loss": values[0]}
        result.update({term_metric(t.name): v for t, v in zip(self.plan.terms, values[1:])})
        for head, scores in zip(self.plan.heads, self.heads):
            prefix = head_prefix(self.plan, head)
            result.update({prefix + k: v for k, v in scores.compute().items() if k != "loss"})
        return result

    def confusion_matrix(self) -> list[list[int]] | None:
        return self.heads[0].confusion_matrix() if self.heads else None


@torch.no_grad()
def score_objective(objective: nn.Module, scores: ObjectiveScores, x: torch.Tensor, y: torch.Tensor,
                    batch_size: int = EVAL_BATCH, precision: str = "fp32") -> ObjectiveScores:
    """Run the objective over a split in eval mode (noise and sampling off) and accumulate `scores`."""
    was_training = objective.training
    objective.eval()
    try:
        for start in range(0, x.shape[0], batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            args = field_args(scores.plan, xb, yb)
            if precision == "fp32":
                result = objective(*args)
            else:
                with torch.autocast(device_type=xb.device.type, dtype=AUTOCAST_DTYPES[precision]):
                    result = objective(*args)
            scores.update(*result, count=xb.shape[0])
    finally:
        objective.train(was_training)
    return scores
