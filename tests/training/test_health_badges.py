"""Per-node health badges: every rule at every level it can reach, from synthetic statistics and from real tiny
runs that go wrong; the probe's dead-unit share; the timeline the scrubber replays; the docs table."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from nnstudio.examples import EXAMPLES
from nnstudio.io import load
from nnstudio.metrics.layers import ActivationProbe, dead_unit_fraction
from nnstudio.training.engine import Trainer
from nnstudio.training.health_badges import (
    BADGE_RULES,
    HealthTracker,
    Level,
    link_sources,
    link_strength,
    saturated_fraction,
    weight_norm,
)
from nnstudio.training.job import prepare
from tests.training.helpers import make_job

TYPES = {"fc1": "Linear", "relu": "ReLU", "fc2": "Linear", "sig": "Sigmoid", "tanh": "Tanh"}


def act(dead: float = 0.0, nonfinite: float = 0.0, lo: float = 0.0, hi: float = 1.0,
        counts: list[int] | None = None) -> dict:
    return {"mean": 0.3, "std": 0.2, "zero_fraction": dead, "nonfinite_fraction": nonfinite, "dead_fraction": dead,
            "hist": {"lo": lo, "hi": hi, "counts": counts or [5, 5, 5, 5]}}


def weights(mean: float = 0.0, std: float = 0.5, n: int = 100, nonfinite: float = 0.0) -> dict:
    return {"mean": mean, "std": std, "zero_fraction": 0.0, "nonfinite_fraction": nonfinite,
            "hist": {"lo": -1.0, "hi": 1.0, "counts": [n // 2, n - n // 2]}}


def reading(tracker: HealthTracker, node: str, rule: str):
    health = tracker.timeline[-1].nodes[node]
    return next(r for r in health.readings if r.rule == rule)


def feed(lr: float = 0.01, grads: dict | None = None, acts: dict | None = None, w: dict | None = None):
    tracker = HealthTracker(TYPES)
    records = [{"kind": "step", "epoch": 1, "step": 5, "loss": 1.0, "lr": lr}]
    if w is not None:
        records.append({"kind": "weights", "epoch": 1, "step": 5, "layers": w})
    if grads is not None:
        records.append({"kind": "grads", "epoch": 1, "step": 5, "global_norm": 1.0, "layers": grads})
    if acts is not None:
        records.append({"kind": "activations", "epoch": 1, "step": 5, "layers": acts})
    tracker.ingest(records)
    return tracker


@pytest.mark.parametrize(("norm", "other", "level"), [(0.1, 0.2, Level.OK), (1e-6, 100.0, Level.WATCH),
                                                       (1e-9, 1e-9, Level.BAD)])
def test_gradient_rule_flags_a_vanished_and_a_fading_gradient(norm, other, level):
    found = reading(feed(grads={"fc1": norm, "fc2": other}), "fc1", "gradient")
    assert found.level is level
    if level is Level.BAD:
        assert "vanished" in found.text() and "He or Xavier initialisation" in found.text()
    if level is Level.WATCH:
        assert "fades on its way back" in found.text()


@pytest.mark.parametrize(("lr", "level", "words"), [(1e-3, Level.OK, "about 1.0e-03"),
                                                     (2e-2, Level.WATCH, "more than the healthy"),
                                                     (1.0, Level.BAD, "learning rate is too high"),
                                                     (1e-6, Level.WATCH, "learns very slowly")])
def test_update_ratio_is_lr_times_the_gradient_over_the_weight_norm(lr, level, words):
    # ‖w‖ = sqrt(100 × 0.5²) = 5 and ‖g‖ = 5: the ratio is the learning rate itself
    found = reading(feed(lr=lr, grads={"fc1": 5.0}, w={"fc1": weights()}), "fc1", "update_ratio")
    assert found.value == pytest.approx(lr) and found.level is level and words in found.text()


def test_no_update_ratio_before_the_first_weight_summary():
    health = feed(grads={"fc1": 5.0}).timeline[-1].nodes["fc1"]
    assert {r.rule for r in health.readings} == {"gradient", "nonfinite"}


@pytest.mark.parametrize(("dead", "level"), [(0.2, Level.OK), (0.6, Level.WATCH), (0.82, Level.BAD)])
def test_dead_units_after_a_relu(dead, level):
    found = reading(feed(acts={"relu": act(dead=dead)}), "relu", "dead_units")
    assert found.level is level
    if level is Level.BAD:
        assert found.text() == ("82 % of relu's units output zero for every sample of the last sampled batch: they "
                                "have died and no longer learn. Try LeakyReLU, a lower learning rate, or He "
                                "initialisation.")


def test_dead_units_are_read_only_for_relu_nodes():
    health = feed(acts={"fc1": act(dead=0.9)}).timeline[-1].nodes["fc1"]
    assert "dead_units" not in {r.rule for r in health.readings}


@pytest.mark.parametrize(("node", "lo", "hi", "counts", "level"), [
    ("sig", 0.0, 1.0, [1, 8, 8, 1], Level.OK),
    ("sig", 0.0, 1.0, [0] * 99 + [40] + [0] * 0, Level.BAD),  # every output in the top bin, above 0.99
    ("tanh", -1.0, 1.0, [30] + [0] * 98 + [10], Level.WATCH),  # 40 of 100 at the bounds: 0.4 × ... see below
])
def test_saturation_of_sigmoid_and_tanh_read_from_the_histogram(node, lo, hi, counts, level):
    if node == "tanh":  # 100 bins over [-1, 1]: the outer bins lie inside the 0.02 margin; add 60 in the middle
        counts = list(counts)
        counts[50] = 60
    found = reading(feed(acts={node: act(lo=lo, hi=hi, counts=counts)}), node, "saturation")
    assert found.level is level
    if level is not Level.OK:
        assert "less than 4 % of the gradient" in found.text() and "Xavier initialisation" in found.text()


def test_saturated_fraction_counts_partly_covered_bins_in_proportion():
    # two bins over [0.98, 1.0] for a sigmoid: the zone above 0.99 covers half of the upper bin
    assert saturated_fraction({"lo": 0.98, "hi": 1.0, "counts": [0, 10]}, (0.0, 1.0)) == pytest.approx(1.0)
    assert saturated_fraction({"lo": 0.98, "hi": 1.0, "counts": [10, 0]}, (0.0, 1.0)) == pytest.approx(0.0)
    assert saturated_fraction({"lo": 0.97, "hi": 1.0, "counts": [0, 10, 0]}, (0.0, 1.0)) == pytest.approx(0.0)
    assert saturated_fraction({"lo": 0.0, "hi": 1.0, "counts": []}, (0.0, 1.0)) is None


@pytest.mark.parametrize("where", ["outputs", "weights", "gradient"])
def test_any_non_finite_value_is_bad(where):
    if where == "outputs":
        tracker = feed(acts={"fc1": act(nonfinite=0.03)})
    elif where == "weights":
        tracker = feed(w={"fc1": weights(nonfinite=0.5)})
    else:
        tracker = feed(grads={"fc1": None})  # the history stores a non-finite number as null
    found = reading(tracker, "fc1", "nonfinite")
    assert found.level is Level.BAD and "NaN or infinite" in found.text() and "gradient clipping" in found.text()
    assert tracker.timeline[-1].nodes["fc1"].level is Level.BAD


def test_finite_values_read_ok_and_the_badge_takes_the_worst_reading():
    health = feed(grads={"fc1": 1e-9, "fc2": 1e-9}, w={"fc1": weights()}).timeline[-1].nodes["fc1"]
    assert reading(feed(grads={"fc1": 0.1}), "fc1", "nonfinite").level is Level.OK
    assert health.level is Level.BAD and health.summary().startswith("grad 1.0e-09")
    assert health.tooltip().splitlines()[0].startswith("[bad]")


def test_weight_norm_from_a_summary():
    assert weight_norm(weights(mean=0.0, std=0.5, n=100)) == pytest.approx(5.0)
    assert weight_norm(weights(mean=1.0, std=0.0, n=4)) == pytest.approx(2.0)
    assert weight_norm({"mean": 1.0, "std": 0.0, "hist": {"counts": []}}) is None


def test_timeline_has_one_snapshot_per_sampled_step_and_reports_what_changed():
    tracker = HealthTracker(TYPES)
    assert tracker.ingest([{"kind": "grads", "epoch": 1, "step": 10, "layers": {"fc1": 0.1}},
                           {"kind": "activations", "epoch": 1, "step": 10, "layers": {"relu": act(0.0)}}]) \
        == {"fc1", "relu"}
    assert tracker.ingest([{"kind": "activations", "epoch": 2, "step": 20, "layers": {"relu": act(0.9)}}]) == {"relu"}
    assert [s.step for s in tracker.timeline] == [10, 20]
    assert tracker.at(15).step == 10 and tracker.at(9) is None and tracker.at(99).step == 20
    assert tracker.at(10).nodes["relu"].level is Level.OK and tracker.at(20).nodes["relu"].level is Level.BAD
    tracker.ingest([{"kind": "finding", "rule": "plateau", "epoch": 2, "step": 20, "message": "flat"}])
    assert tracker.findings[0]["rule"] == "plateau"


def test_links_follow_the_gradient_back_to_the_nearest_weights():
    edges = [("e1", "in", "fc1"), ("e2", "fc1", "relu"), ("e3", "relu", "fc2"), ("e4", "fc2", "out")]
    assert link_sources(edges, {"fc1", "fc2"}) == {"e2": "fc1", "e3": "fc1", "e4": "fc2"}
    assert link_strength(1e-7) == 0.0 and link_strength(100.0) == 1.0 and 0 < link_strength(0.01) < 1
    assert link_strength(math.nan) == 0.0


def test_the_probe_records_the_share_of_units_zero_for_every_sample():
    output = torch.tensor([[0.0, 1.0, 0.0, 2.0], [0.0, 0.0, 0.0, 3.0]])
    assert float(dead_unit_fraction(output)) == pytest.approx(0.5)  # units 0 and 2
    probe = ActivationProbe({"relu": [torch.nn.ReLU()]}, bins=4)
    probe.attach()
    probe.targets["relu"](torch.tensor([[-1.0, 2.0], [-3.0, 4.0]]))
    probe.detach()
    summary = probe.collect()["relu"]
    assert summary.dead_fraction == pytest.approx(0.5) and summary.to_json()["dead_fraction"] == pytest.approx(0.5)
    assert summary.zero_fraction == pytest.approx(0.5) and sum(summary.counts) == 4


def spirals_run(lr: float, optimizer: str = "sgd") -> tuple[HealthTracker, object]:
    project = load(EXAMPLES["spirals"].path)
    project.dataset = {"name": "spirals", "params": {"samples": 400}}
    project.training = {"epochs": 2, "batch_size": 32, "optimizer": {"name": optimizer, "lr": lr},
                        "instrumentation": {"grads_every": 5, "activations_every": 5}}
    job = prepare(project)
    trainer = Trainer(job)
    result = trainer.run()
    graph = job.project.graph
    tracker = HealthTracker({n.id: n.type for n in graph.nodes.values()}, {n.id: n.name for n in graph.nodes.values()})
    tracker.ingest(trainer.history.records())
    return tracker, result


def test_a_real_run_at_lr_10_kills_its_relus_and_the_badges_say_so():
    tracker, result = spirals_run(10.0)
    assert result.ok, result.message  # nothing stops it: the loss stays finite and below the divergence limit
    last = tracker.timeline[-1].nodes
    assert reading(tracker, "n_relu2", "dead_units").level is Level.BAD, last["n_relu2"].tooltip()
    assert "relu2's units output zero" in last["n_relu2"].tooltip()
    assert last["n_fc1"].level is Level.BAD  # no gradient reaches it through the dead units


def test_a_real_healthy_run_shows_no_bad_badge():
    job = make_job({"epochs": 3, "batch_size": 16, "optimizer": {"name": "adam", "lr": 0.01},
                    "instrumentation": {"enabled": True, "loss_every": 1, "grads_every": 2, "activations_every": 2}})
    trainer = Trainer(job)
    assert trainer.run().ok
    tracker = HealthTracker({n.id: n.type for n in job.project.graph.nodes.values()})
    tracker.ingest(trainer.history.records())
    nodes = tracker.timeline[-1].nodes
    assert nodes and all(h.level is not Level.BAD for h in nodes.values()), [h.tooltip() for h in nodes.values()]
    assert any(r.rule == "update_ratio" and r.level is Level.OK for h in nodes.values() for r in h.readings)


def test_a_real_run_with_too_large_a_step_shows_a_bad_update_ratio():
    job = make_job({"epochs": 4, "batch_size": 16, "optimizer": {"name": "sgd", "lr": 3.0},
                    "instrumentation": {"enabled": True, "loss_every": 1, "grads_every": 1, "activations_every": 1}})
    trainer = Trainer(job)
    trainer.run()  # divergence stops it; the samples before the stop are what the badges read
    tracker = HealthTracker({n.id: n.type for n in job.project.graph.nodes.values()})
    tracker.ingest(trainer.history.records())
    linears = [n.id for n in job.project.graph.nodes.values() if n.type == "Linear"]
    assert any(reading(tracker, node, "update_ratio").level is Level.BAD for node in linears)


def test_docs_health_lists_every_badge_rule_and_threshold():
    text = (Path(__file__).resolve().parents[2] / "docs" / "health.md").read_text(encoding="utf-8")
    section = text.split("## Health badges on the canvas", 1)[1].split("\n## ", 1)[0]
    for rule in BADGE_RULES.values():
        row = next((line for line in section.splitlines() if line.startswith(f"| `{rule.name}`")), None)
        assert row is not None, rule.name
        assert rule.advice in row, rule.name
    assert "health-overlay-1400x900.png" in section
