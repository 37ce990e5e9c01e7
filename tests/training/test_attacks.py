"""FGSM and PGD: the update rules as the primers write them, the ε-ball, the data range, and no side effects."""

from __future__ import annotations

import torch
from torch import nn

from nnstudio.training.attacks import Attack, fgsm, pgd, robust_accuracy


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))


def test_fgsm_is_one_signed_gradient_step() -> None:
    model, loss_fn = _model(), nn.CrossEntropyLoss()
    x, y = torch.randn(5, 4), torch.tensor([0, 1, 2, 0, 1])
    attacked = fgsm(model, loss_fn, x, y, Attack("fgsm", 0.3))
    assert all(p.grad is None for p in model.parameters()), "the attack leaves no parameter gradient behind"
    probe = x.clone().requires_grad_(True)
    loss_fn(model(probe), y).backward()
    assert torch.equal(attacked, x + 0.3 * probe.grad.sign())


def test_pgd_stays_in_the_ball_and_the_data_range() -> None:
    model, loss_fn = _model(), nn.CrossEntropyLoss()
    x, y = torch.rand(6, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    attack = Attack("pgd", 0.1, steps=5, step_size=0.05, low=0.0, high=1.0)
    attacked = pgd(model, loss_fn, x, y, attack, torch.Generator().manual_seed(1))
    assert (attacked - x).abs().max() <= 0.1 + 1e-6
    assert attacked.min() >= 0.0 and attacked.max() <= 1.0
    before, after = loss_fn(model(x), y), loss_fn(model(attacked), y)
    assert after > before, "the attack raises the loss"


def test_robust_accuracy_is_lower_under_attack_and_restores_the_mode() -> None:
    model, loss_fn = _model(), nn.CrossEntropyLoss()
    x = torch.randn(64, 4)
    with torch.no_grad():
        y = model(x).argmax(-1)  # the model is right on every sample, before the attack
    model.train()
    clean = robust_accuracy(model, loss_fn, x, y, Attack("fgsm", 0.0))
    attacked = robust_accuracy(model, loss_fn, x, y, Attack("pgd", 0.5, steps=10, step_size=0.1))
    assert clean == 1.0 and attacked < 0.7
    assert model.training
