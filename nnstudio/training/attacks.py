"""Adversarial examples, written once for adversarial training and for robustness evaluation.

FGSM (Goodfellow et al.) takes one step along the sign of the input gradient of the loss, as the primers write it:
x' = x + ε · sign(∇ₓ L(f(x), y)). PGD (Madry et al.) takes `steps` such steps of size α and projects back into
the ε-ball around x after each, from a random start inside the ball. Both keep x' inside the data's range when
one is given (pixels stay in [0, 1]). The model's mode is left as it is: the trainer attacks in train mode and the
evaluation in eval mode, and neither attack changes any weight or leaves a gradient behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
ATTACKS = ("fgsm", "pgd")


@dataclass(frozen=True)
class Attack:
    """An attack's settings. `low`/`high` clamp the adversarial input to the data's range (None: unbounded)."""

    method: str = "fgsm"
    epsilon: float = 0.1
    steps: int = 7  # PGD only
    step_size: float = 0.025  # PGD only: α
    random_start: bool = True  # PGD only
    low: float | None = None
    high: float | None = None

    def __post_init__(self) -> None:
        if self.method not in ATTACKS:
            raise ValueError(f"unknown attack {self.method!r}; choose one of {', '.join(ATTACKS)}")
        if self.epsilon < 0 or self.steps < 1 or self.step_size <= 0:
            raise ValueError("an attack needs epsilon >= 0, steps >= 1 and step_size > 0")


def _input_gradient(model: nn.Module, loss_fn: LossFn, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """∇ₓ L without touching the parameters' .grad (autograd.grad asks for the input's gradient only)."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        loss = loss_fn(model(x), y)
        (gradient,) = torch.autograd.grad(loss, x)
    return gradient


def _clamp(x: torch.Tensor, attack: Attack) -> torch.Tensor:
    if attack.low is None and attack.high is None:
        return x
    return x.clamp(attack.low, attack.high)


def fgsm(model: nn.Module, loss_fn: LossFn, x: torch.Tensor, y: torch.Tensor, attack: Attack) -> torch.Tensor:
    gradient = _input_gradient(model, loss_fn, x, y)
    return _clamp(x + attack.epsilon * gradient.sign(), attack).detach()


def pgd(model: nn.Module, loss_fn: LossFn, x: torch.Tensor, y: torch.Tensor, attack: Attack,
        generator: torch.Generator | None = None) -> torch.Tensor:
    eps = attack.epsilon
    adversarial = x.detach().clone()
    if attack.random_start and eps > 0:
        noise = torch.rand(x.shape, generator=generator, device="cpu").to(x.device, x.dtype)
        adversarial = _clamp(adversarial + (noise * 2 - 1) * eps, attack)
    for _ in range(attack.steps):
        gradient = _input_gradient(model, loss_fn, adversarial, y)
        adversarial = adversarial + attack.step_size * gradient.sign()
        adversarial = _clamp(torch.min(torch.max(adversarial, x - eps), x + eps), attack).detach()
    return adversarial


def perturb(model: nn.Module, loss_fn: LossFn, x: torch.Tensor, y: torch.Tensor, attack: Attack,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """The adversarial version of a batch under `attack`."""
    if attack.method == "fgsm":
        return fgsm(model, loss_fn, x, y, attack)
    return pgd(model, loss_fn, x, y, attack, generator)


@torch.no_grad()
def _hits(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    return int((model(x).argmax(-1).reshape(-1) == y.reshape(-1)).sum())


def robust_accuracy(model: nn.Module, loss_fn: LossFn, x: torch.Tensor, y: torch.Tensor, attack: Attack,
                    batch_size: int = 512, seed: int = 0) -> float:
    """The share of samples a classifier still gets right after each is attacked (eval mode, restored after)."""
    was_training = model.training
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    try:
        correct = 0
        for start in range(0, x.shape[0], batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            correct += _hits(model, perturb(model, loss_fn, xb, yb, attack, generator), yb)
    finally:
        model.train(was_training)
    return correct / max(1, x.shape[0])
