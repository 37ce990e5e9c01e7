"""Overfit one batch: a correct MLP memorises it; a frozen model fails and says why."""

from __future__ import annotations

from nnstudio.training.sanity import FAIL, PASS, run_checks
from tests.training.sanity_helpers import FAST, context


def test_a_correct_mlp_overfits_one_batch():
    [result] = run_checks(context(), FAST, ["overfit-batch"])
    assert result.status == PASS, result.summary
    assert result.figures["accuracy"] == 1.0 or result.figures["end"] <= 0.05 * result.figures["start"]
    assert result.figures["steps"] <= 200


def test_a_model_with_everything_frozen_fails_with_the_reason():
    [result] = run_checks(context(frozen=True), FAST, ["overfit-batch"])
    assert result.status == FAIL
    assert "every node is frozen" in result.summary
    assert "wiring bug" in result.advice and "capacity" in result.advice


def test_too_few_steps_fail_and_report_the_figures():
    ctx = context(training={"optimizer": {"name": "adam", "lr": 1e-6}})
    [result] = run_checks(ctx, FAST, ["overfit-batch"])
    assert result.status == FAIL
    assert result.figures["steps"] == 200 and result.figures["lr"] == 1e-6
    assert f"{result.figures['start']:.4g}" in result.summary
