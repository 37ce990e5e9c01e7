"""`nnstudio evaluate` on a classifier: per-class table, ROC/PR areas, top-k and ECE, in text and in --json."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from nnstudio.cli import main
from nnstudio.io import save
from nnstudio.model.builder import GraphBuilder


def iris_project(tmp_path: Path) -> Path:
    b = GraphBuilder(name="iris")
    b.sequential(
        ("Input", {"shape": [4]}), ("Linear", {"out_features": 16}), "ReLU", ("Linear", {"out_features": 3}), "Output"
    )
    b.project.dataset = {"name": "iris", "val_fraction": 0.2, "test_fraction": 0.3}
    b.project.training = {"epochs": 1, "batch_size": 16, "optimizer": {"lr": 0.01}}
    path = tmp_path / "iris.nnstudio"
    save(b.project, path)
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("iris")
    path = iris_project(tmp_path)
    assert main(["train", str(path), "--out", str(tmp_path / "run")]) == 0
    return path, tmp_path / "run" / "checkpoints" / "last"


def test_json_keeps_the_old_keys_and_adds_the_per_class_report(trained, capsys):
    path, checkpoint = trained
    capsys.readouterr()
    assert main(["evaluate", str(path), "--checkpoint", str(checkpoint), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"split", "samples", "task", "metrics", "confusion_matrix", "class_names"} <= set(report)
    metrics = report["classification"]
    assert [row["name"] for row in metrics["per_class"]] == report["class_names"]
    assert sum(row["support"] for row in metrics["per_class"]) == report["samples"]
    assert metrics["top_k_accuracy"]["1"] == pytest.approx(report["metrics"]["accuracy"])
    assert set(metrics["top_k_accuracy"]) == {"1"}, "top-3 of 3 classes says nothing, so it is left out"
    assert set(metrics["roc_auc"]) == {*report["class_names"], "macro"}
    assert 0.0 <= metrics["ece"] <= 1.0 and len(metrics["calibration"]["counts"]) <= 10
    diagonal = [report["confusion_matrix"][i][i] for i in range(3)]
    for row, correct in zip(metrics["per_class"], diagonal):
        assert row["recall"] == pytest.approx(correct / row["support"])


def test_text_prints_a_table_per_class_the_areas_top_k_and_the_ece(trained, capsys):
    path, checkpoint = trained
    capsys.readouterr()
    assert main(["evaluate", str(path), "--checkpoint", str(checkpoint)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("test split, ") and "confusion matrix" in out
    lines = out.splitlines()
    header = lines.index("per-class metrics") + 1
    assert lines[header].split() == ["class", "precision", "recall", "f1", "support", "ROC", "AUC", "AP"]
    assert [line.split()[0] for line in lines[header + 1 : header + 4]] == ["setosa", "versicolor", "virginica"]
    assert any(line.startswith("macro avg") for line in lines)
    assert any(line.startswith("top-k accuracy") and "top-1" in line for line in lines)
    assert any(line.startswith("calibration") and "ECE" in line for line in lines)


def test_without_scikit_learn_the_report_is_left_out_with_the_install_line(tmp_path, capsys, monkeypatch):
    b = GraphBuilder(name="moons")
    b.sequential(
        ("Input", {"shape": [2]}), ("Linear", {"out_features": 8}), "ReLU", ("Linear", {"out_features": 2}), "Output"
    )
    b.project.dataset = {"name": "moons", "params": {"samples": 100}, "val_fraction": 0.2, "test_fraction": 0.2}
    b.project.training = {"epochs": 1, "batch_size": 32}
    path = tmp_path / "moons.nnstudio"
    save(b.project, path)
    assert main(["train", str(path), "--out", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    for name in ("sklearn.metrics", "sklearn.calibration"):
        monkeypatch.setitem(sys.modules, name, None)  # import fails as if scikit-learn were not installed
    checkpoint = str(tmp_path / "run" / "checkpoints" / "last")
    assert main(["evaluate", str(path), "--checkpoint", checkpoint]) == 0
    out = capsys.readouterr().out
    assert "confusion matrix" in out and "per-class metrics" not in out.splitlines()
    assert out.rstrip().endswith('per-class metrics need scikit-learn: pip install "nnstudio[datasets]"')
    assert main(["evaluate", str(path), "--checkpoint", checkpoint, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert "classification" not in report and report["notes"][0].startswith("per-class metrics need")


def test_a_binary_output_is_reported_by_its_positive_class(tmp_path, capsys):
    b = GraphBuilder(name="binary")
    b.sequential(
        ("Input", {"shape": [2]}), ("Linear", {"out_features": 8}), "ReLU", ("Linear", {"out_features": 1}), "Output"
    )
    b.project.dataset = {"name": "moons", "params": {"samples": 100}, "val_fraction": 0.2, "test_fraction": 0.3}
    b.project.training = {"epochs": 1, "batch_size": 32, "task": "binary", "loss": {"name": "bce_with_logits"}}
    path = tmp_path / "binary.nnstudio"
    save(b.project, path)
    assert main(["train", str(path), "--out", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(path), "--checkpoint", str(tmp_path / "run" / "checkpoints" / "last"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    metrics = report["classification"]
    names = [row["name"] for row in metrics["per_class"]]
    assert len(names) == 2 and list(metrics["roc_auc"]) == [names[1]], "the positive class's curve alone"
    assert metrics["top_k_accuracy"] == {"1": pytest.approx(report["metrics"]["accuracy"])}
    assert sum(row["support"] for row in metrics["per_class"]) == report["samples"]
