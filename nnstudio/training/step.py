"""The inner loop: batches of one epoch, the plain step, and the sampled step that feeds the metrics.

A plain step is exactly `opt.zero_grad(); loss = crit(model(x), y); loss.backward(); opt.step()` plus
whatever the settings add (penalty, clipping, autocast, a per-step schedule). A sampled step also fetches
the loss (before the update, so a non-finite loss is replayed on the weights that produced it), gradient
norms and activation statistics, each with one host transfer.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

from nnstudio.metrics.layers import ActivationProbe, GradientNorms
from nnstudio.training.augment.build import trainer_augment
from nnstudio.training.device import AUTOCAST_DTYPES
from nnstudio.training.events import Event, EventInfo
from nnstudio.training.factories import WeightPenalty, clip_gradients, decision_threshold
from nnstudio.training.health import activation_interval, diverged_message
from nnstudio.training.loop_state import Diverged

if TYPE_CHECKING:
    from nnstudio.training.engine import Trainer


class StepRunner:
    def __init__(self, trainer: Trainer, grad_norms: GradientNorms, probe: ActivationProbe,
                 penalty: WeightPenalty, scaler: torch.amp.GradScaler | None) -> None:
        self.trainer = trainer
        self.grad_norms = grad_norms
        self.probe = probe
        self.penalty = penalty if penalty.active else None
        self.scaler = scaler
        s = trainer.settings
        self.clip = s.regularization if s.regularization.clip != "none" else None
        self.autocast_dtype = AUTOCAST_DTYPES.get(s.precision)
        self.per_step_schedule = trainer.schedule.scheduler if trainer.schedule.per_step else None
        self.threshold = decision_threshold(s.loss, trainer.job.task)
        self.augment = trainer_augment(trainer)  # None without a dataset.augment list

    # --- the epoch's batches ---------------------------------------------------------------
    def run_batches(self, epoch: int) -> bool:
        """Run the remaining batches of an epoch; True when a stop request ended it early."""
        t = self.trainer
        st, inst = t.state, t.settings.instrumentation
        loss_every = inst.loss_every if inst.enabled else 0
        grads_every = inst.grads_every if inst.enabled else 0
        acts_every = activation_interval(inst.activations_every, t.settings.epochs * t.steps_per_epoch) \
            if inst.enabled else 0
        first = 1 if loss_every and t.health.wants_initial_loss else 0  # the divergence baseline: step 1's loss
        size, perm = t.batch_size, st.perm
        control, events, loss_sum = t.control, t.events, st.loss_sum
        plain = self.plain_step
        augment = self.augment
        batches = t.batches.epoch(perm, size, st.batch, t.steps_per_epoch)  # rows perm[b*size:(b+1)*size] of batch b
        for batch in range(st.batch, t.steps_per_epoch):
            if control.pending and t._honour_requests():
                return True
            xb, yb = next(batches)  # index slices of the split on the device, or streamed (data/streaming_source.py)
            step = st.step = st.step + 1
            if augment is not None:  # dataset.augment, training batches only, seeded by the step (training/augment)
                xb, yb = augment(xb, yb, step)
            st.batch = batch + 1
            # a batch let through by Control.step_once is always sampled, so a paused run shows its numbers
            want_loss = loss_every and (step % loss_every == 0 or step == first or control.stepping)
            want_grads = grads_every and (step % grads_every == 0 or control.stepping)
            want_acts = acts_every and (step % acts_every == 0 or control.stepping)
            value = None
            if want_loss or want_grads or want_acts:
                loss, value = self.sampled_step(xb, yb, epoch, step, want_loss, want_grads, want_acts)
            else:
                loss = plain(xb, yb)
            loss_sum += loss.detach()
            st.last_batch = (xb, yb)
            if events.has(Event.STEP):
                events.fire(EventInfo(Event.STEP, epoch, step, loss=value))
        return False

    def _forward(self, xb: torch.Tensor, yb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = self.trainer
        if self.autocast_dtype is None:
            output = t.forward_module(xb)
            return output, t.criterion(output, yb)
        with torch.autocast(device_type=xb.device.type, dtype=self.autocast_dtype):
            output = t.forward_module(xb)
            return output, t.criterion(output, yb)

    def _backward(self, loss: torch.Tensor) -> None:
        total = loss + self.penalty() if self.penalty is not None else loss
        if self.scaler is not None:
            self.scaler.scale(total).backward()
            self.scaler.unscale_(self.trainer.optimizer)
        else:
            total.backward()

    def _update(self) -> None:
        if self.clip is not None:
            clip_gradients(self.trainer.params, self.clip)
        if self.scaler is not None:
            self.scaler.step(self.trainer.optimizer)
            self.scaler.update()
        else:
            self.trainer.optimizer.step()
        if self.per_step_schedule is not None:
            self.per_step_schedule.step()

    def plain_step(self, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        self.trainer.optimizer.zero_grad()
        _, loss = self._forward(xb, yb)
        self._backward(loss)
        self._update()
        return loss

    # --- sampled steps ---------------------------------------------------------------------
    def sampled_step(self, xb: torch.Tensor, yb: torch.Tensor, epoch: int, step: int, want_loss: bool,
                     want_grads: bool, want_acts: bool) -> tuple[torch.Tensor, float | None]:
        t = self.trainer
        t.optimizer.zero_grad()
        if want_acts:
            self.probe.attach()
        try:
            output, loss = self._forward(xb, yb)
        finally:
            self.probe.detach()
        self._backward(loss)
        norms = self.grad_norms.compute() if want_grads else None
        value = None
        if want_loss:
            value, accuracy = self._fetch_loss(output, loss, yb)
            if not math.isfinite(value):
                raise self.diverged(f"the loss is {value}", (xb, yb))
            exploded = t.health.divergence.loss(value)
            if exploded is not None:
                raise self.exploded(exploded)
            if step % t.settings.instrumentation.loss_every == 0 or t.control.stepping:
                self._log_step(epoch, step, value, accuracy)
            else:  # step 1's extra fetch is the divergence baseline, neither logged nor reported
                value = None
        if norms is not None:
            self._log_grads(epoch, step, norms, (xb, yb))
        self._update()
        if want_acts:
            layers = self.probe.collect()
            t.history.add({"kind": "activations", "epoch": epoch, "step": step,
                           "layers": {k: v.to_json() for k, v in layers.items()}})
        return loss, value

    def _fetch_loss(self, output: torch.Tensor, loss: torch.Tensor, yb: torch.Tensor) -> tuple[float, float | None]:
        """The loss and, for classifiers, the batch accuracy, in one transfer."""
        with torch.no_grad():
            hits = self.batch_hits(output, yb)
            if hits is None:
                return float(loss), None
            loss_value, accuracy = torch.stack([loss.detach().float(), hits]).tolist()
        return loss_value, accuracy

    def batch_hits(self, output: torch.Tensor, yb: torch.Tensor) -> torch.Tensor | None:
        """The batch accuracy as a device scalar for classifiers; None for other tasks."""
        task = self.trainer.job.task
        if task == "classification":
            labels = yb.argmax(-1) if yb.is_floating_point() else yb  # mixup's soft targets: the larger share
            return (output.argmax(-1).reshape(-1) == labels.reshape(-1)).float().mean()
        if task == "binary":
            return ((output.reshape(yb.shape) > self.threshold) == (yb > 0.5)).float().mean()
        return None

    def _log_step(self, epoch: int, step: int, loss: float, accuracy: float | None) -> None:
        t = self.trainer
        st = t.state
        seconds = st.train_seconds()
        interval = seconds - st.sample_seconds
        samples = (step - st.sample_step) * t.settings.batch_size
        done = step - st.session_step
        remaining = t.settings.epochs * t.steps_per_epoch - step
        record = {"kind": "step", "epoch": epoch, "step": step, "loss": loss,
                  "lr": t.optimizer.param_groups[0]["lr"],
                  "samples_per_s": samples / interval if interval > 0 else None,
                  "eta_s": st.session_seconds() / done * remaining if done > 0 else None}
        if accuracy is not None:
            record["accuracy"] = accuracy
        record.update(self.step_extras())
        st.sample_step, st.sample_seconds = step, seconds
        t.history.add(record)

    def step_extras(self) -> dict:
        """More fields for a sampled step's record (the objective step adds every loss term)."""
        return {}

    def _log_grads(self, epoch: int, step: int, norms: torch.Tensor,
                   batch: tuple[torch.Tensor, torch.Tensor]) -> None:
        total, layers = self.grad_norms.fetch(norms)
        if not math.isfinite(total) and self.scaler is None:  # with fp16 the scaler skips such steps itself
            raise self.diverged(f"the gradient norm is {total}", batch)
        self.trainer.health.stalls.grad_norm(total)
        self.trainer.history.add({"kind": "grads", "epoch": epoch, "step": step, "global_norm": total,
                                  "layers": layers})

    # --- failures --------------------------------------------------------------------------
    def weights_finite(self) -> bool:
        params = [p.detach() for p in self.trainer.params]
        if not params:
            return True
        return bool(torch.isfinite(torch.stack(torch._foreach_norm(params))).all())

    def exploded(self, what: str) -> Diverged:
        """A Diverged error for a loss that grew without bound while staying finite (training.health)."""
        st = self.trainer.state
        lr = self.trainer.optimizer.param_groups[0]["lr"]
        return Diverged(diverged_message(st.epoch_in_progress, st.step, what, lr), None)

    def diverged(self, what: str, batch: tuple[torch.Tensor, torch.Tensor] | None = None) -> Diverged:
        """A Diverged error whose message names the first non-finite layer on a replay of the batch."""
        t = self.trainer
        st = t.state
        batch = batch or st.last_batch
        where, node_id = "", None
        if batch is not None:
            try:
                culprit = t.locator.locate(batch[0], batch[1], t.criterion)
                where, node_id = f"; first non-finite value: {culprit.description}", culprit.node_id
            except Exception as exc:  # the replay is a diagnosis aid; its failure must not hide the cause
                where = f"; the replay to find the layer failed ({type(exc).__name__}: {exc})"
        lr = t.optimizer.param_groups[0]["lr"]
        return Diverged(f"training diverged at epoch {st.epoch_in_progress}, step {st.step}: {what}{where}. "
                        f"Try a lower learning rate (now {lr:g}) or gradient clipping", node_id)
