"""Where a run is (epoch, step, batch, shuffle position, clocks), what it returns, and its checkpoints.

The loop position is enough to resume exactly: the shuffle generator's state at the start of the epoch in
progress plus the number of batches already done there regenerate the same remaining batches.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from nnstudio.training.checkpoint import STATE_FILE, CheckpointError, capture_rng, restore_rng, save_checkpoint
from nnstudio.training.events import Status

if TYPE_CHECKING:
    from nnstudio.training.checkpoint import Checkpoint
    from nnstudio.training.engine import Trainer

LR_KEYS = ("lr", "initial_lr", "max_lr", "min_lr")  # the rates a param group keeps for itself and its scheduler
SCHEDULER_LRS = ("base_lrs", "_last_lr")  # and those a torch scheduler keeps


class Diverged(Exception):
    """A non-finite loss, gradient or weight. The message names the first layer found non-finite."""

    def __init__(self, message: str, node_id: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.node_id = node_id


@dataclass
class RunResult:
    status: Status
    epochs: int  # completed epochs
    step: int  # optimizer steps done
    metrics: dict[str, float]  # the last epoch's metrics, plus test_* when a test split exists
    message: str
    node_id: str | None = None  # on failure: the graph node where things went non-finite
    best: dict[str, Any] | None = None  # {"metric", "value", "epoch"}
    checkpoint: Path | None = None
    best_checkpoint: Path | None = None
    findings: list[str] = field(default_factory=list)  # training.health findings, one line each

    @property
    def ok(self) -> bool:
        return self.status is not Status.FAILED


@dataclass
class LoopState:
    epoch: int  # completed epochs
    step: int
    batch: int  # batches done in the epoch in progress
    loss_sum: torch.Tensor  # on the device: the sum of this epoch's batch losses
    shuffle_state: torch.Tensor  # the shuffle generator's state at the start of the epoch in progress
    current: int = 0  # the epoch in progress (1-based)
    perm: torch.Tensor | None = None
    last_metrics: dict[str, float] = field(default_factory=dict)
    best_weights: dict[str, torch.Tensor] | None = None
    last_batch: tuple[torch.Tensor, torch.Tensor] | None = None
    seconds_before: float = 0.0  # training time of earlier sessions (before a resume)
    _started: float = 0.0
    _paused_total: float = 0.0
    _paused_at: float | None = None
    _epoch_began: float = 0.0
    session_step: int = 0  # step at which this session started (for the ETA)
    sample_step: int = 0  # step and clock of the previous sampled step (for samples/s)
    sample_seconds: float = 0.0

    @classmethod
    def fresh(cls, generator: torch.Generator, device: torch.device, terms: int = 0) -> LoopState:
        """`terms` > 0 (a graph with loss nodes) makes loss_sum a vector: [total, term 1, …, term k]."""
        sums = torch.zeros((1 + terms,) if terms else (), device=device)
        return cls(0, 0, 0, sums, generator.get_state())

    @classmethod
    def restored(cls, state: dict[str, Any], device: torch.device) -> LoopState:
        restore_rng(state["rng"])
        sums = state["loss_sum"]
        sums = [float(v) for v in sums] if isinstance(sums, list) else float(sums)
        loop = cls(int(state["epoch"]), int(state["step"]), int(state["batch"]),
                   torch.tensor(sums, device=device), state["shuffle"])
        loop.last_metrics = dict(state.get("last_metrics", {}))
        loop.seconds_before = float(state.get("train_seconds", 0.0))
        return loop

    @property
    def epoch_in_progress(self) -> int:
        return self.current or self.epoch

    def begin_epoch(self, epoch: int, generator: torch.Generator, count: int, device: torch.device,
                    order: torch.Tensor | None = None) -> None:
        """Draw the epoch's permutation the way DataLoader(shuffle=True, generator=g) does, or take `order`."""
        if self.batch == 0:
            self.shuffle_state = generator.get_state()
            self.loss_sum.zero_()
        else:
            generator.set_state(self.shuffle_state)
        if order is not None:  # a distributed run's shard, a pure function of the seed and the epoch
            self.perm = order.to(device)
        else:
            # DataLoader draws a base seed, the permutation, then (when its sampler runs dry) one more
            # permutation that it throws away; drawing the same keeps a seeded hand-written DataLoader loop
            # in step with us.
            torch.empty((), dtype=torch.int64).random_(generator=generator)
            self.perm = torch.randperm(count, generator=generator).to(device)
            torch.randperm(count, generator=generator)
        self.current = epoch
        self._epoch_began = self.train_seconds()

    def end_epoch(self, epoch: int, generator: torch.Generator) -> None:
        self.epoch, self.batch = epoch, 0
        self.shuffle_state = generator.get_state()

    def epoch_loss(self) -> float:
        total = self.loss_sum if self.loss_sum.dim() == 0 else self.loss_sum[0]
        return float(total) / max(1, self.batch)

    def loss_sum_value(self) -> float | list[float]:
        """loss_sum as plain numbers, for a checkpoint's trainer state."""
        return float(self.loss_sum) if self.loss_sum.dim() == 0 else self.loss_sum.tolist()

    # --- clocks (pauses excluded) ----------------------------------------------------------
    def clock_start(self) -> None:
        self._started = time.perf_counter()
        self.session_step = self.sample_step = self.step
        self.sample_seconds = 0.0

    def clock_pause(self) -> None:
        self._paused_at = time.perf_counter()

    def clock_resume(self) -> None:
        if self._paused_at is not None:
            self._paused_total += time.perf_counter() - self._paused_at
            self._paused_at = None

    def session_seconds(self) -> float:
        return time.perf_counter() - self._started - self._paused_total

    def train_seconds(self) -> float:
        return self.seconds_before + self.session_seconds()

    def epoch_seconds(self) -> float:
        return self.train_seconds() - self._epoch_began


