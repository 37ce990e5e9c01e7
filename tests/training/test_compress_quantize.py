"""int8 quantisation of a trained model: dynamic (Linear/LSTM) and static (FX graph mode, convolutions too),
with the TorchScript size, the CPU latency and the score before and after."""

from __future__ import annotations

import pytest
import torch

from nnstudio.model.builder import GraphBuilder
from nnstudio.training.compress import CompressError, CompressOptions, compress
from nnstudio.training.compress import quantize as quant
from nnstudio.training.data import DataSplits, Split
from nnstudio.training.engine import Trainer
from nnstudio.training.job import prepare
from tests.training.helpers import blobs, make_job

QUICK = {"epochs": 2, "batch_size": 16, "instrumentation": {"enabled": False}, "device": "cpu"}


def trained(job):
    Trainer(job).run()
    job.compiled.network.eval()
    return job


def images(n: int = 64) -> DataSplits:
    """8×8 one-channel images whose class is which half of the image is bright."""
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 2
    x = torch.rand(n, 1, 8, 8, generator=g) * 0.2
    x[y == 0, :, :4] += 1.0
    x[y == 1, :, 4:] += 1.0
    return DataSplits(
        train=Split(x[: n // 2], y[: n // 2]),
        val=Split(x[n // 2 :], y[n // 2 :]),
        test=None,
        input_shape=(1, 8, 8),
        input_dtype="float32",
        task="classification",
        num_classes=2,
        target_shape=(),
        class_names=["top", "bottom"],
        feature_names=None,
        kind="image",
        description="test halves",
    )


def cnn_job():
    b = GraphBuilder(name="cnn")
    b.sequential(
        ("Input", {"shape": [1, 8, 8]}),
        ("Conv2d", {"out_channels": 4, "kernel_size": 3}),
        "ReLU",
        "Flatten",
        ("Linear", {"out_features": 2}),
        "Output",
    )
    b.project.dataset = {"name": "halves"}
    b.project.training = dict(QUICK)
    return trained(prepare(b.project, data=images()))


def test_dynamic_int8_shrinks_the_file_and_keeps_the_score(tmp_path):
    job = trained(make_job(training=QUICK, data=blobs(n=128, features=64), inputs=64, width=256))
    report = compress(job, CompressOptions(method="dynamic", repeats=5), tmp_path)
    before, after = report.rows
    assert (before.label, after.label) == ("original (fp32)", "int8 dynamic")
    assert after.size_bytes < before.size_bytes * 0.6  # 17k weights: int8 is a quarter of float32, plus overhead
    assert before.latency_ms > 0 and after.latency_ms > 0
    assert after.metrics["accuracy"] >= before.metrics["accuracy"] - 0.1
    loaded = torch.jit.load(str(tmp_path / "model_int8.pt"))
    assert loaded(job.data.train.x[:3]).shape == (3, 3)
    assert any("median of 5 runs" in note for note in report.notes)
    assert "latency" in report.table()[0] and "size" in report.table()[0]


@pytest.mark.skipif(
    not set(quant.ENGINES) & set(torch.backends.quantized.supported_engines),
    reason="this torch build has no CPU quantisation engine",
)
def test_static_int8_quantises_the_convolutions(tmp_path):
    job = cnn_job()
    report = compress(job, CompressOptions(method="static", repeats=3), tmp_path)
    assert report.rows[1].label == "int8 static"
    assert any(
        "static int8 on 2 layer(s)" in note and "calibrated on 2 training batch(es) of 16" in note
        for note in report.notes
    )
    loaded = torch.jit.load(str(tmp_path / "model_int8.pt"))
    assert "quantized" in str(loaded.graph)  # int8 kernels, not a float copy
    assert report.rows[1].metrics["accuracy"] >= report.rows[0].metrics["accuracy"] - 0.15


def test_static_without_a_cpu_engine_says_it_is_unavailable(monkeypatch):
    monkeypatch.setattr(quant, "ENGINES", ("no-such-engine",))
    with pytest.raises(CompressError, match="static int8 quantisation is unavailable"):
        quant.engine()


def test_a_model_with_nothing_to_quantise_is_refused():
    with pytest.raises(CompressError, match="nothing to quantise dynamically: the model has no Linear or LSTM"):
        quant.dynamic_int8(torch.nn.Sequential(torch.nn.Conv2d(1, 1, 1), torch.nn.ReLU()))
    with pytest.raises(CompressError, match="nothing to quantise statically"):
        quant.static_int8(torch.nn.Sequential(torch.nn.ReLU()), torch.zeros(2, 3), 1)


def test_quantisation_takes_no_sweep_or_fine_tuning():
    with pytest.raises(CompressError, match="dynamic quantisation takes no sweep or fine-tuning"):
        CompressOptions(method="dynamic", finetune=2).check()
