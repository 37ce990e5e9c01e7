"""`nnstudio check`: one line per check, JSON with the LR curve, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json

from nnstudio.cli import main
from nnstudio.io import save
from nnstudio.model.builder import GraphBuilder
from nnstudio.model.graph import NodeTraining
from nnstudio.training.sanity import CHECKS

FAST = ["--steps", "100", "--lr-steps", "40"]


def write_project(tmp_path, frozen: bool = False):
    b = GraphBuilder(name="cli")
    b.sequential(
        ("Input", {"shape": [2]}), ("Linear", {"out_features": 16}), "ReLU", ("Linear", {"out_features": 2}), "Output"
    )
    b.project.dataset = {"name": "moons", "params": {"samples": 200}}
    b.project.training = {"batch_size": 32, "optimizer": {"lr": 0.01}}
    if frozen:
        for node in b.project.graph.nodes.values():
            node.training = NodeTraining(frozen=True)
    path = tmp_path / "p.nnstudio"
    save(b.project, path)
    return path


def test_every_check_prints_one_line_and_all_pass(tmp_path, capsys):
    code = main(["check", str(write_project(tmp_path)), *FAST])
    out = capsys.readouterr().out
    assert code == 0, out
    for check in CHECKS:
        assert f"PASS  {check.title}:" in out
    assert "suggested lr" in out and "curve (lr:smoothed loss)" in out
    assert f"all {len(CHECKS)} check(s) passed" in out


def test_json_holds_every_result_and_the_curve(tmp_path, capsys):
    code = main(["check", str(write_project(tmp_path)), *FAST, "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [c["name"] for c in report["checks"]] == [check.name for check in CHECKS]
    lr = next(c for c in report["checks"] if c["name"] == "lr-range")
    assert len(lr["curve"]["lr"]) == len(lr["curve"]["smoothed"]) > 10
    assert lr["figures"]["suggested_lr"] > 0


def test_a_failing_check_exits_1_with_its_advice(tmp_path, capsys):
    code = main(["check", str(write_project(tmp_path, frozen=True)), *FAST, "--only", "overfit-batch"])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL  Overfit one batch: no trainable parameters" in out
    assert "what it usually means:" in out


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["check", str(tmp_path / "missing.nnstudio")]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
    assert main(["check", str(write_project(tmp_path)), "--only", "nope"]) == 2
    err = capsys.readouterr().err
    assert "--only: no check 'nope'" in err and "initial-loss" in err and "Traceback" not in err


def test_a_recipe_with_its_own_step_is_refused_in_one_line(capsys):
    assert main(["check", "example:som_iris"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("nnstudio check: training.recipe:") and "'som'" in err and "\n" not in err
