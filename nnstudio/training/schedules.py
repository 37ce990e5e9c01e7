"""Learning-rate schedules from settings, expressed in epochs and run by the stock torch schedulers.

Schedules whose shape is smooth (cosine, warm restarts, warm-up, one-cycle) advance after every optimizer
step, with their lengths converted from epochs to steps; drop-style schedules (step, multistep,
exponential, plateau) advance once per epoch, exactly as their torch documentation describes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.optim import lr_scheduler

from nnstudio.metrics.scores import higher_is_better
from nnstudio.training.settings import ScheduleSettings

PER_STEP = ("cosine", "cosine_restarts", "warmup_cosine", "one_cycle")


@dataclass
class Schedule:
    """A torch scheduler plus when to advance it."""

    scheduler: lr_scheduler.LRScheduler | lr_scheduler.ReduceLROnPlateau | None
    per_step: bool
    monitor: str | None = None  # for reduce-on-plateau

    def after_step(self) -> None:
        if self.per_step and self.scheduler is not None:
            self.scheduler.step()

    def after_epoch(self, metrics: dict[str, float]) -> None:
        if self.scheduler is None or self.per_step:
            return
        if self.monitor is not None:
            value = metrics.get(self.monitor)
            if value is not None and math.isfinite(value):
                self.scheduler.step(value)
        else:
            self.scheduler.step()

    def state_dict(self) -> dict:
        return self.scheduler.state_dict() if self.scheduler is not None else {}

    def load_state_dict(self, state: dict) -> None:
        if self.scheduler is not None and state:
            self.scheduler.load_state_dict(state)


def warmup_cosine_factor(warmup: int, total: int, floor: float) -> Callable[[int], float]:
    """LR multiplier: a linear ramp over `warmup` steps, then a cosine from 1 down to `floor`."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


def make_schedule(optimizer: torch.optim.Optimizer, settings: ScheduleSettings, epochs: int,
                  steps_per_epoch: int, monitor: str | None = None) -> Schedule:
    """`monitor` overrides settings.monitor for plateau (the engine passes the resolved metric name)."""
    s, spe = settings, steps_per_epoch
    total = max(1, epochs * spe)
    lr = optimizer.defaults["lr"]  # the base rate; param groups of scaled nodes hold base · scale
    if s.name == "constant":
        return Schedule(None, per_step=False)
    if s.name == "step":
        return Schedule(lr_scheduler.StepLR(optimizer, step_size=s.step_size, gamma=s.gamma), per_step=False)
    if s.name == "multistep":
        return Schedule(lr_scheduler.MultiStepLR(optimizer, milestones=list(s.milestones), gamma=s.gamma),
                        per_step=False)
    if s.name == "exponential":
        return Schedule(lr_scheduler.ExponentialLR(optimizer, gamma=s.decay_rate), per_step=False)
    if s.name == "cosine":
        return Schedule(lr_scheduler.CosineAnnealingLR(optimizer, T_max=total, eta_min=s.min_lr), per_step=True)
    if s.name == "cosine_restarts":
        return Schedule(lr_scheduler.CosineAnnealingWarmRestarts(
            optimizer, T_0=s.restart_epochs * spe, T_mult=s.restart_mult, eta_min=s.min_lr), per_step=True)
    if s.name == "warmup_cosine":
        factor = warmup_cosine_factor(s.warmup_epochs * spe, total, min(1.0, s.min_lr / lr))
        return Schedule(lr_scheduler.LambdaLR(optimizer, factor), per_step=True)
    if s.name == "one_cycle":
        group = optimizer.param_groups[0]
        cycle = "betas" in group or group.get("momentum", 0) > 0
        # one peak per param group, so a node's learning-rate scale survives the cycle
        peaks = [lr * g.get("lr_scale", 1.0) for g in optimizer.param_groups]
        max_lr = peaks[0] if len(peaks) == 1 else peaks
        return Schedule(lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=total, pct_start=s.pct_start,
                                                cycle_momentum=cycle), per_step=True)
    if s.name == "plateau":
        watched = monitor or s.monitor
        mode = "max" if higher_is_better(watched) else "min"
        return Schedule(lr_scheduler.ReduceLROnPlateau(optimizer, mode=mode, factor=s.gamma, patience=s.patience,
                                                       min_lr=s.min_lr), per_step=False, monitor=watched)
    raise ValueError(f"unknown schedule {s.name!r}")
