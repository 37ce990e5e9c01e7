"""LR range test: the schedule, the smoothing, and a sensible suggestion on spirals."""

from __future__ import annotations

import itertools
import math

import pytest

from nnstudio.examples import EXAMPLES
from nnstudio.io import load
from nnstudio.training.job import prepare
from nnstudio.training.sanity import FAIL, PASS, CheckOptions, SanityContext, run_checks
from nnstudio.training.sanity.lr_range import centred, rates
from tests.training.helpers import line
from tests.training.sanity_helpers import FAST, context


def test_the_rates_rise_exponentially_from_start_to_end():
    values = rates(1e-7, 10.0, 100)
    assert values[0] == pytest.approx(1e-7) and values[-1] == pytest.approx(10.0)
    ratios = {round(b / a, 9) for a, b in itertools.pairwise(values)}
    assert len(ratios) == 1


def test_the_curve_smoothing_has_no_lag():
    assert centred([0, 0, 10, 0, 0], window=3) == pytest.approx([0, 10 / 3, 10 / 3, 10 / 3, 0])
    assert centred([1.0, 2.0, 3.0, 4.0, 5.0], window=5)[2] == 3.0


def test_on_spirals_it_suggests_a_rate_between_1e_4_and_1():
    project = load(EXAMPLES["spirals"].path)
    project.dataset = {"name": "spirals", "params": {"samples": 400}}
    ctx = SanityContext(prepare(project))
    [result] = run_checks(ctx, CheckOptions(lr_steps=100), ["lr-range"])
    assert result.status == PASS, result.summary
    assert 1e-4 <= result.figures["suggested_lr"] <= 1
    assert result.figures["suggested_lr"] == pytest.approx(result.figures["min_loss_lr"] / 10)
    assert len(result.curve["lr"]) == len(result.curve["loss"]) == len(result.curve["smoothed"])
    assert result.figures["steps"] <= 100


def test_it_stops_once_the_loss_explodes():
    training = {"task": "regression", "optimizer": {"name": "sgd", "lr": 0.1}}  # SGD's steps grow with the rate
    ctx = context(training=training, data=line(), inputs=1, outputs=1)
    [result] = run_checks(ctx, CheckOptions(lr_steps=80, lr_end=1e6), ["lr-range"])
    assert result.curve["lr"][-1] < 1e6
    assert "exploded" in result.figures["stopped"] or "became" in result.figures["stopped"]
    assert all(math.isfinite(v) for v in result.curve["loss"])


def test_a_frozen_model_fails_the_range_test():
    [result] = run_checks(context(frozen=True), FAST, ["lr-range"])
    assert result.status == FAIL and "frozen" in result.summary
