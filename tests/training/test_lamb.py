"""LAMB against the paper's update rule (You et al. 2019, Algorithm 2), computed by hand in plain floats."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

from nnstudio.model.graph import NodeTraining
from nnstudio.training import Status, Trainer
from nnstudio.training.factories import make_optimizer
from nnstudio.training.lamb import Lamb
from nnstudio.training.settings import OptimizerSettings, applies, parse_settings
from tests.training.helpers import make_job


def _by_hand(w: list[float], grads: list[list[float]], lr: float, b1: float, b2: float, eps: float,
             wd: float) -> list[float]:
    """The paper's rule, one tensor, step by step: Adam moments, bias correction, trust ratio."""
    m = [0.0] * len(w)
    v = [0.0] * len(w)
    for t, g in enumerate(grads, start=1):
        m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(m, g)]
        v = [b2 * vi + (1 - b2) * gi * gi for vi, gi in zip(v, g)]
        m_hat = [mi / (1 - b1**t) for mi in m]
        v_hat = [vi / (1 - b2**t) for vi in v]
        r = [mh / (math.sqrt(vh) + eps) + wd * wi for mh, vh, wi in zip(m_hat, v_hat, w)]
        w_norm = math.sqrt(sum(x * x for x in w))
        r_norm = math.sqrt(sum(x * x for x in r))
        ratio = w_norm / r_norm if w_norm > 0 and r_norm > 0 else 1.0
        w = [wi - lr * ratio * ri for wi, ri in zip(w, r)]
    return w


def _steps(start: list[float], grads: list[list[float]], **settings) -> list[float]:
    p = nn.Parameter(torch.tensor(start, dtype=torch.float64))
    optimizer = Lamb([p], **settings)
    for g in grads:
        p.grad = torch.tensor(g, dtype=torch.float64)
        optimizer.step()
    return p.detach().tolist()


GRADS = [[0.5, -1.0, 2.0], [0.1, 0.3, -0.4], [-1.5, 0.2, 0.0], [0.7, 0.7, 0.7]]


@pytest.mark.parametrize("wd", [0.0, 0.01])
def test_four_steps_match_the_paper(wd):
    settings = {"lr": 0.05, "betas": (0.9, 0.999), "eps": 1e-6, "weight_decay": wd}
    start = [1.0, -2.0, 0.5]
    ours = _steps(start, GRADS, **settings)
    hand = _by_hand(start, GRADS, 0.05, 0.9, 0.999, 1e-6, wd)
    assert ours == pytest.approx(hand, rel=1e-12, abs=1e-14)
    # the trust ratio really acts: plain Adam's step differs
    adam = nn.Parameter(torch.tensor(start, dtype=torch.float64))
    plain = torch.optim.Adam([adam], lr=0.05, eps=1e-6)
    for g in GRADS:
        adam.grad = torch.tensor(g, dtype=torch.float64)
        plain.step()
    assert adam.detach().tolist() != pytest.approx(ours, rel=1e-3)


def test_the_step_is_proportional_to_the_weight_norm():
    """Each tensor moves by lr·‖w‖ per step, whatever its gradient's scale: the point of the trust ratio."""
    for scale in (1e-3, 1.0, 1e3):
        p = nn.Parameter(torch.tensor([3.0, 4.0], dtype=torch.float64))
        optimizer = Lamb([p], lr=0.1)
        p.grad = torch.tensor([1.0, -2.0], dtype=torch.float64) * scale
        optimizer.step()
        moved = (p.detach() - torch.tensor([3.0, 4.0], dtype=torch.float64)).norm().item()
        assert moved == pytest.approx(0.1 * 5.0, rel=1e-9)


def test_a_zero_tensor_takes_the_plain_step():
    """A fresh zero bias has ‖w‖ = 0: the ratio is 1, so it moves by lr · r (≈ lr · sign(g) on step one)."""
    zero = [0.0, 0.0, 0.0]
    ours = _steps(zero, GRADS[:1], lr=0.01)
    assert ours == pytest.approx(_by_hand(zero, GRADS[:1], 0.01, 0.9, 0.999, 1e-6, 0.0), rel=1e-12)
    assert ours == pytest.approx([-0.01, 0.01, -0.01], rel=1e-5)
    assert _steps([1.0, 2.0], [[0.0, 0.0]], lr=0.01) == [1.0, 2.0]  # ‖r‖ = 0: nothing moves, nothing divides by 0


def test_bad_hyperparameters_are_refused():
    with pytest.raises(ValueError, match="betas"):
        Lamb([nn.Parameter(torch.zeros(1))], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="lr > 0"):
        Lamb([nn.Parameter(torch.zeros(1))], lr=0.0)


def test_settings_choose_lamb_and_reuse_the_adam_fields():
    settings, problems = parse_settings({"optimizer": {"name": "lamb", "lr": 0.02, "beta1": 0.8, "beta2": 0.99,
                                                       "eps": 1e-7, "weight_decay": 0.01}})
    assert problems == []
    for name in ("beta1", "beta2", "eps", "weight_decay", "lr"):
        assert applies(OptimizerSettings, name, "lamb"), name
    for name in ("momentum", "nesterov", "alpha", "amsgrad"):
        assert not applies(OptimizerSettings, name, "lamb"), name
    optimizer = make_optimizer([nn.Parameter(torch.zeros(2))], settings.optimizer)
    assert isinstance(optimizer, Lamb)
    assert optimizer.defaults == {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-7, "weight_decay": 0.01}


def test_its_state_resumes_bitwise():
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    x, y = torch.randn(16, 4), torch.randn(16, 2)

    def step(m, opt):
        opt.zero_grad()
        nn.functional.mse_loss(m(x), y).backward()
        opt.step()

    straight = Lamb(model.parameters(), lr=0.01, weight_decay=0.01)
    twin = nn.Linear(4, 2)
    for _ in range(2):
        step(model, straight)
    saved_model = {k: v.clone() for k, v in model.state_dict().items()}
    saved = copy.deepcopy(straight.state_dict())  # as a checkpoint writes it
    step(model, straight)
    twin.load_state_dict(saved_model)
    resumed = Lamb(twin.parameters(), lr=0.01, weight_decay=0.01)
    resumed.load_state_dict(saved)
    step(twin, resumed)
    for a, b in zip(model.parameters(), twin.parameters()):
        assert torch.equal(a, b)


def test_a_run_trains_with_lamb_and_per_node_learning_rates():
    job = make_job({"epochs": 4, "optimizer": {"name": "lamb", "lr": 0.05}})
    first = next(n for n in job.project.graph.nodes.values() if n.type == "Linear")
    job.project.graph.set_node_training(first.id, NodeTraining(lr_scale=0.5))
    trainer = Trainer(job)
    result = trainer.run()
    assert result.status is Status.FINISHED, result.message
    assert [g["lr"] for g in trainer.optimizer.param_groups] == pytest.approx([0.05, 0.025])
    assert result.metrics["val_accuracy"] > 0.9  # three well-separated blobs; chance is 1/3
