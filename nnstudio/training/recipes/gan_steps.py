"""The GAN's inner loop: discriminator steps on batches of real samples, a generator step every `d_steps`.

Each player owns its parameters, optimizer and schedule. A player's update asks autograd for the gradients of
its own parameters only (`torch.autograd.grad`), so a generator step leaves the discriminator's weights and
gradients untouched although its loss runs through the discriminator, and a discriminator step never touches
the generator (its fakes are made without gradients). Noise comes from the recipe's own torch.Generator, which
the checkpoint keeps, so a resumed run draws the same noise and stays bitwise equal.

The epoch's sums live on the device in LoopState.loss_sum, laid out as SUMS, so they survive a mid-epoch stop.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from nnstudio.metrics.layers import ActivationProbe
from nnstudio.training.events import Event, EventInfo
from nnstudio.training.factories import WeightPenalty, clip_gradients
from nnstudio.training.schedules import Schedule

if TYPE_CHECKING:
    from nnstudio.training.recipes.gan_trainer import GanTrainer

SUMS = ("d_loss", "d_real", "d_fake", "d_count", "g_loss", "g_count")  # LoopState.loss_sum, per epoch
EVAL_BATCH = 1024


@dataclass
class Player:
    """One network of the two: its part of the graph and what trains it."""

    name: str  # generator or discriminator
    module: nn.Module  # the fx part (compile.parts), sharing the trained submodules
    params: list[nn.Parameter]
    optimizer: torch.optim.Optimizer
    schedule: Schedule
    penalty: WeightPenalty | None

    def update(self, loss: torch.Tensor, clip) -> None:
        total = loss + self.penalty() if self.penalty is not None else loss
        grads = torch.autograd.grad(total, self.params, allow_unused=True)
        for param, grad in zip(self.params, grads):
            param.grad = grad
        if clip is not None:
            clip_gradients(self.params, clip)
        self.optimizer.step()
        self.schedule.after_step()


def discriminator_loss(kind: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Non-saturating: −log σ(D(x)) − log(1 − σ(D(G(z)))), as BCE on logits; WGAN: E[D(G(z))] − E[D(x)]."""
    if kind == "wgan_gp":
        return fake.mean() - real.mean()
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def generator_loss(kind: str, fake: torch.Tensor) -> torch.Tensor:
    """Non-saturating: −log σ(D(G(z))) (G maximises log D(G(z))); WGAN: −E[D(G(z))]."""
    return -fake.mean() if kind == "wgan_gp" else F.softplus(-fake).mean()


def score(kind: str, logit: torch.Tensor) -> torch.Tensor:
    """What d_real and d_fake report: the mean probability of "real", or the mean critic score for WGAN."""
    return logit.mean() if kind == "wgan_gp" else torch.sigmoid(logit).mean()


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor,
                     mix: torch.Tensor) -> torch.Tensor:
    """WGAN-GP's E[(‖∇D(x̂)‖₂ − 1)²] at x̂ = ε·x + (1 − ε)·G(z), one ε ~ U[0, 1] per sample (Gulrajani et al.)."""
    point = (mix * real + (1 - mix) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(point).sum(), point, create_graph=True)
    return (grad.flatten(1).norm(2, dim=1) - 1).square().mean()


@contextmanager
def evaluating(network: nn.Module) -> Iterator[None]:
    """Eval mode (dropout and noise layers off, batch-norm statistics kept) and no gradients, then back."""
    was_training = network.training
    network.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        network.train(was_training)


def generate(generator: nn.Module, noise: torch.Tensor) -> torch.Tensor:
    """The generator's samples for a batch of noise, in slices (call it inside `evaluating`)."""
    return torch.cat([generator(noise[i:i + EVAL_BATCH]) for i in range(0, len(noise), EVAL_BATCH)])


def mean_score(kind: str, critic: nn.Module, x: torch.Tensor) -> float:
    """`score` over a whole split, in slices (call it inside `evaluating`)."""
    total = sum(float(score(kind, critic(x[i:i + EVAL_BATCH]))) * len(x[i:i + EVAL_BATCH])
                for i in range(0, len(x), EVAL_BATCH))
    return total / max(1, len(x))


