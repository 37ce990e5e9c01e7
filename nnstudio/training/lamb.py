"""LAMB (You et al. 2019, "Large Batch Optimization for Deep Learning"): Adam with a per-layer trust ratio.

Written here rather than taken from a package: the PyPI candidates are unmaintained (torch-optimizer 0.3.0 is
from 2021, pulls pytorch-ranger, and by default skips the bias correction and clamps ‖w‖ at 10; pytorch-lamb
1.0.0 is a 2019 script), and the whole rule is a dozen lines. This follows the paper's Algorithm 2 with bias
correction and the identity scaling function φ:

    m ← β₁m + (1 − β₁)g,   v ← β₂v + (1 − β₂)g²,   m̂ = m / (1 − β₁ᵗ),   v̂ = v / (1 − β₂ᵗ)
    r = m̂ / (√v̂ + ε) + λw
    w ← w − lr · (‖w‖ / ‖r‖) · r          (the ratio is 1 when either norm is 0)

Each parameter tensor is one "layer" of the paper, so a layer's step is proportional to its own weight norm,
which is what lets very large batches train with one learning rate. The state (step, exp_avg, exp_avg_sq) has
the names torch's Adam uses, so checkpoints read alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch.optim import Optimizer


class Lamb(Optimizer):
    """Layer-wise adaptive moments for batch training. `weight_decay` is the paper's λ, added to the update."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-6, weight_decay: float = 0.0) -> None:
        if lr <= 0 or eps <= 0 or weight_decay < 0:
            raise ValueError(f"LAMB needs lr > 0, eps > 0 and weight_decay >= 0, got {lr}, {eps}, {weight_decay}")
        if not all(0.0 <= beta < 1.0 for beta in betas):
            raise ValueError(f"LAMB's betas must lie in [0, 1), got {betas}")
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError("LAMB does not support sparse gradients")
                self._update(p, self.state[p], group, beta1, beta2)
        return loss

    @staticmethod
    def _update(p: torch.Tensor, state: dict[str, Any], group: dict[str, Any], beta1: float, beta2: float) -> None:
        grad = p.grad
        if not state:
            state["step"] = torch.zeros((), dtype=torch.float32)
            state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        state["step"] += 1
        step = float(state["step"])
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        m_hat = exp_avg / (1 - beta1 ** step)
        v_hat = exp_avg_sq / (1 - beta2 ** step)
        update = m_hat / (v_hat.sqrt() + group["eps"])
        if group["weight_decay"]:
            update.add_(p, alpha=group["weight_decay"])
        w_norm, r_norm = p.norm(), update.norm()
        # On the device, without a sync: the trust ratio, or 1 where either norm is zero (a fresh zero bias).
        ratio = torch.where((w_norm > 0) & (r_norm > 0), w_norm / r_norm, torch.ones_like(w_norm))
        p.sub_(update * (group["lr"] * ratio))
