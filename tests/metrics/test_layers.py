"""Per-layer instruments: gradient norms, activation summaries and weight histograms."""

from __future__ import annotations

import pytest
import torch

from nnstudio.compile import build_module
from nnstudio.metrics import ActivationProbe, GradientNorms, node_modules, node_parameters, weight_summaries
from nnstudio.metrics.stats import HEAD, rows_to_summaries, summary_row
from tests.helpers import mlp


def test_gradient_norms_match_a_per_tensor_computation():
    compiled = build_module(mlp().project)
    groups = node_parameters(compiled)
    compiled.module(torch.randn(5, 2)).square().sum().backward()
    norms = GradientNorms(groups)
    total, layers = norms.fetch(norms.compute())
    assert set(layers) == set(groups)
    for node_id, params in groups.items():
        expected = torch.sqrt(sum(p.grad.square().sum() for p in params)).item()
        assert layers[node_id] == pytest.approx(expected, rel=1e-5)
    all_grads = torch.cat([p.grad.reshape(-1) for p in compiled.module.parameters()])
    assert total == pytest.approx(all_grads.norm().item(), rel=1e-5)


def test_gradient_norms_before_any_backward_are_none():
    compiled = build_module(mlp().project)
    assert GradientNorms(node_parameters(compiled)).compute() is None


def test_activation_probe_hooks_only_while_attached():
    compiled = build_module(mlp().project)
    modules = node_modules(compiled)
    probe = ActivationProbe(modules, bins=8)
    compiled.module(torch.randn(4, 2))
    assert probe.collect() == {}
    probe.attach()
    compiled.module(torch.randn(4, 2))
    probe.detach()
    summaries = probe.collect()
    assert set(summaries) == set(modules)
    for node_id, summary in summaries.items():
        assert sum(summary.counts) == 4 * compiled.analysis.shapes.of(node_id).numel
    compiled.module(torch.randn(4, 2))
    assert probe.collect() == {}  # removed hooks record nothing


def test_summary_row_fields():
    values = torch.tensor([0.0, 0.0, 1.0, 3.0, float("nan")])
    (summary,) = rows_to_summaries(summary_row(values, bins=3).unsqueeze(0))
    assert summary.zero_fraction == pytest.approx(0.4)  # exact zeros only: the NaN is not one
    assert summary.nonfinite_fraction == pytest.approx(0.2)
    assert (summary.lo, summary.hi) == (0.0, 3.0)
    assert summary.counts == [3, 1, 1] and sum(summary.counts) == 5
    assert summary.to_json()["hist"]["counts"] == [3, 1, 1]


def test_summary_of_a_constant_tensor_widens_the_range():
    (summary,) = rows_to_summaries(summary_row(torch.full((6,), 2.0), bins=4).unsqueeze(0))
    assert (summary.lo, summary.hi) == (1.0, 3.0) and sum(summary.counts) == 6 and summary.std == 0.0


def test_summary_of_an_empty_tensor_is_zeros():
    row = summary_row(torch.empty(0), bins=4)
    assert row.shape == (HEAD + 4,) and not row.any()


def test_weight_summaries_cover_every_node_with_weights():
    compiled = build_module(mlp().project)
    groups = node_parameters(compiled)
    summaries = weight_summaries(groups, bins=10)
    assert set(summaries) == set(groups)
    for node_id, params in groups.items():
        assert sum(summaries[node_id].counts) == sum(p.numel() for p in params)
