"""The sanity checks, each declared once: what the CLI runs, the app's Check dialog shows and the docs list.

Add a check by writing its module (a `run(ctx, options) -> CheckResult`) and one row here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from nnstudio.training.sanity import gradcheck, initial_loss, lr_range, overfit
from nnstudio.training.sanity.context import SanityContext
from nnstudio.training.sanity.result import FAIL, CheckOptions, CheckResult


@dataclass(frozen=True)
class SanityCheck:
    name: str  # as the CLI's --only takes it and the JSON names it
    title: str
    run: Callable[[SanityContext, CheckOptions], CheckResult]
    failure: str  # what a failure usually means, in plain words, with what to try


CHECKS: tuple[SanityCheck, ...] = (
    SanityCheck(
        "initial-loss",
        "Initial loss",
        initial_loss.run,
        "An untrained model should be unsure of everything. A start far above the expected value means "
        "the last layer starts too large (over-confident random guesses: scale its init down, or "
        "initialise it to zero); far below it, the targets may leak into the inputs, or the loss does "
        "not fit the targets (probabilities fed to a loss that expects logits, or the reverse).",
    ),
    SanityCheck(
        "overfit-batch",
        "Overfit one batch",
        overfit.run,
        "A model that cannot memorise one batch will not learn the whole set. Usually: too little "
        "capacity (widen or deepen it), a wiring bug (a detached path, every node frozen), a loss "
        "that does not match the targets, or too much regularisation or dropout for so few samples.",
    ),
    SanityCheck(
        "lr-range",
        "LR range test",
        lr_range.run,
        "No learning rate made the loss fall: the model is not learning at all. Check the overfit "
        "test first; a loss that is flat from the smallest rate on points to frozen or disconnected "
        "weights, one that explodes at once to a very large initialisation or no normalisation.",
    ),
    SanityCheck(
        "gradcheck",
        "Gradient check",
        gradcheck.run,
        "A layer's backward pass disagrees with its forward pass: a custom layer or block with a "
        "hand-written gradient is wrong, or an operation is used where it is not differentiable "
        "(a hard threshold, rounding, an in-place edit of a saved tensor).",
    ),
)
BY_NAME = {check.name: check for check in CHECKS}


def run_checks(
    ctx: SanityContext,
    options: CheckOptions | None = None,
    names: Iterable[str] | None = None,
    progress: Callable[[SanityCheck], None] | None = None,
) -> list[CheckResult]:
    """Run the named checks (all by default) in table order; each starts from the initial weights."""
    options = options or CheckOptions()
    wanted = set(names) if names is not None else set(BY_NAME)
    results = []
    for check in CHECKS:
        if check.name not in wanted:
            continue
        if progress is not None:
            progress(check)
        result = dataclasses.replace(check.run(ctx, options), name=check.name, title=check.title)
        if result.status == FAIL:
            result.advice = check.failure
        results.append(result)
    ctx.fresh()
    return results
