"""`nnstudio evaluate` on graphs that declare their own objective: total, terms, heads, first head's confusion."""

from __future__ import annotations

import json

import pytest

from nnstudio.cli import main
from nnstudio.io import save
from tests.objective_graphs import two_heads, vae

pytestmark = pytest.mark.slow


def trained(tmp_path, builder, capsys):
    path = tmp_path / f"{builder.project.metadata.name or 'p'}.nnstudio"
    save(builder.project, path)
    run = tmp_path / "run"
    assert main(["train", str(path), "--out", str(run)]) == 0
    capsys.readouterr()
    return path, run / "checkpoints" / "last"


def test_evaluate_a_vae_prints_the_total_each_term_and_the_head(tmp_path, capsys):
    path, checkpoint = trained(tmp_path, vae(), capsys)
    assert main(["evaluate", str(path), "--checkpoint", str(checkpoint)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("test split, ")
    assert lines[1].split()[:4] == ["loss", "(rec", "+", "0.01·kl)"]
    assert lines[2].split()[0] == "rec" and lines[3].split()[0] == "kl"
    assert any(line.split()[:2] == ["recon", "rmse"] for line in lines)
    assert "confusion" not in out, "a VAE has no classification head"
    assert main(["evaluate", str(path), "--checkpoint", str(checkpoint), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["task"] == "objective" and report["objective"] == "rec + 0.01·kl"
    assert set(report["terms"]) == {"rec", "kl"}
    terms = report["terms"]
    assert report["metrics"]["loss"] == pytest.approx(terms["rec"] + 0.01 * terms["kl"], rel=1e-5)
    assert report["heads"] == [{"name": "recon", "task": "reconstruction", "metrics": {
        k: report["metrics"][k] for k in ("rmse", "mae")}}]


def test_evaluate_two_heads_names_each_and_shows_the_first_heads_confusion(tmp_path, capsys):
    path, checkpoint = trained(tmp_path, two_heads(), capsys)
    assert main(["evaluate", str(path), "--checkpoint", str(checkpoint), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"digit_accuracy", "parity_accuracy", "loss_digit_ce", "loss_parity_ce"} <= set(report["metrics"])
    assert report["confusion_head"] == "digit" and len(report["confusion_matrix"]) == 10
    assert sum(map(sum, report["confusion_matrix"])) == report["samples"]
    assert report["class_names"] == [str(i) for i in range(10)]
    assert main(["evaluate", str(path), "--checkpoint", str(checkpoint)]) == 0
    out = capsys.readouterr().out
    assert "confusion matrix of head 'digit' (rows: true class, columns: predicted class)" in out
    assert "parity accuracy" in out


def test_a_checkpoint_of_another_graph_is_refused(tmp_path, capsys):
    trained(tmp_path, vae(), capsys)
    other = tmp_path / "other.nnstudio"
    save(vae(hidden=16).project, other)
    assert main(["evaluate", str(other), "--checkpoint", str(tmp_path / "run" / "checkpoints" / "last")]) == 2
    assert "weights do not match" in capsys.readouterr().err
