"""LR range test (Smith 2015, "Cyclical learning rates"; fast.ai's lr_find).

The learning rate rises exponentially from `lr_start` (1e-7) to `lr_end` (10) over `lr_steps` (100) steps
of the project's own optimizer, one fresh training batch per step. The run stops early once the smoothed
loss exceeds EXPLODE_FACTOR (4) times the best smoothed loss so far, or turns non-finite: past that point
every larger rate diverges too.

Smoothing: stopping uses a running (exponential, β = STOP_BETA) average, which only looks back; the curve
that is plotted and searched is smoothed with a centred moving average of CURVE_WINDOW points, which has
no lag, so the suggestion is not shifted towards larger rates.

Suggestion: the rate at the smoothed curve's minimum divided by 10, the minimum being searched only before
the curve first turns up (above its start and above TURN_FACTOR (1.25) × its best so far). The
steepest-descent point (fast.ai's "steep") is reported too, but with ~100 noisy steps its derivative
jumps from one batch to the next; the minimum is a robust landmark, and a tenth of it sits safely inside
the range where the loss still falls fast (Smith's and fast.ai's rule of thumb). The test passes when the
loss fell by at least MIN_DROP (10 %) from its start somewhere on the curve; otherwise no rate helped and
it fails.
"""

from __future__ import annotations

import dataclasses
import math

from nnstudio.training.factories import make_optimizer
from nnstudio.training.sanity.context import SanityContext
from nnstudio.training.sanity.result import FAIL, PASS, CheckOptions, CheckResult

EXPLODE_FACTOR = 4.0
STOP_BETA = 0.7
CURVE_WINDOW = 5
MIN_DROP = 0.10
TURN_FACTOR = 1.25
NAME = "lr-range"


def rates(start: float, end: float, steps: int) -> list[float]:
    """The exponentially rising schedule, `steps` rates from `start` to `end`."""
    if steps == 1:
        return [start]
    return [start * (end / start) ** (i / (steps - 1)) for i in range(steps)]


def centred(values: list[float], window: int = CURVE_WINDOW) -> list[float]:
    """A centred moving average; the ends average over the points that exist."""
    half = window // 2
    return [
        sum(values[max(0, i - half) : i + half + 1]) / len(values[max(0, i - half) : i + half + 1])
        for i in range(len(values))
    ]


def record(ctx: SanityContext, options: CheckOptions) -> tuple[list[float], list[float], str]:
    """(rates, raw losses, why it stopped) for one sweep from the initial weights."""
    ctx.fresh()
    schedule = rates(options.lr_start, options.lr_end, options.lr_steps)
    settings = ctx.settings.optimizer
    optimizer = make_optimizer(ctx.trainable(), dataclasses.replace(settings, lr=schedule[0]))
    size = ctx.settings.batch_size
    tried: list[float] = []
    losses: list[float] = []
    running = best = None
    for step, lr in enumerate(schedule):
        for group in optimizer.param_groups:
            group["lr"] = lr
        xb, yb = ctx.batch(size, offset=step * size)
        optimizer.zero_grad(set_to_none=True)
        loss = ctx.measure(xb, yb).loss
        value = float(loss.detach())
        if not math.isfinite(value):
            return tried, losses, f"the loss became {value} at lr {lr:.3g}"
        tried.append(lr)
        losses.append(value)
        running = value if running is None else STOP_BETA * running + (1 - STOP_BETA) * value
        best = running if best is None else min(best, running)
        if step > 0 and running > EXPLODE_FACTOR * best:
            return tried, losses, f"the loss exploded (> {EXPLODE_FACTOR:g}× its best) at lr {lr:.3g}"
        loss.backward()
        optimizer.step()
    return tried, losses, f"reached lr {schedule[-1]:g}"


def turned_up(smooth: list[float]) -> int:
    """How many points precede the first turn upwards: the smoothed loss above both its start and
    TURN_FACTOR × its best so far. A second dip after such a spike is a lucky recovery at rates that
    already destabilise training, not a rate to suggest."""
    best = smooth[0]
    for i, value in enumerate(smooth):
        if value > smooth[0] and value > TURN_FACTOR * best:
            return max(i, 1)
        best = min(best, value)
    return len(smooth)


def _steepest(tried: list[float], smooth: list[float], end: int) -> float | None:
    """The rate where the smoothed loss falls fastest against log(lr), up to the minimum."""
    slopes = [(smooth[i + 1] - smooth[i]) / (math.log(tried[i + 1]) - math.log(tried[i])) for i in range(end)]
    if not slopes:
        return None
    i = min(range(len(slopes)), key=slopes.__getitem__)
    return tried[i] if slopes[i] < 0 else None


def run(ctx: SanityContext, options: CheckOptions) -> CheckResult:
    if not ctx.trainable():
        return CheckResult(NAME, "", FAIL, "no trainable parameters: every node is frozen")
    tried, losses, stopped = record(ctx, options)
    ctx.fresh()
    if len(losses) < 2:
        return CheckResult(
            NAME,
            "",
            FAIL,
            f"too few steps to draw a curve: {stopped}",
            curve={"lr": tried, "loss": losses, "smoothed": losses},
        )
    smooth = centred(losses)
    low = min(range(turned_up(smooth)), key=smooth.__getitem__)
    suggestion = tried[low] / 10
    steepest = _steepest(tried, smooth, low)
    drop = 1 - smooth[low] / smooth[0] if smooth[0] else 0.0
    figures = {
        "suggested_lr": suggestion,
        "min_loss_lr": tried[low],
        "min_loss": smooth[low],
        "steepest_lr": steepest,
        "start_loss": smooth[0],
        "steps": len(losses),
        "stopped": stopped,
        "rule": "min-loss / 10",
    }
    curve = {"lr": tried, "loss": losses, "smoothed": smooth}
    steep = f", steepest descent at {steepest:.3g}" if steepest is not None else ""
    if drop < MIN_DROP:
        line = (
            f"no learning rate from {options.lr_start:g} to {tried[-1]:.3g} lowered the loss by "
            f"{MIN_DROP:.0%} ({stopped})"
        )
        return CheckResult(NAME, "", FAIL, line, figures, curve=curve)
    line = (
        f"suggested lr {suggestion:.3g} (the minimum's {tried[low]:.3g} / 10; loss {smooth[0]:.4g} -> "
        f"{smooth[low]:.4g}{steep}); {len(losses)} steps, {stopped}"
    )
    return CheckResult(NAME, "", PASS, line, figures, curve=curve)
