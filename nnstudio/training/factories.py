"""Turn settings into torch objects: the optimizer, the loss and the weight penalty.

The objects are the stock torch ones with the same arguments a hand-written script would pass, so a run
with plain settings computes exactly what that script computes. LAMB, which torch lacks, is nnstudio's own
(nnstudio.training.lamb).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from nnstudio.training.lamb import Lamb
from nnstudio.training.settings import LossSettings, OptimizerSettings, RegularizationSettings

DEFAULT_LOSS = {
    "classification": "cross_entropy",
    "binary": "bce_with_logits",
    "regression": "mse",
    "reconstruction": "mse",
}
LOSSES_FOR_TASK = {
    "classification": ("cross_entropy", "nll"),
    "binary": ("bce_with_logits", "bce", "mse"),
    "regression": ("mse", "l1", "huber"),
    "reconstruction": ("mse", "l1", "huber", "bce", "bce_with_logits"),
}


def loss_name(settings: LossSettings, task: str) -> str:
    """The concrete loss: 'auto' becomes the usual choice for the task."""
    return DEFAULT_LOSS[task] if settings.name == "auto" else settings.name


def make_optimizer(params: Iterable[nn.Parameter], settings: OptimizerSettings) -> torch.optim.Optimizer:
    s = settings
    if s.name == "sgd":
        return torch.optim.SGD(params, lr=s.lr, momentum=s.momentum, nesterov=s.nesterov,
                               weight_decay=s.weight_decay)
    if s.name in ("adam", "adamw"):
        cls = torch.optim.Adam if s.name == "adam" else torch.optim.AdamW
        return cls(params, lr=s.lr, betas=(s.beta1, s.beta2), eps=s.eps, weight_decay=s.weight_decay,
                   amsgrad=s.amsgrad)
    if s.name == "rmsprop":
        return torch.optim.RMSprop(params, lr=s.lr, alpha=s.alpha, eps=s.eps, weight_decay=s.weight_decay,
                                   momentum=s.momentum)
    if s.name == "adagrad":
        return torch.optim.Adagrad(params, lr=s.lr, eps=s.eps, weight_decay=s.weight_decay)
    if s.name == "lamb":
        return Lamb(params, lr=s.lr, betas=(s.beta1, s.beta2), eps=s.eps, weight_decay=s.weight_decay)
    raise ValueError(f"unknown optimizer {s.name!r}")


class ClassesLast(nn.Module):
    """Applies a class-index loss to outputs [N, ..., C] and targets [N, ...] by flattening both."""

    def __init__(self, loss: nn.Module) -> None:
        super().__init__()
        self.loss = loss

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.loss(output.reshape(-1, output.shape[-1]), target.reshape(-1))


def make_loss(settings: LossSettings, task: str, output_rank: int = 1,
              device: torch.device | None = None) -> nn.Module:
    """The loss module. `output_rank` is the Output's rank without the batch dim ([C] is 1)."""
    name = loss_name(settings, task)
    if name in ("cross_entropy", "nll"):
        weight = None
        if settings.class_weights is not None:
            weight = torch.tensor(settings.class_weights, dtype=torch.float32, device=device)
        if name == "cross_entropy":
            loss: nn.Module = nn.CrossEntropyLoss(weight=weight, label_smoothing=settings.label_smoothing)
        else:
            loss = nn.NLLLoss(weight=weight)
        return ClassesLast(loss) if output_rank > 1 else loss
    if name == "bce":
        return nn.BCELoss()
    if name == "bce_with_logits":
        return nn.BCEWithLogitsLoss()
    if name == "mse":
        return nn.MSELoss()
    if name == "l1":
        return nn.L1Loss()
    if name == "huber":
        return nn.HuberLoss(delta=settings.huber_delta)
    raise ValueError(f"unknown loss {name!r}")


def decision_threshold(settings: LossSettings, task: str) -> float:
    """Where a binary output flips to the positive class: 0 for logits, 0.5 for probabilities."""
    return 0.5 if loss_name(settings, task) in ("bce", "mse") else 0.0


class WeightPenalty:
    """l1·Σ|w| + l2·Σw² over weight matrices and kernels (biases and norm scales are left alone)."""

    def __init__(self, params: Iterable[nn.Parameter], settings: RegularizationSettings) -> None:
        self.weights = [p for p in params if p.requires_grad and p.dim() >= 2]
        self.l1 = settings.l1
        self.l2 = settings.l2

    @property
    def active(self) -> bool:
        return bool(self.weights) and (self.l1 > 0 or self.l2 > 0)

    def __call__(self) -> torch.Tensor:
        total = torch.zeros((), device=self.weights[0].device)
        if self.l1 > 0:
            total = total + self.l1 * sum(w.abs().sum() for w in self.weights)
        if self.l2 > 0:
            total = total + self.l2 * sum(w.square().sum() for w in self.weights)
        return total


def clip_gradients(params: list[nn.Parameter], settings: RegularizationSettings) -> None:
    if settings.clip == "norm":
        nn.utils.clip_grad_norm_(params, settings.max_norm, foreach=True)
    elif settings.clip == "value":
        nn.utils.clip_grad_value_(params, settings.clip_value, foreach=True)
