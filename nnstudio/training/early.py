"""The monitored metric: which epoch is best (for the `best` checkpoint) and when to stop early."""

from __future__ import annotations

import math
from typing import Any

from nnstudio.metrics.scores import higher_is_better
from nnstudio.training.settings import EarlyStoppingSettings


def monitored_metric(settings: EarlyStoppingSettings, has_val: bool) -> str:
    """The metric to watch. Without a validation split a val_ metric falls back to train_loss."""
    if settings.monitor.startswith("val_") and not has_val:
        return "train_loss"
    return settings.monitor


class Monitor:
    """Tracks the best value of one metric and the epochs since it last improved by min_delta."""

    def __init__(self, metric: str, settings: EarlyStoppingSettings) -> None:
        self.metric = metric
        self.maximize = higher_is_better(metric)
        self.settings = settings
        self.best: float | None = None
        self.best_epoch = 0
        self.bad_epochs = 0

    def update(self, epoch: int, metrics: dict[str, float]) -> bool:
        """Record an epoch's metrics; True when this epoch is the new best."""
        value = metrics.get(self.metric)
        if value is None or not math.isfinite(value):
            self.bad_epochs += 1
            return False
        delta = self.settings.min_delta
        improved = self.best is None or (value > self.best + delta if self.maximize else value < self.best - delta)
        if improved:
            self.best, self.best_epoch, self.bad_epochs = value, epoch, 0
        else:
            self.bad_epochs += 1
        return improved

    @property
    def should_stop(self) -> bool:
        return self.settings.enabled and self.bad_epochs >= self.settings.patience

    def state_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "best": self.best, "best_epoch": self.best_epoch,
                "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("metric") == self.metric:
            self.best = state.get("best")
            self.best_epoch = int(state.get("best_epoch", 0))
            self.bad_epochs = int(state.get("bad_epochs", 0))
