"""`nnstudio train` and training.health: a diverging run exits 1 keeping the last good checkpoint; findings are
printed as `finding: …` lines at the end (and listed with --json)."""

from __future__ import annotations

import json
from pathlib import Path

from nnstudio.cli import main
from nnstudio.io import save
from nnstudio.model.builder import GraphBuilder

SAMPLED = {"instrumentation": {"loss_every": 1}}


def write_project(tmp_path: Path, training: dict) -> Path:
    """A small moons MLP (5 steps per epoch) with these training settings."""
    b = GraphBuilder(name="health")
    b.sequential(
        ("Input", {"shape": [2]}), ("Linear", {"out_features": 16}), "ReLU", ("Linear", {"out_features": 2}), "Output"
    )
    b.project.dataset = {"name": "moons", "params": {"samples": 200}, "val_fraction": 0.2, "test_fraction": 0.1}
    b.project.training = {"batch_size": 32, "optimizer": {"lr": 0.01}, **training}
    path = tmp_path / "p.nnstudio"
    save(b.project, path)
    return path


def test_the_issues_spirals_run_at_lr_1e9_exits_1_naming_what_happened_and_what_to_try(tmp_path, capsys):
    code = main(["train", "example:spirals", "--lr", "1e9", "--epochs", "5", "--out", str(tmp_path / "div")])
    err = capsys.readouterr().err
    assert code == 1, err
    [line] = [x for x in err.splitlines() if "training failed" in x]
    assert "training diverged at epoch 1" in line and "learning rate 1e+09" in line
    assert "(e.g. by 10×)" in line and "input scaling" in line and "gradient clipping" in line
    assert "Traceback" not in err


def test_a_divergence_after_a_good_epoch_keeps_that_epochs_checkpoints(tmp_path, capsys):
    path = write_project(tmp_path, SAMPLED)
    out = tmp_path / "run"
    assert main(["train", str(path), "--epochs", "1", "--out", str(out)]) == 0
    checkpoints = out / "checkpoints"
    before = {kind: (checkpoints / kind / "model.safetensors").read_bytes() for kind in ("last", "best")}
    capsys.readouterr()
    code = main(
        ["train", str(path), "--epochs", "4", "--out", str(out), "--resume", str(checkpoints / "last"), "--lr", "1e9"]
    )
    err = capsys.readouterr().err
    assert code == 1, err
    assert (
        "training diverged at epoch 2" in err and f"the last good checkpoint is kept at {checkpoints / 'last'}" in err
    )
    for kind, weights in before.items():
        assert (checkpoints / kind / "model.safetensors").read_bytes() == weights, kind
    assert json.loads((checkpoints / "last" / "checkpoint.json").read_text())["epoch"] == 1


def test_findings_are_printed_at_the_end_and_listed_in_json(tmp_path, capsys):
    # 140 training samples in 5 equal batches: with the weights frozen by lr 1e-12 every epoch's mean is the same
    training = {"batch_size": 28, "optimizer": {"name": "sgd", "lr": 1e-12}, "health": {"stall_epochs": 2}}
    path = write_project(tmp_path, training)
    assert main(["train", str(path), "--epochs", "3", "--out", str(tmp_path / "run")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].startswith("finding: the training loss has stayed at") and "raise the learning rate" in lines[-1]
    assert main(["train", str(path), "--epochs", "3", "--out", str(tmp_path / "run2"), "--json"]) == 0
    [finding] = json.loads(capsys.readouterr().out)["findings"]
    assert finding == lines[-1].removeprefix("finding: ")
