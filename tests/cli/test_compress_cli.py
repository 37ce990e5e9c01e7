"""`nnstudio compress`: pruned weights that export with the existing exporters, int8 TorchScript, the report,
and one line (exit 2) for each kind of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from nnstudio.cli import main
from nnstudio.io import save
from nnstudio.model.builder import GraphBuilder


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, Path]:
    """A spirals-style MLP on moons, trained 2 epochs: (project file, run folder)."""
    folder = tmp_path_factory.mktemp("compress_cli")
    b = GraphBuilder(name="cli")
    b.sequential(
        ("Input", {"shape": [2]}),
        ("Linear", {"out_features": 32}),
        "ReLU",
        ("Linear", {"out_features": 32}),
        "ReLU",
        ("Linear", {"out_features": 2}),
        "Output",
    )
    b.project.dataset = {"name": "moons", "params": {"samples": 160}, "val_fraction": 0.25}
    b.project.training = {"epochs": 2, "batch_size": 32, "device": "cpu", "instrumentation": {"enabled": False}}
    path = folder / "p.nnstudio"
    save(b.project, path)
    assert main(["train", str(path), "--out", str(folder / "run")]) == 0
    return path, folder / "run"


def test_prune_writes_weights_that_the_exporters_take(run, tmp_path, capsys):
    path, folder = run
    out = tmp_path / "pruned"
    assert main(["compress", str(path), "--checkpoint", str(folder), "--prune", "0.6", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Global magnitude pruning on the val split" in text and "pruned 60%" in text and "non-zero" in text
    report = json.loads((out / "report.json").read_text())
    assert [row["label"] for row in report["rows"]] == ["original", "pruned 60%"]
    assert report["rows"][1]["params_nonzero"] < report["rows"][0]["params_total"]
    exported = tmp_path / "m.pt"
    assert (
        main(["export", str(path), "-f", "torchscript", "-c", str(out / "model.safetensors"), "-o", str(exported)]) == 0
    )
    weights = [t for name, t in torch.jit.load(str(exported)).state_dict().items() if name.endswith("weight")]
    zeros = sum(int((w == 0).sum()) for w in weights)
    assert zeros == round(0.6 * sum(w.numel() for w in weights))


def test_structured_sweep_prints_the_table(run, tmp_path, capsys):
    path, folder = run
    assert (
        main(
            [
                "compress",
                str(path),
                "-c",
                str(folder / "checkpoints" / "last"),
                "--sweep",
                "--structured",
                "--json",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["method"] == "Structured pruning (channels / neurons)" and len(report["rows"]) == 5
    assert not (tmp_path / "model.safetensors").exists()  # a sweep reports; it writes no model


def test_quantize_writes_torchscript_and_sizes(run, tmp_path, capsys):
    path, folder = run
    assert (
        main(["compress", str(path), "-c", str(folder), "--quantize", "int8", "--repeats", "3", "--out", str(tmp_path)])
        == 0
    )
    rows = json.loads((tmp_path / "report.json").read_text())["rows"]
    assert all(row["size_bytes"] > 0 and row["latency_ms"] > 0 for row in rows)
    assert torch.jit.load(str(tmp_path / "model_int8.pt"))(torch.zeros(4, 2)).shape == (4, 2)
    assert "int8 dynamic" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--prune", "1.5"], "prune amount 1.5: give a fraction strictly between 0 and 1"),
        (["--prune", "0"], "prune amount 0: give a fraction strictly between 0 and 1"),
        (["--prune", "half"], "--prune half: give a fraction strictly between 0 and 1"),
        (["--prune", "0.5", "--static"], "--static goes with --quantize, not with pruning"),
        (["--quantize", "int8", "--finetune", "2"], "--structured and --finetune go with --prune or --sweep"),
        (["--quantize", "int8", "--repeats", "0"], "repeats 0: give at least 1"),
        (["--prune", "0.5", "--split", "test"], "the dataset has no test split (it has train, val)"),
        (["--quantize", "int8", "--split", "test"], "the dataset has no test split (it has train, val)"),
    ],
)
def test_bad_choices_get_one_line(run, tmp_path, capsys, extra, message):
    path, folder = run
    assert main(["compress", str(path), "-c", str(folder), *extra, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("nnstudio compress: ") and message in err[0]


def test_a_missing_checkpoint_is_named(run, tmp_path, capsys):
    path, _ = run
    missing = tmp_path / "nowhere"
    assert main(["compress", str(path), "-c", str(missing), "--prune", "0.5", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == f"nnstudio compress: {missing}: no such checkpoint"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--quantize", "int8"], "nothing to quantise dynamically: the model has no Linear or LSTM layer"),
        (
            ["--quantize", "int8", "--static"],
            "nothing to quantise statically: the model has no Linear or convolution layer",
        ),
        (["--prune", "0.5"], "nothing to prune: the model has no Linear or convolution layer with weights"),
    ],
)
def test_a_model_without_linear_or_conv_layers_is_refused(tmp_path, capsys, flags, message):
    from nnstudio.compile import build_module
    from nnstudio.compile.weights import save_weights

    b = GraphBuilder(name="plain")
    b.sequential(("Input", {"shape": [2]}), "LayerNorm", "Output")  # parameters, but nothing to prune
    b.project.dataset = {"name": "moons", "params": {"samples": 40}, "val_fraction": 0.25}
    b.project.training = {"epochs": 1, "device": "cpu"}
    path = tmp_path / "plain.nnstudio"
    save(b.project, path)
    save_weights(build_module(b.project).network, tmp_path / "w.safetensors")
    out = tmp_path / "q"
    code = main(["compress", str(path), "-c", str(tmp_path / "w.safetensors"), *flags, "--out", str(out)])
    assert code == 2
    assert capsys.readouterr().err.strip() == f"nnstudio compress: {message}"
    assert not (out / "report.json").exists()
