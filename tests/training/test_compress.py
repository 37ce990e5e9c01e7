"""Pruning a trained model: global magnitude and structured, sweeps, fine-tuning with masks kept, and the
weights it writes loading into the project's own compiled graph."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from nnstudio.compile import build_module
from nnstudio.compile.weights import read_state_dict
from nnstudio.training.compress import SWEEP_AMOUNTS, CompressError, CompressOptions, compress
from nnstudio.training.compress.prune import apply_masks, parameter_counts, remove_masks
from nnstudio.training.engine import Trainer
from tests.training.helpers import blobs, make_job


@pytest.fixture
def job():
    """A blobs MLP (2 → 16 → 3) trained for 2 epochs."""
    trained = make_job(data=blobs(test=True))
    Trainer(trained).run()
    trained.compiled.network.eval()
    return trained


def zero_rows(weight: torch.Tensor) -> int:
    return int((weight.flatten(1).abs().sum(dim=1) == 0).sum())


def test_global_pruning_writes_weights_that_load_into_the_projects_graph(job, tmp_path):
    keys = set(job.compiled.network.state_dict())
    report = compress(job, CompressOptions(method="global", amount=0.5), tmp_path)
    original, pruned = report.rows
    assert original.label == "original" and pruned.label == "pruned 50%"
    assert original.params_total == pruned.params_total == 2 * 16 + 16 + 16 * 3 + 3
    assert original.params_nonzero == original.params_total
    assert pruned.sparsity == pytest.approx(0.5, abs=0.02)
    assert pruned.params_nonzero == original.params_total - 40  # half of the 80 weights; biases kept
    assert report.metric == "accuracy" and 0.0 <= pruned.metrics["accuracy"] <= 1.0
    state = read_state_dict(tmp_path / "model.safetensors")
    assert set(state) == keys  # masks applied: no weight_orig / weight_mask
    fresh = build_module(job.project).network
    fresh.load_state_dict(state, strict=True)
    assert sum(int((p == 0).sum()) for p in fresh.parameters()) >= 40
    assert (tmp_path / "report.json").is_file()


def test_structured_pruning_removes_whole_neurons_but_not_the_output_layer(job, tmp_path):
    report = compress(job, CompressOptions(method="structured", amount=0.5), tmp_path)
    state = read_state_dict(tmp_path / "model.safetensors")
    hidden, output = (state[k] for k in sorted(k for k in state if k.endswith("weight")))
    assert zero_rows(hidden) == 8 and zero_rows(output) == 0
    assert any("output layer" in note for note in report.notes)


def test_a_sweep_tabulates_every_sparsity_and_puts_the_weights_back(job):
    before = {k: v.clone() for k, v in job.compiled.network.state_dict().items()}
    report = compress(job, CompressOptions(method="global", sweep=True))
    assert [r.label for r in report.rows] == ["original"] + [f"pruned {a:.0%}" for a in SWEEP_AMOUNTS if a > 0]
    sparsities = [r.sparsity for r in report.rows]
    assert sparsities == sorted(sparsities) and sparsities[0] == 0.0 and sparsities[-1] >= 0.89
    for key, value in job.compiled.network.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert "pruned 90%" in report.text() and "non-zero" in report.text()


def test_fine_tuning_keeps_the_pruned_weights_at_zero(job, tmp_path):
    report = compress(job, CompressOptions(method="global", amount=0.75, finetune=1), tmp_path)
    assert report.rows[1].sparsity == pytest.approx(0.75, abs=0.02)
    assert any("Trainer" in note and "masks kept" in note for note in report.notes)
    assert set(read_state_dict(tmp_path / "model.safetensors")) == set(job.compiled.network.state_dict())


@pytest.mark.parametrize("amount", [0.0, 1.0, -0.1, 1.5])
def test_an_amount_outside_zero_to_one_is_refused(job, amount):
    with pytest.raises(CompressError, match=f"prune amount {amount:g}: give a fraction strictly between 0 and 1"):
        compress(job, CompressOptions(method="global", amount=amount))


def test_a_model_with_nothing_prunable_is_refused():
    with pytest.raises(CompressError, match="nothing to prune"):
        apply_masks(nn.Sequential(nn.ReLU()), nn.Sequential(nn.ReLU()), 0.5, structured=False)


@settings(max_examples=40, deadline=None)
@given(amount=st.floats(min_value=0.01, max_value=0.99), structured=st.booleans())
def test_pruning_any_amount_leaves_that_share_of_zeros(amount, structured):
    torch.manual_seed(0)
    network = nn.Sequential(nn.Linear(4, 20), nn.ReLU(), nn.Linear(20, 10), nn.Conv1d(1, 1, 1))
    keys = set(network.state_dict())
    apply_masks(network, network, amount, structured)
    remove_masks(network)
    assert set(network.state_dict()) == keys
    _, _, sparsity = parameter_counts(network)
    weights = 4 * 20 + 20 * 10 + 1
    if structured:  # per layer, round(amount · rows) rows of the first two layers; the last one is whole
        expected = (round(amount * 20) * 4 + round(amount * 10) * 20) / weights
        assert sparsity == pytest.approx(expected, abs=1e-6)
    else:
        assert sparsity == pytest.approx(round(amount * weights) / weights, abs=1e-6)


def test_every_method_is_documented():
    from pathlib import Path

    from nnstudio.training.compress import METHODS

    text = (Path(__file__).resolve().parents[2] / "docs" / "inspecting.md").read_text(encoding="utf-8")
    assert "## Compression" in text
    for method in METHODS.values():
        assert f"| {method.title} |" in text and f"`{method.torch_api}`" in text, method.name
