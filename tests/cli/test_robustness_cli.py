"""`nnstudio evaluate --robustness fgsm|pgd [--eps ...]`: the curve in text and in --json, and one-line refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nnstudio.cli import main
from nnstudio.io import save
from nnstudio.model.builder import GraphBuilder
from tests.objective_graphs import two_heads


def project(tmp_path: Path, name: str, first: tuple, dataset: dict, layers: list) -> Path:
    b = GraphBuilder(name=name)
    b.sequential(first, *layers, "Output")
    b.project.dataset = dataset
    b.project.training = {"epochs": 2, "optimizer": {"name": "adam", "lr": 0.01}}
    path = tmp_path / f"{name}.nnstudio"
    save(b.project, path)
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("digits")
    path = project(tmp_path, "digits", ("Input", {"shape": [1, 8, 8]}), {"name": "digits"},
                   ["Flatten", ("Linear", {"out_features": 10})])
    assert main(["train", str(path), "--out", str(tmp_path / "run")]) == 0
    return path, tmp_path / "run" / "checkpoints" / "last"


def test_json_adds_the_curve_to_the_report(trained, capsys):
    path, checkpoint = trained
    capsys.readouterr()
    assert main(["evaluate", str(path), "--checkpoint", str(checkpoint), "--robustness", "fgsm",
                 "--eps", "0,0.05,0.2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    curve = report["robustness"]
    assert curve["method"] == "fgsm" and curve["split"] == report["split"] and curve["samples"] == report["samples"]
    assert curve["value_range"] == [0.0, 1.0] and curve["steps"] is None
    assert [p["epsilon"] for p in curve["points"]] == [0.0, 0.05, 0.2]
    assert curve["points"][0]["accuracy"] == pytest.approx(report["metrics"]["accuracy"])
    assert curve["points"][0]["flipped"] == 0 < curve["points"][2]["flipped"]
    assert curve["points"][2]["accuracy"] < curve["points"][0]["accuracy"]


def test_text_prints_one_row_per_epsilon_after_the_report(trained, capsys):
    path, checkpoint = trained
    capsys.readouterr()
    assert main(["evaluate", str(path), "--checkpoint", str(checkpoint), "--robustness", "pgd",
                 "--pgd-steps", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("robust accuracy under PGD (3 steps)"))
    assert "confusion matrix" in "\n".join(lines[:start]), "the usual report comes first"
    assert lines[start + 1].split() == ["ε", "accuracy", "flipped"]
    rows = [line.split() for line in lines[start + 2:]]
    assert [float(r[0]) for r in rows] == [0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3], "the default grid of [0, 1]"


@pytest.mark.parametrize(("extra", "message"), [
    (["--robustness", "fgsm", "--eps", "0,-0.1"], "--eps: ε must be a finite number >= 0, got -0.1"),
    (["--robustness", "fgsm", "--eps", "0,small"], "--eps: expected comma-separated numbers, got 'small'"),
    (["--robustness", "cw"], "--robustness: unknown attack 'cw'; choose one of fgsm, pgd"),
    (["--eps", "0.1"], "--eps needs --robustness fgsm|pgd"),
    (["--robustness", "fgsm", "--pgd-steps", "3"], "--pgd-steps needs --robustness pgd"),
])
def test_bad_options_are_one_line_before_anything_loads(tmp_path, capsys, extra, message):
    missing = tmp_path / "missing.nnstudio"  # never opened: the options are checked first
    assert main(["evaluate", str(missing), "--checkpoint", str(tmp_path), *extra]) == 2
    assert capsys.readouterr().err.strip() == f"nnstudio evaluate: {message}"


def _refusal(tmp_path: Path, path: Path, capsys) -> str:
    assert main(["evaluate", str(path), "--checkpoint", str(tmp_path), "--robustness", "fgsm"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0]
    return err[0]


def test_models_without_a_curve_are_refused_in_one_line(tmp_path, capsys):
    sine = project(tmp_path, "sine", ("Input", {"shape": [1]}), {"name": "sine"}, [("Linear", {"out_features": 1})])
    assert _refusal(tmp_path, sine, capsys) == (
        "nnstudio evaluate: robustness: robust accuracy needs a classifier, and this model's task is regression")
    tokens = project(tmp_path, "tokens", ("Input", {"shape": [16], "dtype": "int64"}), {"name": "token_majority"},
                     [("Embedding", {"num_embeddings": 8, "embedding_dim": 4}), "Flatten",
                      ("Linear", {"out_features": 2})])
    assert "reads token ids (whole numbers), which have no gradient" in _refusal(tmp_path, tokens, capsys)
    objective = tmp_path / "heads.nnstudio"
    save(two_heads().project, objective)
    assert "the graph declares its own objective (loss nodes)" in _refusal(tmp_path, objective, capsys)
