"""Initial loss: before any training, is the loss what an untrained model should score?

A freshly initialised network predicts roughly "nothing in particular": uniform class probabilities, or
outputs near zero. That fixes the loss it should start at (Karpathy's "verify loss @ init"):

- cross-entropy / NLL over C classes: ln C (uniform probabilities score ln C whatever the labels);
- binary cross-entropy (with or without logits): ln 2 (p = 0.5 on every element);
- MSE: mean(y²), the cost of predicting zero. The report also gives the targets' variance, which is what
  predicting their mean would cost; a starting loss far above both means the outputs start far too large.

Tolerance: the loss passes within RELATIVE_TOLERANCE (25 %) of ln C or ln 2, and within a factor
MSE_FACTOR (2) either way of mean(y²). A larger start usually means the last layer's weights are too
large (over-confident random predictions); a much smaller one means the targets leak into the inputs or the
loss does not match the targets. Other losses (L1, Huber, a KL term) have no such expectation: their value
is reported only. Objective graphs are checked term by term, where each term's loss type allows.
"""

from __future__ import annotations

import math

import torch

from nnstudio.training.factories import loss_name
from nnstudio.training.sanity.context import SanityContext
from nnstudio.training.sanity.result import FAIL, INFO, PASS, CheckOptions, CheckResult

RELATIVE_TOLERANCE = 0.25
MSE_FACTOR = 2.0
SAMPLES = 512  # the loss is averaged over up to this many training samples
CLASS_LOSSES = {"cross_entropy", "nll", "CrossEntropyLoss", "NLLLoss"}
BINARY_LOSSES = {"bce", "bce_with_logits", "BCELoss", "BCEWithLogitsLoss"}
MSE_LOSSES = {"mse", "MSELoss"}


def expectation(loss: str, prediction: torch.Tensor, target: torch.Tensor) -> tuple[float, str, str] | None:
    """(expected value, how it is written, tolerance kind) for a loss type, or None when none is known."""
    if loss in CLASS_LOSSES:
        classes = int(prediction.shape[-1])
        return math.log(classes), f"ln {classes}", "relative"
    if loss in BINARY_LOSSES:
        return math.log(2.0), "ln 2", "relative"
    if loss in MSE_LOSSES:
        target = target.detach().double()
        return float(target.square().mean()), f"mean(y²) (var(y) {float(target.var()):.4g})", "factor"
    return None


def within(value: float, expected: float, kind: str) -> bool:
    if not math.isfinite(value):
        return False
    if kind == "relative":
        return abs(value - expected) <= RELATIVE_TOLERANCE * expected
    if expected <= 0:
        return value <= 1e-8
    return expected / MSE_FACTOR <= value <= expected * MSE_FACTOR


def _tolerance(kind: str) -> str:
    return f"within {RELATIVE_TOLERANCE:.0%}" if kind == "relative" else f"within ×{MSE_FACTOR:g}"


def _judge(label: str, value: float, loss: str, prediction, target) -> tuple[str, str, dict]:
    """The status, the line and the figures for one loss (the whole loss, or one term)."""
    known = expectation(loss, prediction, target)
    if known is None:
        return INFO, f"{label} {value:.4g} ({loss}: no expected value, reported only)", {"value": value}
    expected, written, kind = known
    ok = within(value, expected, kind)
    name, _, note = written.partition(" (")
    note = f", {note[:-1]}" if note else ""
    line = f"{label} {value:.4g}, expected {name} = {expected:.4g} ({_tolerance(kind)}{note})"
    return (PASS if ok else FAIL), line, {"value": value, "expected": expected}


def run(ctx: SanityContext, options: CheckOptions) -> CheckResult:
    ctx.fresh()
    size = min(SAMPLES, ctx.trainer.x.shape[0])
    xb, yb = ctx.batch(size)
    with torch.no_grad():
        measured = ctx.measure(xb, yb)
    total = float(measured.loss.detach().double())
    if ctx.objective is None:
        name = loss_name(ctx.settings.loss, ctx.task)
        status, line, figures = _judge("loss", total, name, measured.output, yb)
        return CheckResult("initial-loss", "", status, line, figures)
    return _objective(ctx, measured, total)


def _objective(ctx: SanityContext, measured, total: float) -> CheckResult:
    """Per term: its loss node's type decides the expectation; terms without one are reported only."""
    plan = ctx.objective
    heads = {head.loss_id: index for index, head in enumerate(plan.heads)}
    statuses, details, figures = [], [], {"total": total, "terms": {}}
    for term, value in zip(plan.terms, measured.terms):
        index = heads.get(term.node_id)
        prediction = measured.predictions[index] if index is not None else None
        target = measured.targets[index] if index is not None else None
        loss = term.type if prediction is not None else f"{term.type} (no target)"
        status, line, numbers = _judge(term.name, float(value.detach().double()), loss, prediction, target)
        statuses.append(status)
        details.append(f"{status.upper():<5} {line}")
        figures["terms"][term.name] = numbers
    status = FAIL if FAIL in statuses else PASS if PASS in statuses else INFO
    failed = [d.split(maxsplit=1)[1] for d in details if d.startswith("FAIL")]
    summary = f"total {total:.4g}; " + (
        "; ".join(failed) if failed else f"{statuses.count(PASS)} of {len(statuses)} term(s) as expected"
    )
    return CheckResult("initial-loss", "", status, summary, figures, details)
