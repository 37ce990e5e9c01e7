"""`nnstudio predict` and `nnstudio explain` end to end: a CSV project trained by `nnstudio train`, then one
sample through it; bad choices are one line with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nnstudio.cli import main
from nnstudio.io import save
from nnstudio.model.builder import GraphBuilder

COLUMNS = ["height", "width", "decides", "noise"]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, Path]:
    """A CSV with 4 feature columns where 'decides' > 0 is the label, and a checkpoint trained on it."""
    folder = tmp_path_factory.mktemp("csv")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 4))
    lines = [",".join([*COLUMNS, "label"])]
    lines += [",".join(f"{v:.4f}" for v in row) + f",{'yes' if row[2] > 0 else 'no'}" for row in x]
    (folder / "data.csv").write_text("\n".join(lines) + "\n")
    b = GraphBuilder(name="csv")
    b.sequential(
        ("Input", {"shape": [4]}), ("Linear", {"out_features": 16}), "ReLU", ("Linear", {"out_features": 2}), "Output"
    )
    b.project.dataset = {"name": "csv", "params": {"path": "data.csv"}}
    b.project.training = {
        "epochs": 6,
        "batch_size": 32,
        "optimizer": {"lr": 0.05},
        "instrumentation": {"enabled": False},
    }
    project = folder / "p.nnstudio"
    save(b.project, project)
    assert main(["train", str(project), "--out", str(folder / "run")]) == 0
    return project, folder / "run" / "checkpoints" / "last"


def refuse(capsys, argv: list[str], *fragments: str) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err
    return err


def test_predict_a_split_sample_as_text_and_json(run, capsys):
    project, checkpoint = run
    capsys.readouterr()
    assert main(["predict", str(project), "--checkpoint", str(checkpoint), "--sample", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("predicted: ") and "#" in out
    assert main(["predict", str(project), "--checkpoint", str(checkpoint), "--sample", "2", "--json", "--layers"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {p["class"] for p in data["probabilities"]} == {"no", "yes"}
    assert [layer["type"] for layer in data["layers"]][:4] == ["Input", "Linear", "ReLU", "Linear"]
    assert data["layers"][1]["shape"] == [16] and len(data["layers"][1]["values"]) == 16


def test_typed_values_follow_the_deciding_column(run, capsys):
    project, checkpoint = run
    base = ["predict", str(project), "--checkpoint", str(checkpoint), "--json"]
    assert main([*base, "--input", "0,0,3,0"]) == 0
    assert json.loads(capsys.readouterr().out)["predicted"] == "yes"
    assert main([*base, "--input", "0,0,-3,0"]) == 0
    assert json.loads(capsys.readouterr().out)["predicted"] == "no"


def test_predict_refusals(run, capsys, tmp_path):
    project, checkpoint = run
    base = ["predict", str(project), "--checkpoint", str(checkpoint)]
    refuse(capsys, [*base, "--input", "1,2,3"], "3 value(s) given", "takes 4", "height, width, decides, noise")
    refuse(capsys, [*base, "--sample", "5000"], "--sample: 5000 is out of range; the test split has")
    refuse(capsys, [*base, "--input", str(tmp_path / "none.npy")], "no such file")
    refuse(capsys, ["predict", str(project), "--checkpoint", str(tmp_path / "nowhere")], "no such checkpoint")


def test_explain_puts_the_attribution_on_the_deciding_column(run, capsys, tmp_path):
    pytest.importorskip("captum")
    project, checkpoint = run
    base = ["explain", str(project), "--checkpoint", str(checkpoint), "--sample", "0"]
    assert main([*base, "--method", "integrated-gradients"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Integrated Gradients for output ")
    assert out[1].split()[0] == "decides"  # strongest first
    target = tmp_path / "ig.json"
    assert main([*base, "--method", "occlusion", "--json", "--out", str(target)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert json.loads(target.read_text()) == printed
    assert [f["name"] for f in printed["features"]] == COLUMNS


def test_explain_refusals(run, capsys, tmp_path, monkeypatch):
    project, checkpoint = run
    base = ["explain", str(project), "--checkpoint", str(checkpoint)]
    monkeypatch.setattr("nnstudio.cli.explain.captum_available", lambda: False)
    refuse(capsys, [*base, "--method", "saliency"], 'explain needs Captum: pip install "nnstudio[explain]"')
    monkeypatch.undo()
    pytest.importorskip("captum")
    refuse(capsys, [*base, "--method", "grad-cam"], "needs a convolution node")
    refuse(capsys, [*base, "--method", "saliency", "--target", "7"], "--target: 7 is out of range")
    refuse(capsys, [*base, "--method", "saliency", "--out", str(tmp_path / "a.png")], "a heatmap is drawn")
    refuse(capsys, [*base, "--method", "saliency", "--out", str(tmp_path / "a.gif")], "expected a .png")
    assert not (tmp_path / "a.png").exists()


def test_explain_draws_a_heatmap_for_an_image_model(tmp_path, capsys):
    pytest.importorskip("captum")
    pytest.importorskip("sklearn")
    from nnstudio.compile.builder import build_module
    from nnstudio.compile.weights import save_weights

    b = GraphBuilder(name="cnn")
    b.sequential(
        ("Input", {"shape": [1, 8, 8]}),
        ("Conv2d", {"out_channels": 4, "kernel_size": 3}),
        "ReLU",
        "Flatten",
        ("Linear", {"out_features": 10}),
        "Output",
    )
    b.project.dataset = {"name": "digits"}
    project = tmp_path / "cnn.nnstudio"
    save(b.project, project)
    weights = tmp_path / "w.safetensors"
    save_weights(build_module(b.project).module, weights)
    picture = tmp_path / "cam.png"
    assert (
        main(["explain", str(project), "--checkpoint", str(weights), "--method", "grad-cam", "--out", str(picture)])
        == 0
    )
    out = capsys.readouterr().out
    assert "Grad-CAM for output" in out and f"written: {picture}" in out
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
