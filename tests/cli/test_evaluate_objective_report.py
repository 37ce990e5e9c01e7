"""`nnstudio evaluate` on a graph with loss nodes: every classifying head that decides once per sample gets its
own per-class report (text and --json); a per-pixel BCE reconstruction head gets none."""

from __future__ import annotations

import json

import pytest

from nnstudio.cli import main
from nnstudio.io import save
from tests.objective_graphs import two_heads, vae


def trained(tmp_path, builder, capsys):
    path = tmp_path / f"{builder.project.metadata.name or 'p'}.nnstudio"
    save(builder.project, path)
    assert main(["train", str(path), "--out", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    return path, tmp_path / "run" / "checkpoints" / "last"


def test_each_classification_head_gets_its_per_class_report(tmp_path, capsys):
    path, checkpoint = trained(tmp_path, two_heads(), capsys)
    assert main(["evaluate", str(path), "--checkpoint", str(checkpoint), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    digit, parity = report["heads"]
    assert "classification" not in report, "an objective's reports belong to its heads"
    rows = digit["classification"]["per_class"]
    assert [row["name"] for row in rows] == report["class_names"] == [str(i) for i in range(10)]
    assert sum(row["support"] for row in rows) == report["samples"]
    assert digit["classification"]["top_k_accuracy"]["1"] == pytest.approx(report["metrics"]["digit_accuracy"])
    diagonal = [report["confusion_matrix"][i][i] for i in range(10)]
    for row, correct in zip(rows, diagonal):
        assert row["recall"] == pytest.approx(correct / row["support"])
    parity_rows = parity["classification"]["per_class"]
    assert len(parity_rows) == 2 and sum(row["support"] for row in parity_rows) == report["samples"]
    assert parity["classification"]["top_k_accuracy"]["1"] == pytest.approx(report["metrics"]["parity_accuracy"])
    assert main(["evaluate", str(path), "--checkpoint", str(checkpoint)]) == 0
    lines = capsys.readouterr().out.splitlines()
    for head in ("digit", "parity"):
        start = lines.index(f"head '{head}':")
        assert lines[start + 1] == "per-class metrics"
        assert lines[start + 2].split()[:4] == ["class", "precision", "recall", "f1"]


def test_a_per_pixel_bce_reconstruction_head_has_no_per_class_report(tmp_path, capsys):
    path, checkpoint = trained(tmp_path, vae(bce=True), capsys)
    assert main(["evaluate", str(path), "--checkpoint", str(checkpoint), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert all("classification" not in head for head in report["heads"])
    assert not any("per-class" in note for note in report.get("notes", []))
    assert main(["evaluate", str(path), "--checkpoint", str(checkpoint)]) == 0
    assert "per-class metrics" not in capsys.readouterr().out
