"""`nnstudio weights FILE --from PATH` and `nnstudio train --init-weights PATH`: reports, exit codes, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from safetensors.torch import load_file

from nnstudio.cli import main
from nnstudio.compile import build_module
from nnstudio.compile.weights import save_weights
from nnstudio.io import load, save
from nnstudio.model.builder import GraphBuilder


def project(width: int = 16, init_weights: str | None = None):
    b = GraphBuilder(name="cli")
    b.sequential(("Input", {"shape": [2]}), ("Linear", {"out_features": width}), "ReLU",
                 ("Linear", {"out_features": 2}), "Output")
    b.project.dataset = {"name": "moons", "params": {"samples": 120}, "val_fraction": 0.2}
    b.project.training = {"epochs": 1, "batch_size": 32}
    b.project.init.weights = init_weights
    return b.project


def write_project(tmp_path: Path, width: int = 16, init_weights: str | None = None) -> Path:
    path = tmp_path / "p.nnstudio"
    save(project(width, init_weights), path)
    return path


@pytest.fixture()
def weights(tmp_path: Path) -> Path:
    """Weights of the same graph, 16 wide."""
    path = tmp_path / "start.safetensors"
    save_weights(build_module(project()).module, path)
    return path


def test_weights_prints_the_match_report(tmp_path, weights, capsys):
    path = write_project(tmp_path, width=8)
    assert main(["weights", str(path), "--from", str(weights)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (f"loaded 1 of 4 tensors (1 node(s)) from {weights}; 3 kept as initialised")
    assert "  matched: linear_1 (bias)" in out
    assert any(line.startswith("  shape differs: linear.weight (model [8, 2], file [16, 2])") for line in out)


def test_weights_json(tmp_path, weights, capsys):
    assert main(["weights", str(write_project(tmp_path)), "--from", str(weights), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["matched_count"] == report["model_count"] == 4 and report["unmatched"] == []
    assert [m["node"] for m in report["matched"]] == ["linear", "linear_1"]


def test_weights_defaults_to_the_projects_init_weights_relative_to_its_folder(tmp_path, weights, capsys,
                                                                              monkeypatch):
    path = write_project(tmp_path, init_weights="start.safetensors")
    monkeypatch.chdir(tmp_path.parent)
    assert main(["weights", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["source"] == str(tmp_path / "start.safetensors")


@pytest.mark.parametrize(("args", "expected"), [
    ([], "nnstudio weights: give --from PATH: the project sets no init.weights"),
    (["--from", "missing.pt"], "nnstudio weights: missing.pt: no such file or folder"),
])
def test_weights_bad_input_exit_2_with_one_line(tmp_path, capsys, monkeypatch, args, expected):
    monkeypatch.chdir(tmp_path)
    assert main(["weights", str(write_project(tmp_path)), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [expected]


def test_weights_nothing_matches_exit_2(tmp_path, capsys):
    other = GraphBuilder(name="other")
    other.chain(other.add("Input", "x", shape=[2]), other.add("Linear", "encoder", out_features=3),
                other.add("Output", "y"))
    save_weights(build_module(other.project).module, tmp_path / "other.safetensors")
    assert main(["weights", str(write_project(tmp_path)), "--from", str(tmp_path / "other.safetensors")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "names must match node names" in err[0] and "encoder.weight" in err[0]


def test_train_with_init_weights_relative_to_the_current_folder(tmp_path, weights, capsys, monkeypatch):
    path = write_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    code = main(["train", str(path), "--out", "run", "--init-weights", "start.safetensors"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert f"init.weights: loaded 4 of 4 tensors (2 node(s)) from {weights}\n" in err
    saved = load(tmp_path / "run" / "checkpoints" / "last" / "project.nnstudio")
    assert saved.init.weights == str(weights)  # the copy records where the run started from
    assert set(load_file(tmp_path / "run" / "checkpoints" / "last" / "model.safetensors")) == set(
        load_file(weights))


def test_train_with_bad_init_weights_exit_2(tmp_path, capsys):
    path = write_project(tmp_path)
    assert main(["train", str(path), "--out", str(tmp_path / "run"),
                 "--init-weights", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"nnstudio train: init.weights: {tmp_path / 'nowhere'}: no such file or folder"]
    assert not (tmp_path / "run").exists()
