"""Robust accuracy against ε: clean at ε = 0, falling as ε grows, PGD at least as strong as FGSM, the same
numbers as attacks.robust_accuracy, and one-line refusals for models it does not apply to."""

from __future__ import annotations

from itertools import pairwise

import pytest
import torch
from torch import nn

from nnstudio.model.builder import GraphBuilder
from nnstudio.training.attacks import robust_accuracy
from nnstudio.training.robustness import (
    RobustnessError,
    attack_curve,
    attack_for,
    default_epsilons,
    parse_epsilons,
    robustness_curve,
    robustness_problem,
)
from tests.objective_graphs import two_heads

GRID = [0.0, 0.05, 0.1, 0.2, 0.3]


@pytest.fixture(scope="module")
def trained():
    """An MLP that learned 3 classes of points in [0, 1]^6 (well above chance), with its held-out points."""
    torch.manual_seed(0)
    centres = torch.rand(3, 6)
    y = torch.randint(0, 3, (600,))
    x = (centres[y] + 0.12 * torch.randn(600, 6)).clamp(0, 1)
    model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 3))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(150):
        optimizer.zero_grad()
        loss_fn(model(x[:400]), y[:400]).backward()
        optimizer.step()
    return model, loss_fn, x[400:], y[400:]


def test_epsilon_zero_is_the_clean_accuracy_and_fgsm_falls_as_epsilon_grows(trained):
    model, loss_fn, x, y = trained
    with torch.no_grad():
        clean = float((model(x).argmax(-1) == y).float().mean())
    curve = attack_curve(model, loss_fn, x, y, "fgsm", GRID, (0.0, 1.0))
    assert curve.epsilons == GRID and curve.count == len(x) == curve.predictions
    assert clean > 0.9, "the model learned the task, so there is accuracy to lose"
    assert curve.points[0].accuracy == pytest.approx(clean) and curve.points[0].flipped == 0
    accuracies = curve.accuracies
    assert all(later <= earlier + 0.02 for earlier, later in pairwise(accuracies)), accuracies
    assert accuracies[-1] < clean - 0.3, "ε = 0.3 of the range breaks a model trained without attacks"
    flips = [p.flipped for p in curve.points]
    assert flips[-1] > flips[1] and flips[-1] >= round((clean - accuracies[-1]) * len(x)), flips


def test_pgd_is_at_least_as_strong_as_fgsm_and_matches_robust_accuracy(trained):
    model, loss_fn, x, y = trained
    fgsm = attack_curve(model, loss_fn, x, y, "fgsm", GRID, (0.0, 1.0))
    pgd = attack_curve(model, loss_fn, x, y, "pgd", GRID, (0.0, 1.0), seed=3)
    for f, p in zip(fgsm.points, pgd.points):  # a few samples of slack: PGD starts from a random point
        assert p.accuracy <= f.accuracy + 0.025, (f, p)
    assert pgd.points[-1].accuracy <= 0.05 and pgd.points[0].accuracy == fgsm.points[0].accuracy
    expected = robust_accuracy(model, loss_fn, x, y, attack_for("pgd", 0.1, (0.0, 1.0)), seed=3)
    assert pgd.points[2].accuracy == pytest.approx(expected)


def test_attacked_inputs_stay_in_the_data_range_and_the_model_keeps_its_mode(trained):
    model, loss_fn, x, y = trained
    model.train()
    attack_curve(model, loss_fn, x, y, "pgd", [0.1], (0.0, 1.0))
    assert model.training
    attack = attack_for("pgd", 0.2, (0.0, 1.0))
    assert (attack.low, attack.high) == (0.0, 1.0) and attack.step_size == pytest.approx(2.5 * 0.2 / attack.steps)


def test_the_default_grid_is_relative_to_the_data_range_and_eps_are_parsed():
    assert default_epsilons(0.0, 1.0) == [0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3]
    assert default_epsilons(-2.0, 3.0) == [0.0, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5]
    assert parse_epsilons("0.1, 0,0.05,0.1") == [0.0, 0.05, 0.1]
    with pytest.raises(RobustnessError, match=r"--eps: ε must be a finite number >= 0, got -0.1"):
        parse_epsilons("0,-0.1")
    with pytest.raises(RobustnessError, match=r"--eps: expected comma-separated numbers, got 'x'"):
        parse_epsilons("0.1,x")


def _project(first: tuple, dataset: dict, layers: list) -> GraphBuilder:
    b = GraphBuilder(name="p")
    b.sequential(first, *layers, "Output")
    b.project.dataset = dataset
    b.project.training = {"epochs": 1}
    return b


def test_a_job_curve_starts_at_the_accuracy_evaluate_reports():
    from nnstudio.training import prepare
    from nnstudio.training.evaluation import evaluate_job

    b = _project(("Input", {"shape": [2]}), {"name": "blobs"}, [("Linear", {"out_features": 3})])
    job = prepare(b.project)
    curve, report = robustness_curve(job, "fgsm", [0.0, 0.5]), evaluate_job(job)
    assert curve.split == report.split and curve.count == report.count
    assert curve.points[0].accuracy == pytest.approx(report.metrics["accuracy"])
    assert f"robust accuracy under FGSM ({report.split} split, {report.count} samples" in curve.text()


def test_models_without_a_curve_are_refused_in_one_line():
    from nnstudio.training import prepare

    regression = _project(("Input", {"shape": [1]}), {"name": "sine"}, [("Linear", {"out_features": 1})])
    assert robustness_problem(prepare(regression.project)) == (
        "robustness: robust accuracy needs a classifier, and this model's task is regression")
    tokens = _project(("Input", {"shape": [16], "dtype": "int64"}), {"name": "token_majority"},
                      [("Embedding", {"num_embeddings": 8, "embedding_dim": 4}), "Flatten",
                       ("Linear", {"out_features": 2})])
    with pytest.raises(RobustnessError, match=r"reads token ids \(whole numbers\), which have no gradient"):
        robustness_curve(prepare(tokens.project), "fgsm")
    with pytest.raises(RobustnessError, match="declares its own objective"):
        robustness_curve(prepare(two_heads().project), "pgd")


def test_a_binary_output_is_attacked_through_its_own_threshold():
    torch.manual_seed(1)
    x = torch.rand(300, 2)
    y = (x[:, :1] > 0.5).float()  # [N, 1] targets, as binary datasets give them
    model = nn.Linear(2, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(200):
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
    with torch.no_grad():
        clean = float(((model(x) > 0).float() == y).float().mean())
    curve = attack_curve(model, loss_fn, x, y, "fgsm", [0.0, 0.1, 0.3], (0.0, 1.0), task="binary", threshold=0.0)
    assert curve.predictions == 300 and clean > 0.9 and curve.points[0].accuracy == pytest.approx(clean)
    assert curve.points[2].accuracy < curve.points[1].accuracy < clean
    assert curve.points[2].flipped > 0
