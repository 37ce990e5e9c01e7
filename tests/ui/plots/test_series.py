"""Plot-side series: incremental ingest, histogram resampling and smoothing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnstudio.metrics.history import MetricHistory
from nnstudio.ui.plots.series import GrowingSeries, RunSeries, Snapshot, moving_average, resample_histograms


def records():
    yield {"kind": "start", "epoch": 0, "step": 0, "layers": {"n1": "fc1", "n2": "fc2"}}
    for step in range(1, 41):
        yield {"kind": "step", "epoch": 1, "step": step, "loss": 1.0 / step, "lr": 0.1}
    yield {"kind": "grads", "epoch": 1, "step": 40, "global_norm": 2.0, "layers": {"n2": 0.5, "n1": None}}
    yield {"kind": "activations", "epoch": 1, "step": 40, "layers": {
        "n1": {"mean": 0.1, "std": 1.0, "zero_fraction": 0.5, "hist": {"lo": -1.0, "hi": 1.0, "counts": [1, 2, 3]}}}}
    yield {"kind": "epoch", "epoch": 1, "step": 40, "train_loss": 0.3, "val_loss": 0.4, "val_accuracy": 0.9}


def test_ingest_matches_metric_history_series():
    history = MetricHistory(records())
    run = RunSeries.from_history(history)
    for name in ("step/loss", "epoch/val_loss", "epoch/val_accuracy", "grads/global_norm", "grads/n2",
                 "activations/n1/zero_fraction"):
        expected = history.series(name)
        np.testing.assert_allclose(run.get(name).x, expected.steps)
        np.testing.assert_allclose(run.get(name).y, expected.values)
    assert math.isnan(run.get("grads/n1").y[0]), "a missing value is a gap, not a zero"
    assert run.layer_ids("grads") == ["n1", "n2"], "graph order from the start record"
    assert run.layer_name("n2") == "fc2"
    assert len(run.snapshots("activations", "n1")) == 1


def test_ingest_in_batches_equals_ingest_at_once():
    all_records = list(records())
    whole = RunSeries()
    whole.ingest(all_records)
    parts = RunSeries()
    for start in range(0, len(all_records), 7):
        parts.ingest(all_records[start:start + 7])
    assert whole.names() == parts.names()
    for name in whole.names():
        np.testing.assert_array_equal(whole.get(name).y, parts.get(name).y)


def test_growing_series_keeps_earlier_views_valid():
    series = GrowingSeries(capacity=2)
    series.append(1, 10)
    view = series.y
    for i in range(2, 100):
        series.append(i, i * 10)
    assert view.tolist() == [10.0]
    assert len(series) == 99 and series.last() == 990.0


def test_resampled_histograms_keep_each_snapshots_mass():
    snaps = [Snapshot(1, 1, -1.0, 1.0, np.array([5.0, 0.0, 5.0])),
             Snapshot(2, 1, 0.0, 4.0, np.array([1.0, 2.0, 3.0, 4.0]))]
    image, lo, hi = resample_histograms(snaps, bins=16)
    assert (lo, hi) == (-1.0, 4.0)
    assert image.shape == (2, 16)
    np.testing.assert_allclose(image.sum(axis=1), [10.0, 10.0])
    assert image[1, :3].sum() == pytest.approx(0.0), "no mass below the second snapshot's range"


def test_moving_average_is_trailing_and_skips_nan():
    values = np.array([1.0, 3.0, np.nan, 5.0])
    np.testing.assert_allclose(moving_average(values, 2), [1.0, 2.0, 3.0, 5.0])
    assert moving_average(values, 1) is values
