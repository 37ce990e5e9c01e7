"""Overfit one batch: can the model drive a single batch's loss to (near) zero?

Any model worth training can memorise one batch. Adam at the project's learning rate trains on the same
batch for up to `overfit_steps` steps (200), in train mode as in training. It passes once the loss falls
below TARGET_FRACTION (5 %) of its start, or once a classifier gets every sample of the batch right.
"Zero" is the lowest loss the batch allows: 0 for most losses, but for binary cross-entropy on soft targets
(a VAE's pixels in [0, 1]) the targets' own mean entropy, which no prediction can beat; the 5 % is then
measured on the way from the start down to that floor.

Before training, it looks for the two wiring faults that make the check hopeless, and names them: no
trainable parameter at all (every node frozen), and trainable nodes that get no gradient (a detached path).
"""

from __future__ import annotations

import math

import torch

from nnstudio.metrics.layers import node_parameters
from nnstudio.training.factories import loss_name
from nnstudio.training.sanity.context import SanityContext
from nnstudio.training.sanity.result import FAIL, PASS, CheckOptions, CheckResult

TARGET_FRACTION = 0.05
NAME = "overfit-batch"
BCE_LOSSES = {"bce", "bce_with_logits", "BCELoss", "BCEWithLogitsLoss"}


def binary_entropy(target: torch.Tensor) -> float:
    """The least BCE any prediction can score on soft targets (pixels in [0, 1]): their mean entropy."""
    y = target.detach().double().clamp(0, 1)
    return float(-(torch.xlogy(y, y) + torch.xlogy(1 - y, 1 - y)).mean())


def loss_floor(ctx: SanityContext, yb: torch.Tensor, measured) -> float:
    """The lowest loss the batch allows: 0, except for BCE on soft targets, where it is their entropy (summed
    with each term's weight for objective graphs). "Near zero" is measured from this floor."""
    if ctx.objective is None:
        return binary_entropy(yb) if loss_name(ctx.settings.loss, ctx.task) in BCE_LOSSES else 0.0
    heads = {head.loss_id: index for index, head in enumerate(ctx.objective.heads)}
    floor = 0.0
    for term in ctx.objective.terms:
        index = heads.get(term.node_id)
        if term.type in BCE_LOSSES and index is not None:
            floor += term.weight * binary_entropy(measured.targets[index])
    return floor


def _no_gradient(ctx: SanityContext) -> list[str]:
    """Names of the nodes whose trainable parameters got no gradient from the last backward pass."""
    groups = node_parameters(ctx.job.compiled)
    return [ctx.names.get(node, node) for node, params in groups.items() if all(p.grad is None for p in params)]


def run(ctx: SanityContext, options: CheckOptions) -> CheckResult:
    ctx.fresh()
    params = ctx.trainable()
    if not params:
        return CheckResult(
            NAME,
            "",
            FAIL,
            "no trainable parameters: every node is frozen, so nothing can learn",
            {"trainable_parameters": 0},
        )
    lr = ctx.settings.optimizer.lr or 1e-3
    optimizer = torch.optim.Adam(params, lr=lr)
    xb, yb = ctx.batch(ctx.settings.batch_size)
    start = loss = accuracy = floor = None
    details: list[str] = []
    steps = 0
    for steps in range(1, options.overfit_steps + 1):
        optimizer.zero_grad(set_to_none=True)
        measured = ctx.measure(xb, yb)
        loss = float(measured.loss.detach())
        accuracy = ctx.accuracy(measured, yb)
        if start is None:
            start, floor = loss, loss_floor(ctx, yb, measured)
            first_terms = [float(t.detach()) for t in measured.terms]
        if not math.isfinite(loss) or _reached(loss, start, floor, accuracy):
            break
        measured.loss.backward()
        if steps == 1:
            cut = _no_gradient(ctx)
            if cut:
                details.append(f"no gradient reaches {', '.join(cut)}: a detached path")
        optimizer.step()
    if ctx.objective is not None:  # which term would not come down says more than the total
        ends = (
            f"{n} {a:.4g} -> {float(b.detach()):.4g}"
            for n, a, b in zip(ctx.objective.term_names, first_terms, measured.terms)
        )
        details.append("terms: " + ", ".join(ends))
    figures = {
        "start": start,
        "end": loss,
        "floor": floor,
        "steps": steps,
        "lr": lr,
        "batch_size": int(xb.shape[0]),
        "accuracy": accuracy,
    }
    shown = f", accuracy {accuracy:.3f}" if accuracy is not None else ""
    ratio = (loss - floor) / (start - floor) if start != floor else math.nan
    above = f" above the floor {floor:.4g}" if floor else ""
    line = (
        f"loss {start:.4g} -> {loss:.4g} ({ratio:.1%} of its start{above}){shown} after {steps} step(s) "
        f"of Adam lr {lr:g} on {int(xb.shape[0])} samples"
    )
    status = PASS if math.isfinite(loss) and _reached(loss, start, floor, accuracy) else FAIL
    return CheckResult(NAME, "", status, line, figures, details)


def _reached(loss: float, start: float, floor: float, accuracy: float | None) -> bool:
    """Near zero: within TARGET_FRACTION of the way from the floor to the start; or every sample right."""
    return loss - floor <= TARGET_FRACTION * abs(start - floor) or (accuracy is not None and accuracy >= 1.0)
