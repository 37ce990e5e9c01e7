"""The training.health rules on small synthetic sequences: each rule that can fire fires, and only then."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnstudio.training.health import RULES, DivergenceWatch, Health, StallWatch, activation_interval
from nnstudio.training.settings import HealthSettings

DOC = Path(__file__).resolve().parents[2] / "docs" / "health.md"


def feed(watch: DivergenceWatch, losses: list[float]) -> list[str | None]:
    return [watch.loss(value) for value in losses]


def test_divergence_fires_after_patience_samples_above_factor_times_the_early_median():
    watch = DivergenceWatch(HealthSettings(divergence_factor=1000.0, divergence_patience=3, baseline_samples=3))
    said = feed(watch, [1.0, 0.9, 0.8, 5e3, 1e5])
    assert said == [None] * 5  # two samples above the limit of 900: not yet
    message = watch.loss(1e7)
    assert message is not None and "above 900 (1000× 0.9, the median of the first 3 sampled losses)" in message
    assert "for 3 samples in a row, now 1e+07" in message


def test_one_spike_does_not_stop_a_run():
    watch = DivergenceWatch(HealthSettings(divergence_patience=3, baseline_samples=2))
    assert feed(watch, [1.0, 1.0, 5e6, 0.5, 5e6, 0.4, 5e6, 5e6, 0.3]) == [None] * 9


def test_an_explosion_inside_the_baseline_window_still_counts():
    # the median of [1, 1, huge] is 1: one early explosion does not lift its own limit
    watch = DivergenceWatch(HealthSettings(divergence_patience=2, baseline_samples=3))
    assert feed(watch, [1.0, 1.0, 1e9]) == [None, None, None]
    assert watch.loss(1e12) is not None


def test_divergence_factor_0_turns_the_rule_off_and_a_zero_baseline_scales_nothing():
    off = DivergenceWatch(HealthSettings(divergence_factor=0.0, divergence_patience=1))
    assert feed(off, [1.0, 1e30, 1e30]) == [None] * 3
    zero = DivergenceWatch(HealthSettings(divergence_patience=1, baseline_samples=1))
    assert feed(zero, [0.0, 1e30]) == [None, None]


def test_epoch_mean_counts_only_while_the_latest_sample_is_above_the_limit():
    watch = DivergenceWatch(HealthSettings(divergence_patience=5, baseline_samples=1))
    watch.loss(1.0)
    watch.loss(1e9)  # above, streak 1 of 5
    assert watch.epoch_loss(2, 1e8) is not None and "epoch 2" in watch.epoch_loss(2, 1e8)
    watch.loss(0.5)  # back to normal: a mean lifted by an earlier spike is no divergence
    assert watch.epoch_loss(3, 1e8) is None


def test_seed_takes_the_early_losses_of_the_run_a_checkpoint_continues():
    watch = DivergenceWatch(HealthSettings(divergence_patience=1, baseline_samples=2))
    watch.seed([2.0, float("nan"), 4.0, 100.0])
    assert watch.limit == pytest.approx(3000.0)
    assert not Health(HealthSettings()).divergence.early


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(min_value=0.1, max_value=10.0), min_size=1, max_size=40))
def test_losses_that_never_rise_past_the_factor_never_stop_a_run(losses):
    watch = DivergenceWatch(HealthSettings(divergence_factor=1000.0, divergence_patience=1, baseline_samples=5))
    assert all(m is None for m in feed(watch, losses))  # every loss is at most 100 × any other


def epochs(watch: StallWatch, rows: list[dict[str, float]]) -> list[list[str]]:
    return [[f.rule for f in watch.epoch(i + 1, 10 * (i + 1), row)] for i, row in enumerate(rows)]


def test_plateau_fires_once_when_the_loss_stops_moving_for_stall_epochs():
    watch = StallWatch(HealthSettings(stall_epochs=3, plateau_tolerance=1e-3))
    rules = epochs(watch, [{"train_loss": v} for v in (1.0, 0.5, 0.4, 0.40001, 0.40002, 0.4)])
    assert rules == [[], [], [], [], ["plateau"], []]


def test_a_loss_that_keeps_falling_is_no_plateau():
    watch = StallWatch(HealthSettings(stall_epochs=3))
    assert epochs(watch, [{"train_loss": 0.9**i} for i in range(20)]) == [[]] * 20


def test_vanishing_gradients_need_every_sample_below_the_threshold_for_stall_epochs():
    watch = StallWatch(HealthSettings(stall_epochs=2, vanishing_gradient_norm=1e-7))
    found = []
    for norms in ([1e-8, 1e-9], [1e-8, 1e-3], [1e-9], [], [1e-10]):
        for n in norms:
            watch.grad_norm(n)
        found.append([f.rule for f in watch.epoch(len(found) + 1, 0, {})])
    assert found == [[], [], [], [], ["vanishing_gradients"]]  # an epoch without samples neither counts nor resets


def test_overfitting_fires_when_val_rises_for_overfit_epochs_while_train_falls():
    watch = StallWatch(HealthSettings(overfit_epochs=2))
    rows = [{"train_loss": t, "val_loss": v} for t, v in ((1.0, 1.0), (0.8, 0.7), (0.6, 0.75), (0.5, 0.8), (0.4, 0.9))]
    assert epochs(watch, rows) == [[], [], [], ["overfitting"], []]


def test_val_rising_with_train_rising_too_is_not_overfitting():
    watch = StallWatch(HealthSettings(overfit_epochs=2))
    rows = [{"train_loss": t, "val_loss": v} for t, v in ((1.0, 1.0), (1.1, 1.2), (1.2, 1.3), (1.3, 1.4))]
    assert epochs(watch, rows) == [[]] * 4


def test_findings_read_with_their_rules_advice_and_stop_only_when_asked():
    for stop in (False, True):
        health = Health(HealthSettings(stall_epochs=2, stop_on_findings=stop))
        health.end_epoch(1, 5, {"train_loss": 1.0})
        assert not health.should_stop
        [finding] = health.end_epoch(2, 10, {"train_loss": 1.0})
        assert health.should_stop is stop
        assert finding.text().endswith(RULES["plateau"].advice + ".")
        assert finding.to_json() == {
            "kind": "finding",
            "rule": "plateau",
            "epoch": 2,
            "step": 10,
            "message": finding.text(),
        }


def test_activation_sampling_scales_with_the_run_and_keeps_an_explicit_setting():
    assert activation_interval(None, 255) == 25  # digits: 10 samples instead of none
    assert activation_interval(None, 50) == 25
    assert activation_interval(None, 100_000) == 1000
    assert activation_interval(500, 255) == 500 and activation_interval(0, 255) == 0


def test_docs_health_lists_every_rule_and_setting():
    text = DOC.read_text(encoding="utf-8")
    for rule in RULES.values():
        assert f"`{rule.name}`" in text and rule.advice in text, rule.name
    for name in (f.name for f in fields(HealthSettings)):
        assert f"`{name}`" in text, name
