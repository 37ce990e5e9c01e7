"""Torch modules behind the objective's nodes: loss terms, stochastic layers and target lookups.

Like nnstudio.layers.modules this imports torch and is only imported when a graph is compiled (a Construct
names these classes by import path). Each class depends on nothing but torch, so Python export can copy its
source into a standalone model.py or train.py.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def _class_weights(module: nn.Module, class_weights: list[float] | None) -> None:
    weight = torch.tensor(class_weights, dtype=torch.float32) if class_weights is not None else None
    # Derived from the constructor arguments, so it is not saved with the weights.
    module.register_buffer("class_weight", weight, persistent=False)


class CrossEntropyTerm(nn.Module):
    """Cross-entropy of logits [N, ..., C] against class indices [N, ...]; the class dim is last."""

    def __init__(self, class_weights: list[float] | None = None, label_smoothing: float = 0.0) -> None:
        super().__init__()
        _class_weights(self, class_weights)
        self.label_smoothing = label_smoothing

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(input.reshape(-1, input.shape[-1]), target.reshape(-1), weight=self.class_weight,
                               label_smoothing=self.label_smoothing)


class NLLTerm(nn.Module):
    """Negative log-likelihood of log-probabilities [N, ..., C] against class indices [N, ...]."""

    def __init__(self, class_weights: list[float] | None = None) -> None:
        super().__init__()
        _class_weights(self, class_weights)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.nll_loss(input.reshape(-1, input.shape[-1]), target.reshape(-1), weight=self.class_weight)


class GaussianKL(nn.Module):
    """KL(N(mu, exp(logvar)) ‖ N(0, I)), summed over the latent dims and averaged over the batch."""

    def forward(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        per_dim = 1 + logvar - mu.square() - logvar.exp()
        return -0.5 * per_dim.flatten(1).sum(1).mean()


class DistillationKL(nn.Module):
    """Hinton's soft-target loss: T² · KL(softmax(teacher / T) ‖ softmax(student / T)), batch mean.

    The teacher's logits are detached: distillation teaches the student, never the teacher. The T² keeps the
    gradient scale independent of the temperature, so the term can be mixed with a hard-label loss.
    """

    def __init__(self, temperature: float = 4.0) -> None:
        super().__init__()
        self.temperature = temperature

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        t = self.temperature
        log_student = F.log_softmax(student.reshape(-1, student.shape[-1]) / t, dim=-1)
        log_teacher = F.log_softmax(teacher.detach().reshape(-1, teacher.shape[-1]) / t, dim=-1)
        return F.kl_div(log_student, log_teacher, reduction="batchmean", log_target=True) * (t * t)


class ActivityL1(nn.Module):
    """An L1 penalty on activations, for sparse codes: the mean |x|, or Σ|x| per sample averaged."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = reduction

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.reduction == "mean":
            return x.abs().mean()
        return x.abs().flatten(1).sum(1).mean()


class GaussianSample(nn.Module):
    """The reparameterisation trick: z = mu + exp(logvar / 2) · eps with eps ~ N(0, I) while training.

    In eval mode it returns mu (the most likely code), unless `sample_in_eval` asks for draws there too.
    """

    def __init__(self, sample_in_eval: bool = False) -> None:
        super().__init__()
        self.sample_in_eval = sample_in_eval

    def forward(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        if not (self.training or self.sample_in_eval):
            return mu
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


class GaussianNoise(nn.Module):
    """Adds N(0, std²) noise while training (a denoising autoencoder's corruption); identity in eval mode."""

    def __init__(self, std: float = 0.1) -> None:
        super().__init__()
        self.std = std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.std == 0:
            return x
        return x + self.std * torch.randn_like(x)


class ClassMap(nn.Module):
    """Maps class indices through a table: table[y]. Turns digit labels into parity labels, say."""

    def __init__(self, table: list[int]) -> None:
        super().__init__()
        self.register_buffer("table", torch.tensor(table, dtype=torch.int64), persistent=False)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return self.table[y]