def save_run_checkpoint(trainer: Trainer, directory: Path, kind: str, metrics: dict[str, float]) -> Path:
    """Write the trainer's full state; everything in it loads with torch.load(weights_only=True)."""
    st, job = trainer.state, trainer.job
    scaler = trainer.runner.scaler
    state = {
        "epoch": st.epoch, "step": st.step, "batch": st.batch, "loss_sum": st.loss_sum_value(),
        "shuffle": st.shuffle_state.clone(), "rng": capture_rng(),
        "optimizer": trainer.optimizer.state_dict(), "scheduler": trainer.schedule.state_dict(),
        "scaler": scaler.state_dict() if scaler is not None else {},
        "monitor": trainer.monitor.state_dict(), "train_seconds": st.train_seconds(),
        "last_metrics": dict(metrics),
        "recipe": trainer.recipe_state(),
        "interventions": trainer.interventions.state(),  # the live changes in effect (training/interventions.py)
    }
    info = {
        "kind": kind, "epoch": st.epoch, "step": st.step, "batch_in_epoch": st.batch,
        "epoch_complete": st.batch == 0, "task": job.task, "loss": job.loss,
        "monitor": {"metric": trainer.monitor.metric, "best": trainer.monitor.best,
                    "best_epoch": trainer.monitor.best_epoch},
        "metrics": metrics, "settings": trainer.settings.to_dict(),
    }
    return save_checkpoint(directory, trainer.module, state, trainer.history, info, trainer.writer)


def check_resume(checkpoint: Checkpoint, epochs: int) -> None:
    """Refuse a checkpoint that is further along than the run is set to go (nothing would train, and the
    "finished" that follows would be misleading); load_checkpoint has checked the ranges already."""
    if checkpoint.epoch > epochs:
        raise CheckpointError(f"{checkpoint.path / STATE_FILE}: epoch: {checkpoint.epoch} is past the {epochs} "
                              f"epoch(s) this run is set to (training.epochs); resume with --epochs "
                              f"{checkpoint.epoch} or more")


def lr_override_problem(trainer: Trainer) -> str | None:
    """Why a new learning rate cannot be applied after a restore; None when it can: the trainer has one torch
    optimizer whose rates all follow training.optimizer.lr (a GAN has two players with rates of their own, a
    self-organising map none)."""
    if isinstance(trainer.optimizer, torch.optim.Optimizer) and not getattr(trainer, "players", None):
        return None
    return (f"--lr: the {trainer.job.recipe} recipe keeps its own learning rates in the checkpoint; resume "
            "without --lr")


def override_lr(trainer: Trainer, lr: float, checkpoint: Checkpoint) -> str | None:
    """Put a new base learning rate into a restored optimizer and schedule; the line that says so, or None when
    the checkpoint had that rate already.

    Loading the optimizer's state brings back the checkpoint's rates, so every rate the optimizer and its
    scheduler keep is scaled by new / old: a node's lr scale and the schedule's position (a cosine half-way
    down stays half-way down) carry over. Check lr_override_problem first."""
    before = _base_lr(checkpoint, trainer.optimizer)
    if before == lr:
        return None
    factor = lr / before
    for group in trainer.optimizer.param_groups:
        for key in LR_KEYS:
            if isinstance(group.get(key), (int, float)):
                group[key] = group[key] * factor
    scheduler = trainer.schedule.scheduler
    for name in SCHEDULER_LRS:
        rates = getattr(scheduler, name, None)
        if isinstance(rates, list):
            setattr(scheduler, name, [rate * factor for rate in rates])
    return f"learning rate overridden: {lr:g} (checkpoint had {before:g})"


def _base_lr(checkpoint: Checkpoint, optimizer: torch.optim.Optimizer) -> float:
    """The base rate the checkpoint's run used: its saved settings, else what its first param group implies."""
    saved = checkpoint.info.get("settings")
    section = saved.get("optimizer") if isinstance(saved, dict) else None
    value = section.get("lr") if isinstance(section, dict) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < float("inf"):
        return float(value)
    group = optimizer.param_groups[0]
    return float(group.get("initial_lr", group["lr"])) / float(group.get("lr_scale", 1.0))
