"""`nnstudio search`: bad input (exit 2, one line naming the place), report and apply-best, and two worker
processes sharing one SQLite study."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nnstudio.cli import main
from nnstudio.io import load
from tests.search.projects import spirals, write

optuna = pytest.importorskip("optuna")

ROOT = Path(__file__).resolve().parents[2]
LR = {"kind": "float", "param": "training.optimizer.lr", "low": 1e-2, "high": 0.3, "log": True}


def test_missing_optuna_is_one_line_with_the_install_command(tmp_path, capsys, monkeypatch):
    path = write(spirals({"space": [LR]}), tmp_path)
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna now raises ImportError
    assert main(["search", str(path), "--trials", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].endswith('pip install "nnstudio[search]"')


@pytest.mark.parametrize(("args", "words"), [
    (["--join", "s"], "--join needs --storage URL"),
    (["--report", "s"], "--report needs --storage URL"),
    ([], "give one of FILE, --join NAME or --report NAME"),
    (["--join", "s", "--report", "s", "--storage", "x.db"], "--join and --report cannot be combined"),
])
def test_mode_errors_are_one_line(args, words, capsys):
    assert main(["search", *args]) == 2
    assert words in capsys.readouterr().err


def test_a_bad_space_names_each_parameter(tmp_path, capsys):
    path = write(spirals({"space": [{**LR, "low": 0.5, "high": 0.1},
                                    {"kind": "int", "node": "fc1", "param": "units", "low": 1, "high": 4},
                                    {**LR, "param": "training.optimizer.lr", "low": 0.0}]}), tmp_path)
    assert main(["search", str(path), "--storage", str(tmp_path / "x.db")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith(f"nnstudio search: {path}: search.space[") for line in err)
    assert "low 0.5 is above high 0.1" in err[0] and "has no parameter 'units'" in err[1]
    assert "a log range must stay above 0" in err[2]


def test_a_storage_that_cannot_be_opened_and_a_missing_study(tmp_path, capsys):
    path = write(spirals({"space": [LR]}), tmp_path)
    assert main(["search", str(path), "--storage", f"sqlite:///{tmp_path}/no/such/folder.db"]) == 2
    assert "cannot open it (no folder" in capsys.readouterr().err
    not_a_db = tmp_path / "notes.db"
    not_a_db.write_text("these are notes, not a database\n" * 100)
    assert main(["search", "--join", "s", "--storage", f"sqlite:///{not_a_db}"]) == 2
    assert f"--storage sqlite:///{not_a_db}: cannot open it" in capsys.readouterr().err
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert main(["search", "--join", "nope", "--storage", url]) == 2
    assert f"no study named 'nope' in {url}; it holds no studies" in capsys.readouterr().err


def test_search_then_report_and_apply_best(tmp_path, capsys):
    search = {"space": [LR, {"kind": "optional", "nodes": ["relu1"]}], "study": {"sampler": "random", "seed": 0}}
    path = write(spirals(search), tmp_path)
    assert main(["search", str(path), "--trials", "2", "--threads", "1", "--json"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["counts"]["complete"] == 2 and summary["study"] == "spirals"
    assert sum(line.startswith("trial ") for line in captured.err.splitlines()) == 2
    assert (tmp_path / "spirals.search.db").is_file() and len(list((tmp_path / "spirals.runs").glob("run-*"))) == 2
    url = f"sqlite:///{tmp_path / 'spirals.search.db'}"
    best = tmp_path / "best.nnstudio"
    assert main(["search", "--report", "spirals", "--storage", url, "--apply-best", str(best)]) == 0
    captured = capsys.readouterr()
    assert "best trial:" in captured.out and "2 complete" in captured.out
    project = load(best)
    trial = summary["best"][0]
    assert project.training["optimizer"]["lr"] == trial["params"]["training.optimizer.lr"]
    assert (project.graph.node_by_name("relu1") is not None) == trial["params"]["keep:relu1"]
    # Rerunning resumes: the budget is spent, so nothing more trains; more --trials extend the study.
    assert main(["search", str(path), "--trials", "2"]) == 0
    assert "2 complete" in capsys.readouterr().out
    changed = spirals({**search, "space": [LR]})
    write(changed, tmp_path)
    assert main(["search", str(path), "--trials", "3"]) == 2
    assert "was started from a different" in capsys.readouterr().err


def _worker(args: list[str], cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "nnstudio", "search", *args, "--threads", "1"], cwd=cwd,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_two_workers_share_one_sqlite_study_and_beat_the_untuned_baseline(tmp_path, capsys):
    project = spirals({"space": [LR], "study": {"sampler": "random"}}, lr=1e-5, epochs=3)
    path = write(project, tmp_path)
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first = _worker([str(path), "--trials", "4", "--storage", url, "--study", "shared"], tmp_path)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and first.poll() is None:  # --join needs the study to exist
        if (tmp_path / "shared.db").exists() and "shared" in optuna.study.get_all_study_names(url) and \
                optuna.load_study(study_name="shared", storage=url).trials:  # created and its budget added
            break
        time.sleep(0.2)
    second = _worker(["--join", "shared", "--storage", url], tmp_path)
    assert main(["train", str(path), "--out", str(tmp_path / "baseline"), "--json", "--threads", "1"]) == 0
    baseline = json.loads(capsys.readouterr().out)["best"]["value"]
    outputs = [worker.communicate(timeout=300) for worker in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    study = optuna.load_study(study_name="shared", storage=url)
    trials = study.trials
    assert len(trials) == 4 and all(t.state.name == "COMPLETE" for t in trials)
    assert sorted(t.number for t in trials) == list(range(4))
    assert len({t.params["training.optimizer.lr"] for t in trials}) == 4  # no trial ran twice
    runs = sorted((tmp_path / "spirals.runs").glob("run-*"))
    assert len(runs) == 4
    ran = sorted(json.loads((run / "run.json").read_text())["search"]["trial"] for run in runs)
    assert ran == list(range(4))
    lines = [line for _, err in outputs for line in err.splitlines() if line.startswith("trial ")]
    assert len(lines) == 4
    assert study.best_value < baseline, (study.best_value, baseline)