class GanStepRunner:
    """Runs an epoch's batches; the Trainer's loop calls `run_batches` and honours pause and stop through it."""

    scaler = None  # the GAN trains in fp32 (its check refuses the others)

    def __init__(self, trainer: GanTrainer, d: Player, g: Player) -> None:
        self.trainer = trainer
        self.d, self.g = d, g
        params = trainer.job.recipe_params
        self.kind, self.d_steps, self.gp_weight = params["loss"], params["d_steps"], params["gp_weight"]
        regularization = trainer.settings.regularization
        self.clip = regularization if regularization.clip != "none" else None
        self.probe = ActivationProbe({}, 1)  # the engine detaches it at the end; the GAN samples no activations
        self.last_g: torch.Tensor | None = None  # the latest generator loss, for sampled records

    def noise(self, count: int) -> torch.Tensor:
        t = self.trainer
        return torch.randn((count, *t.noise_shape), generator=t.noise_generator, device=t.device)

    def d_step(self, real: torch.Tensor) -> torch.Tensor:
        """One discriminator update; returns [loss, D(real), D(fake)] detached."""
        with torch.no_grad():
            fake = self.g.module(self.noise(real.shape[0]))
        critic = self.d.module
        real_logit, fake_logit = critic(real), critic(fake)
        loss = discriminator_loss(self.kind, real_logit, fake_logit)
        if self.kind == "wgan_gp" and self.gp_weight > 0:
            shape = (real.shape[0],) + (1,) * (real.dim() - 1)
            mix = torch.rand(shape, generator=self.trainer.noise_generator, device=real.device)
            loss = loss + self.gp_weight * gradient_penalty(critic, real, fake, mix)
        self.d.update(loss, self.clip)
        with torch.no_grad():
            return torch.stack([loss.detach(), score(self.kind, real_logit), score(self.kind, fake_logit)])

    def g_step(self, count: int) -> torch.Tensor:
        loss = generator_loss(self.kind, self.d.module(self.g.module(self.noise(count))))
        self.g.update(loss, self.clip)
        return loss.detach()

    def run_batches(self, epoch: int) -> bool:
        """Run the remaining batches of an epoch; True when a stop request ended it early."""
        t = self.trainer
        st, inst = t.state, t.settings.instrumentation
        loss_every = inst.loss_every if inst.enabled else 0
        size, perm, x, sums = t.batch_size, st.perm, t.x, st.loss_sum
        one = torch.ones((), device=t.device)
        for batch in range(st.batch, t.steps_per_epoch):
            if t.control.pending and t._honour_requests():
                return True
            real = x.index_select(0, perm[batch * size:(batch + 1) * size])
            step = st.step = st.step + 1
            st.batch = batch + 1
            d_values = self.d_step(real)
            sums[0:4] += torch.cat([d_values, one[None]])
            if step % self.d_steps == 0:
                self.last_g = self.g_step(real.shape[0])
                sums[4:6] += torch.stack([self.last_g, one])
            value = self._log_step(epoch, step, d_values) if loss_every and step % loss_every == 0 else None
            if t.events.has(Event.STEP):
                t.events.fire(EventInfo(Event.STEP, epoch, step, loss=value))
        return False

    def _log_step(self, epoch: int, step: int, d_values: torch.Tensor) -> float:
        """A "gan" record: the step's D loss and scores and the latest G loss, fetched in one transfer."""
        t = self.trainer
        st = t.state
        parts = [d_values] if self.last_g is None else [d_values, self.last_g[None]]
        values = torch.cat(parts).tolist()
        d_loss, d_real, d_fake = values[:3]
        if not math.isfinite(d_loss):
            raise t.diverged(f"the discriminator's loss is {d_loss}")
        seconds = st.train_seconds()
        interval = seconds - st.sample_seconds
        samples = (step - st.sample_step) * t.settings.batch_size
        done, remaining = step - st.session_step, t.settings.epochs * t.steps_per_epoch - step
        t.history.add({"kind": "gan", "epoch": epoch, "step": step, "d_loss": d_loss,
                       "g_loss": values[3] if len(values) > 3 else None, "d_real": d_real, "d_fake": d_fake,
                       "lr_discriminator": self.d.optimizer.param_groups[0]["lr"],
                       "lr_generator": self.g.optimizer.param_groups[0]["lr"],
                       "samples_per_s": samples / interval if interval > 0 else None,
                       "eta_s": st.session_seconds() / done * remaining if done > 0 else None})
        st.sample_step, st.sample_seconds = step, seconds
        return d_loss

    def weights_finite(self) -> bool:
        params = [p.detach() for p in self.trainer.params]
        return not params or bool(torch.isfinite(torch.stack(torch._foreach_norm(params))).all())
