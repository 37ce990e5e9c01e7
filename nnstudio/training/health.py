"""Is the training healthy? Rules that read a run's losses and gradient norms and say what went wrong.

Each rule is declared once in RULES (what it measures, its threshold, its advice); docs/health.md lists the same
table and a test keeps the two in step. Divergence is an error: it stops the run through the same Diverged path
as a non-finite loss, before the diverged weights reach the `last` checkpoint. The other rules are findings: a
line in the history and the run's result, and an optional stop (`training.health.stop_on_findings`).

The rules only read numbers the engine samples anyway (sampled step losses, sampled gradient norms, epoch
metrics), plus the loss of step 1, the one value every later loss is compared with.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

from nnstudio.training.early import Monitor
from nnstudio.training.settings import EarlyStoppingSettings, HealthSettings


@dataclass(frozen=True)
class Rule:
    name: str
    what: str  # what the rule measures
    threshold: str  # when it fires, naming the settings that tune it
    advice: str  # what to try, appended to every message of the rule (no final full stop)


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule(
            "divergence",
            "the sampled training loss against its early values: the median of the first `baseline_samples` "
            "sampled losses (step 1, before any update, is always one of them; a loss already above the limit is "
            "not)",
            "above `divergence_factor` (1000) × that median for `divergence_patience` (3) samples in a row; or an "
            "epoch's mean loss above that limit while the latest sample is above it too",
            "Lower the learning rate (e.g. by 10×), check the input scaling (standardise the features), or turn "
            "on gradient clipping (training.regularization.clip: norm)",
        ),
        Rule(
            "plateau",
            "the epoch training loss over the last `stall_epochs` epochs",
            "its largest and smallest values differ by less than `plateau_tolerance` (0.1 %) of their mean, over "
            "`stall_epochs` (10) epochs",
            "If the loss is still high, raise the learning rate, check that the labels match the inputs, or give "
            "the model more capacity; if it is low, the run has converged: fewer epochs or early stopping save "
            "time",
        ),
        Rule(
            "vanishing_gradients",
            "the global gradient norm (every layer's norm is at most this) of each sampled step",
            "every sample below `vanishing_gradient_norm` (1e-7) for `stall_epochs` (10) epochs in a row",
            "The weights have stopped changing: raise the learning rate, use ReLU-like activations instead of "
            "saturating sigmoid or tanh, He or Xavier initialisation, normalisation layers or residual links",
        ),
        Rule(
            "overfitting",
            "the validation loss against the training loss, epoch by epoch",
            "the validation loss has not improved for `overfit_epochs` (5) epochs and is above its best, while "
            "the training loss is below its value at that best epoch",
            "The model is memorising the training set: add regularisation (dropout, weight decay), augment or "
            "add data, use a smaller model, or turn on early stopping to keep the best epoch",
        ),
    )
}


@dataclass(frozen=True)
class Finding:
    rule: str
    epoch: int
    step: int
    message: str  # what was seen, with figures; the rule's advice follows it in text()

    def text(self) -> str:
        return f"{self.message}. {RULES[self.rule].advice}."

    def to_json(self) -> dict[str, Any]:
        return {"kind": "finding", "rule": self.rule, "epoch": self.epoch, "step": self.step, "message": self.text()}


class DivergenceWatch:
    """The divergence rule. `loss` and `epoch_loss` return what happened when the run has diverged, else None."""

    def __init__(self, settings: HealthSettings) -> None:
        self.factor = settings.divergence_factor
        self.patience = settings.divergence_patience
        self.wanted = settings.baseline_samples
        self.early: list[float] = []
        self.streak = 0
        self.last_above = False

    @property
    def enabled(self) -> bool:
        return self.factor > 0

    @property
    def limit(self) -> float | None:
        """factor × the median of the early losses; None while there is none or it is 0 (nothing to scale)."""
        if not self.early:
            return None
        base = abs(statistics.median(self.early))
        return self.factor * base if base > 0 else None

    def _baseline(self) -> str:
        """How the limit was set, in words: "1000× 0.693, the median of the first 5 sampled losses"."""
        base = abs(statistics.median(self.early))
        n = len(self.early)
        source = "the first sampled loss" if n == 1 else f"the median of the first {n} sampled losses"
        return f"{self.factor:g}× {base:.3g}, {source}"

    def seed(self, losses: list[float]) -> None:
        """Take the early losses of the run a checkpoint continues (its history's step records)."""
        for value in losses:
            if len(self.early) < self.wanted and math.isfinite(value):
                self.early.append(value)

    def loss(self, value: float) -> str | None:
        """One sampled loss. A loss already above the limit is no early value: it joins the streak, not the
        baseline, so a run that explodes within its first samples cannot lift its own limit."""
        if not self.enabled or not math.isfinite(value):
            return None
        limit = self.limit
        self.last_above = limit is not None and value > limit
        if not self.last_above and len(self.early) < self.wanted:
            self.early.append(value)
        self.streak = self.streak + 1 if self.last_above else 0
        if self.streak >= self.patience:
            return (
                f"the sampled loss has been above {limit:.3g} ({self._baseline()}) for {self.streak} samples in a "
                f"row, now {value:.3g}"
            )
        return None

    def epoch_loss(self, epoch: int, value: float) -> str | None:
        limit = self.limit
        if not self.enabled or limit is None or not self.last_above or not value > limit:
            return None
        return f"the mean training loss of epoch {epoch} is {value:.3g}, above {limit:.3g} ({self._baseline()})"


class StallWatch:
    """The finding rules, read once per epoch. Each rule reports once per run."""

    def __init__(self, settings: HealthSettings) -> None:
        self.settings = settings
        self.train_losses: list[float] = []
        self.quiet_epochs = 0  # epochs in a row whose every sampled gradient norm was below the threshold
        self.epoch_norms: list[float] = []
        self.val = Monitor("val_loss", EarlyStoppingSettings(enabled=True, patience=settings.overfit_epochs))
        self.train_at_best_val: float | None = None
        self.reported: set[str] = set()

    def grad_norm(self, value: float) -> None:
        self.epoch_norms.append(value)

    def epoch(self, epoch: int, step: int, metrics: dict[str, float]) -> list[Finding]:
        """The findings this epoch's metrics newly raise."""
        messages = {
            "plateau": self._plateau(metrics.get("train_loss")),
            "vanishing_gradients": self._vanishing(),
            "overfitting": self._overfitting(epoch, metrics),
        }
        found = [
            Finding(rule, epoch, step, message)
            for rule, message in messages.items()
            if message is not None and rule not in self.reported
        ]
        self.reported.update(f.rule for f in found)
        return found

    def _plateau(self, loss: float | None) -> str | None:
        if loss is None or not math.isfinite(loss):
            return None
        self.train_losses.append(loss)
        n = self.settings.stall_epochs
        window = self.train_losses[-n:]
        if len(window) < n:
            return None
        mean = sum(window) / n
        spread = max(window) - min(window)
        if mean == 0 or spread / abs(mean) >= self.settings.plateau_tolerance:
            return None
        return f"the training loss has stayed at {mean:.4g} (within {spread / abs(mean):.2%}) for the last {n} epochs"

    def _vanishing(self) -> str | None:
        norms, self.epoch_norms = self.epoch_norms, []
        if not norms:
            return None  # no gradient sample this epoch: neither evidence for nor against
        limit = self.settings.vanishing_gradient_norm
        self.quiet_epochs = self.quiet_epochs + 1 if max(norms) < limit else 0
        if self.quiet_epochs < self.settings.stall_epochs:
            return None
        return (
            f"every sampled gradient norm has been below {limit:g} for {self.quiet_epochs} epochs "
            f"(largest in the last epoch {max(norms):.3g})"
        )

    def _overfitting(self, epoch: int, metrics: dict[str, float]) -> str | None:
        val, train = metrics.get("val_loss"), metrics.get("train_loss")
        if val is None or train is None:
            return None
        if self.val.update(epoch, metrics):
            self.train_at_best_val = train
            return None
        best = self.val.best
        if (
            not self.val.should_stop
            or best is None
            or self.train_at_best_val is None
            or not val > best
            or not train < self.train_at_best_val
        ):
            return None
        return (
            f"the validation loss has not improved for {self.val.bad_epochs} epochs (best {best:.4g} at "
            f"epoch {self.val.best_epoch}, now {val:.4g}) while the training loss fell from "
            f"{self.train_at_best_val:.4g} to {train:.4g}"
        )


class Health:
    """What the engine holds: both watches and the findings so far."""

    def __init__(self, settings: HealthSettings) -> None:
        self.settings = settings
        self.divergence = DivergenceWatch(settings)
        self.stalls = StallWatch(settings)
        self.findings: list[Finding] = []

    @property
    def wants_initial_loss(self) -> bool:
        """Whether step 1's loss must be fetched: the baseline divergence is measured against."""
        return self.divergence.enabled and not self.divergence.early

    def end_epoch(self, epoch: int, step: int, metrics: dict[str, float]) -> list[Finding]:
        found = self.stalls.epoch(epoch, step, metrics)
        self.findings.extend(found)
        return found

    @property
    def should_stop(self) -> bool:
        return self.settings.stop_on_findings and bool(self.findings)


def diverged_message(epoch: int, step: int, what: str, lr: float) -> str:
    """The one line a divergence failure reads as; the engine may add where the last good checkpoint is."""
    return (
        f"training diverged at epoch {epoch}, step {step}: {what} (learning rate {lr:g}). {RULES['divergence'].advice}"
    )


def activation_interval(setting: int | None, total_steps: int) -> int:
    """Steps between activation samples: the explicit setting, or about SAMPLES_PER_RUN samples over the run,
    never more often than every MIN_ACTIVATION_INTERVAL steps (a sampled step costs several plain ones: every
    step sampled made a 116-step digits run 3.5x slower in bench_training.py)."""
    if setting is not None:
        return setting
    return max(MIN_ACTIVATION_INTERVAL, total_steps // SAMPLES_PER_RUN)


SAMPLES_PER_RUN = 100  # enough points for a curve and a scrubber
MIN_ACTIVATION_INTERVAL = 25  # at most 4 % of the steps pay for the hooks
