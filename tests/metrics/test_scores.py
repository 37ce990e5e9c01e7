"""Task scores accumulated over batches equal the same scores computed in one go."""

from __future__ import annotations

import math

import pytest
import torch

from nnstudio.metrics import TaskScores, higher_is_better, metric_names


def batches(*tensors: torch.Tensor, size: int = 7):
    for start in range(0, tensors[0].shape[0], size):
        yield tuple(t[start:start + size] for t in tensors)


def test_classification_accuracy_loss_and_confusion_matrix():
    torch.manual_seed(0)
    logits, target = torch.randn(30, 3), torch.randint(0, 3, (30,))
    scores = TaskScores("classification", 3, confusion=True)
    for out, y in batches(logits, target):
        scores.update(out, y, torch.nn.functional.cross_entropy(out, y))
    result = scores.compute()
    predicted = logits.argmax(1)
    assert result["accuracy"] == pytest.approx((predicted == target).float().mean().item())
    assert result["loss"] == pytest.approx(torch.nn.functional.cross_entropy(logits, target).item(), rel=1e-6)
    matrix = scores.confusion_matrix()
    assert sum(map(sum, matrix)) == 30
    assert matrix[1][2] == int(((target == 1) & (predicted == 2)).sum())


def test_binary_accuracy_uses_the_decision_threshold():
    output = torch.tensor([[0.2], [0.7], [0.9], [0.4]])
    target = torch.tensor([[0.0], [1.0], [0.0], [0.0]])
    probabilities = TaskScores("binary", threshold=0.5)
    probabilities.update(output, target, torch.tensor(0.0))
    assert probabilities.compute()["accuracy"] == 0.75
    logits = TaskScores("binary", threshold=0.0)
    logits.update(output - 0.5, target, torch.tensor(0.0))
    assert logits.compute()["accuracy"] == 0.75


def test_regression_rmse_mae_and_r2():
    torch.manual_seed(1)
    target = torch.randn(40, 2)
    output = target + 0.1 * torch.randn(40, 2)
    scores = TaskScores("regression")
    for out, y in batches(output, target):
        scores.update(out, y, torch.nn.functional.mse_loss(out, y))
    result = scores.compute()
    diff = (output - target).double()
    assert result["rmse"] == pytest.approx(diff.square().mean().sqrt().item())
    assert result["mae"] == pytest.approx(diff.abs().mean().item())
    sst = (target.double() - target.double().mean()).square().sum()
    assert result["r2"] == pytest.approx(1 - diff.square().sum().item() / sst.item())


def test_r2_of_a_constant_target_is_nan_not_an_error():
    scores = TaskScores("regression")
    scores.update(torch.zeros(4, 1), torch.ones(4, 1), torch.tensor(1.0))
    assert math.isnan(scores.compute()["r2"])


def test_names_and_directions():
    assert metric_names("classification") == ("loss", "accuracy")
    assert "r2" in metric_names("regression") and "r2" not in metric_names("reconstruction")
    assert higher_is_better("val_accuracy") and higher_is_better("val_r2")
    assert not higher_is_better("val_loss") and not higher_is_better("train_loss")


def test_nothing_accumulated_computes_to_nothing():
    assert TaskScores("classification", 2).compute() == {}
