"""Initial loss: ln C for classifiers, mean(y²) for MSE, term by term for objective graphs."""

from __future__ import annotations

import math

import torch

from nnstudio.training.sanity import FAIL, PASS, run_checks
from nnstudio.training.sanity.initial_loss import within
from tests.training.helpers import line
from tests.training.sanity_helpers import FAST, context


def _last_linear(ctx):
    return [m for m in ctx.module.modules() if isinstance(m, torch.nn.Linear)][-1]


def test_a_zero_initialised_last_layer_starts_at_exactly_ln_c():
    ctx = context()
    last = _last_linear(ctx)
    with torch.no_grad():
        last.weight.zero_()
        last.bias.zero_()
    ctx._initial = {k: v.clone() for k, v in ctx.module.state_dict().items()}
    [result] = run_checks(ctx, FAST, ["initial-loss"])
    assert result.status == PASS
    assert result.figures["value"] == pytest_approx(math.log(3))
    assert result.figures["expected"] == pytest_approx(math.log(3))
    assert "ln 3" in result.summary


def pytest_approx(value):
    import pytest

    return pytest.approx(value, abs=1e-5)


def test_a_huge_last_layer_fails_with_what_that_means():
    ctx = context()
    with torch.no_grad():
        _last_linear(ctx).weight.mul_(200.0)
    ctx._initial = {k: v.clone() for k, v in ctx.module.state_dict().items()}
    [result] = run_checks(ctx, FAST, ["initial-loss"])
    assert result.status == FAIL
    assert result.figures["value"] > 2 * math.log(3)
    assert "last layer starts too large" in result.advice


def test_regression_compares_with_the_cost_of_predicting_zero():
    ctx = context(training={"task": "regression"}, data=line(), inputs=1, outputs=1)
    [result] = run_checks(ctx, FAST, ["initial-loss"])
    expected = float(ctx.trainer.y.double().square().mean())
    assert result.figures["expected"] == pytest_approx(expected)
    assert "var(y)" in result.summary


def test_the_tolerances_are_the_documented_ones():
    assert within(math.log(10) * 1.2, math.log(10), "relative")
    assert not within(math.log(10) * 1.3, math.log(10), "relative")
    assert within(1.9, 1.0, "factor") and not within(2.1, 1.0, "factor") and not within(0.4, 1.0, "factor")
    assert not within(float("nan"), 1.0, "relative")
