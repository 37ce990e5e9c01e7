"""Each optimizer, loss and schedule builds from settings and takes real steps; penalties and clipping act."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torch import nn

from nnstudio.training import Status, Trainer
from nnstudio.training.factories import WeightPenalty, clip_gradients, make_loss, make_optimizer
from nnstudio.training.schedules import make_schedule, warmup_cosine_factor
from nnstudio.training.settings import (
    LOSSES,
    OPTIMIZERS,
    SCHEDULES,
    LossSettings,
    OptimizerSettings,
    RegularizationSettings,
    ScheduleSettings,
)
from tests.training.helpers import blobs, line, make_job


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_each_optimizer_reduces_a_loss(name):
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    x, y = torch.randn(32, 3), torch.randn(32, 1)
    settings = OptimizerSettings(name=name, lr=0.05, momentum=0.5 if name in ("sgd", "rmsprop") else 0.0,
                                 weight_decay=0.001)
    optimizer = make_optimizer(model.parameters(), settings)
    first = nn.functional.mse_loss(model(x), y).item()
    for _ in range(20):
        optimizer.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()
    assert nn.functional.mse_loss(model(x), y).item() < first
    assert optimizer.param_groups[0]["weight_decay"] == 0.001


def test_sgd_nesterov_and_adam_betas_reach_torch():
    params = [nn.Parameter(torch.zeros(2))]
    sgd = make_optimizer(params, OptimizerSettings(name="sgd", momentum=0.9, nesterov=True))
    assert sgd.param_groups[0]["nesterov"] and sgd.param_groups[0]["momentum"] == 0.9
    adamw = make_optimizer(params, OptimizerSettings(name="adamw", beta1=0.8, beta2=0.95, amsgrad=True))
    assert isinstance(adamw, torch.optim.AdamW) and adamw.param_groups[0]["betas"] == (0.8, 0.95)


CASES = {  # loss -> (task, output, target)
    "cross_entropy": ("classification", torch.randn(8, 3), torch.randint(0, 3, (8,))),
    "nll": ("classification", torch.randn(8, 3).log_softmax(-1), torch.randint(0, 3, (8,))),
    "bce": ("binary", torch.rand(8, 1), torch.randint(0, 2, (8, 1)).float()),
    "bce_with_logits": ("binary", torch.randn(8, 1), torch.randint(0, 2, (8, 1)).float()),
    "mse": ("regression", torch.randn(8, 2), torch.randn(8, 2)),
    "l1": ("regression", torch.randn(8, 2), torch.randn(8, 2)),
    "huber": ("regression", torch.randn(8, 2) * 5, torch.randn(8, 2)),
}


@pytest.mark.parametrize("name", [n for n in LOSSES if n != "auto"])
def test_each_loss_gives_a_finite_differentiable_value(name):
    task, output, target = CASES[name]
    output = output.clone().requires_grad_()
    loss = make_loss(LossSettings(name=name), task)(output, target)
    loss.backward()
    assert loss.ndim == 0 and math.isfinite(loss.item()) and output.grad is not None


def test_auto_loss_follows_the_task():
    assert isinstance(make_loss(LossSettings(), "classification"), nn.CrossEntropyLoss)
    assert isinstance(make_loss(LossSettings(), "binary"), nn.BCEWithLogitsLoss)
    assert isinstance(make_loss(LossSettings(), "regression"), nn.MSELoss)


def test_class_weights_and_label_smoothing_change_cross_entropy():
    output, target = torch.randn(16, 3), torch.randint(0, 3, (16,))
    plain = make_loss(LossSettings(name="cross_entropy"), "classification")(output, target)
    weighted = make_loss(LossSettings(name="cross_entropy", class_weights=[1.0, 5.0, 0.1]), "classification")
    smoothed = make_loss(LossSettings(name="cross_entropy", label_smoothing=0.2), "classification")
    assert weighted(output, target) != plain and smoothed(output, target) != plain
    expected = nn.functional.cross_entropy(output, target, weight=torch.tensor([1.0, 5.0, 0.1]))
    assert torch.equal(weighted(output, target), expected)


def test_class_index_losses_accept_per_position_outputs():
    output, target = torch.randn(4, 5, 3), torch.randint(0, 3, (4, 5))
    loss = make_loss(LossSettings(name="cross_entropy"), "classification", output_rank=2)
    assert torch.equal(loss(output, target), nn.functional.cross_entropy(output.reshape(-1, 3), target.reshape(-1)))


@pytest.mark.parametrize("name", SCHEDULES)
def test_each_schedule_steps_and_changes_the_rate_as_declared(name):
    params = [nn.Parameter(torch.zeros(1))]
    optimizer = make_optimizer(params, OptimizerSettings(name="sgd", lr=1.0, momentum=0.9))
    settings = ScheduleSettings(name=name, step_size=2, milestones=[2, 3], warmup_epochs=1, restart_epochs=2,
                                patience=0, monitor="train_loss")
    schedule = make_schedule(optimizer, settings, epochs=4, steps_per_epoch=5)
    rates = []
    for _ in range(4):
        for _step in range(5):
            optimizer.step()
            schedule.after_step()
        schedule.after_epoch({"train_loss": 1.0})  # never improves: plateau drops
        rates.append(optimizer.param_groups[0]["lr"])
    if name == "constant":
        assert rates == [1.0] * 4
    else:
        assert len(set(rates)) > 1, rates
        assert all(0 <= r <= 1.0 + 1e-9 for r in rates)
    if name == "step":
        assert rates == pytest.approx([1.0, 0.1, 0.1, 0.01])
    if name == "multistep":
        assert rates == pytest.approx([1.0, 0.1, 0.01, 0.01])
    if name == "exponential":
        assert rates == pytest.approx([0.95, 0.95**2, 0.95**3, 0.95**4])


def test_warmup_cosine_ramps_then_decays():
    factor = warmup_cosine_factor(warmup=4, total=20, floor=0.1)
    values = [factor(s) for s in range(20)]
    assert values[:4] == [0.25, 0.5, 0.75, 1.0]
    assert values[4] == 1.0 and values[-1] == pytest.approx(0.1, abs=0.01)
    assert all(a >= b for a, b in itertools.pairwise(values[4:]))


def test_weight_penalty_is_elastic_net_over_matrices_only():
    layer = nn.Linear(2, 2)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, -2.0], [3.0, 0.0]]))
        layer.bias.fill_(10.0)
    penalty = WeightPenalty(layer.parameters(), RegularizationSettings(l1=0.5, l2=0.25))
    assert penalty.active
    assert penalty().item() == pytest.approx(0.5 * 6 + 0.25 * 14)
    assert not WeightPenalty(layer.parameters(), RegularizationSettings()).active


def test_gradient_clipping_by_norm_and_by_value():
    params = [nn.Parameter(torch.zeros(4))]
    params[0].grad = torch.tensor([3.0, 4.0, 0.0, 0.0])
    clip_gradients(params, RegularizationSettings(clip="norm", max_norm=1.0))
    assert params[0].grad.norm().item() == pytest.approx(1.0, rel=1e-4)
    params[0].grad = torch.tensor([3.0, -4.0, 0.5, 0.0])
    clip_gradients(params, RegularizationSettings(clip="value", clip_value=1.0))
    assert params[0].grad.tolist() == [1.0, -1.0, 0.5, 0.0]


@pytest.mark.parametrize("extra", [
    {"regularization": {"l1": 1e-4, "l2": 1e-4, "clip": "norm", "max_norm": 0.5}},
    {"regularization": {"clip": "value", "clip_value": 0.1}},
    {"optimizer": {"name": "rmsprop", "lr": 0.01, "momentum": 0.5}},
    {"schedule": {"name": "one_cycle"}},
    {"schedule": {"name": "plateau", "monitor": "val_accuracy"}},
    {"precision": "bf16"},
])
def test_settings_combinations_train_in_the_engine(extra):
    result = Trainer(make_job({"epochs": 2, "optimizer": {"lr": 0.05}, **extra})).run()
    assert result.status is Status.FINISHED, result.message
    assert math.isfinite(result.metrics["train_loss"])


def test_binary_task_reports_accuracy_with_bce_with_logits():
    data = blobs(classes=2).with_task("binary")
    result = Trainer(make_job({"epochs": 3, "optimizer": {"lr": 0.05}}, data=data, outputs=1)).run()
    assert result.status is Status.FINISHED and 0 <= result.metrics["val_accuracy"] <= 1


def test_huber_regression_trains():
    job = make_job({"epochs": 2, "loss": {"name": "huber", "huber_delta": 0.5}}, data=line(), inputs=1, outputs=1)
    assert Trainer(job).run().status is Status.FINISHED
