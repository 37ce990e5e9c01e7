"""The study runner: a short study, pruning, invalid samples, a killed worker's trial, stopping, two objectives."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time

import pytest

optuna = pytest.importorskip("optuna")

from nnstudio.search.context import join_study, start_study  # noqa: E402
from nnstudio.search.report import best_project, report_text, summarize_study  # noqa: E402
from nnstudio.search.runner import StudyRunner  # noqa: E402
from nnstudio.search.storage import LOST_ATTR, WORKER_ATTR, take  # noqa: E402
from tests.search.projects import spirals  # noqa: E402

LR = {"kind": "float", "param": "training.optimizer.lr", "low": 3e-3, "high": 0.1, "log": True}


def start(tmp_path, search, name="s", **overrides):
    project = spirals(search)
    return start_study(project, "spirals.nnstudio", f"sqlite:///{tmp_path / 's.search.db'}", name, None,
                       tmp_path / "runs", overrides)


def test_a_short_study_runs_each_trial_as_a_normal_run(tmp_path):
    context = start(tmp_path, {"space": [LR], "study": {"trials": 2, "sampler": "random", "seed": 3}})
    lines = []
    reports = StudyRunner(context, on_trial=lambda r: lines.append(r.line())).run()
    assert [r.state for r in reports] == ["complete", "complete"]
    assert [r.number for r in reports] == [0, 1] and len(lines) == 2
    assert lines[0].startswith("trial 0: training.optimizer.lr=") and "→ val_loss" in lines[0]
    for report in reports:
        record = json.loads((report.run / "run.json").read_text())
        assert record["status"] == "finished" and record["search"]["trial"] == report.number
        assert record["search"]["params"] == report.params and record["search"]["study"] == "s"
        assert record["training"]["optimizer"]["lr"] == report.params["training.optimizer.lr"]
        assert (report.run / "checkpoints" / "best" / "checkpoint.json").is_file()
        assert (report.run / "history.json").is_file() and (report.run / "project.nnstudio").is_file()
    from nnstudio.ui.runs import RunStore  # the app's reader of run folders (no Qt)

    listed = RunStore(tmp_path / "runs").runs()
    assert [r.status for r in listed] == ["finished", "finished"] and all(r.headline() for r in listed)
    assert listed[0].checkpoint("best") is not None
    summary = summarize_study(context)
    assert summary["counts"]["complete"] == 2 and summary["best"][0]["values"] == [min(
        r.values[0] for r in reports)]
    assert "best trial:" in report_text(summary)


def test_an_invalid_sample_is_pruned_with_the_validators_reason(tmp_path):
    # Bypassing fc3 (2 outputs) leaves 64 logits for 2 classes: the sample cannot train.
    context = start(tmp_path, {"space": [{"kind": "optional", "nodes": ["fc3"]}],
                               "study": {"sampler": "grid", "trials": 5}})
    reports = StudyRunner(context).run()
    by_keep = {r.params["keep:fc3"]: r for r in reports}
    assert len(reports) == 2  # the grid has two points, so the budget is two
    assert by_keep[True].state == "complete"
    assert by_keep[False].state == "pruned" and "cannot train" in by_keep[False].reason
    assert "logits" in by_keep[False].reason
    frozen = context.study.trials[by_keep[False].number]
    assert frozen.state.name == "PRUNED" and "logits" in frozen.user_attrs["nnstudio.result"]["reason"]


class AlwaysPrune(optuna.pruners.BasePruner):
    def prune(self, study, trial):
        return True


def test_the_pruner_stops_a_trial_through_the_engines_control(tmp_path):
    context = start(tmp_path, {"space": [LR], "study": {"trials": 1, "pruner": "median"}})
    context.study.pruner = AlwaysPrune()
    (report,) = StudyRunner(context).run()
    assert report.state == "pruned" and report.reason == "pruned after epoch 1"
    record = json.loads((report.run / "run.json").read_text())
    assert record["status"] == "stopped" and record["epochs"] == 1
    assert record["message"] == "trial 0 of study 's': pruned after epoch 1"
    assert context.study.trials[0].intermediate_values.keys() == {1}


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_killed_workers_trial_is_given_back_and_the_study_resumes(tmp_path):
    context = start(tmp_path, {"space": [LR], "study": {"trials": 3, "sampler": "random"}})
    local = take(context.study)  # a worker on this machine that died mid-trial
    context.study._storage.set_trial_user_attr(local._trial_id, WORKER_ATTR,
                                               {"host": socket.gethostname(), "pid": dead_pid(), "beat": time.time()})
    remote = take(context.study)  # a worker elsewhere whose heartbeat stopped long ago
    context.study._storage.set_trial_user_attr(remote._trial_id, WORKER_ATTR,
                                               {"host": "elsewhere", "pid": 1, "beat": time.time() - 1000})
    resumed = start(tmp_path, {"space": [LR], "study": {"trials": 3, "sampler": "random"}})
    reports = StudyRunner(resumed).run()
    trials = resumed.study.trials
    lost = [t for t in trials if LOST_ATTR in t.user_attrs]
    assert sorted(t.number for t in lost) == [local.number, remote.number]
    assert all(t.state.name == "FAIL" for t in lost)
    assert "no longer running" in lost[0].user_attrs[LOST_ATTR] and "not reported" in lost[1].user_attrs[LOST_ATTR]
    assert len(reports) == 3 and sum(t.state.name == "COMPLETE" for t in trials) == 3
    assert len(trials) == 5  # three counted, two lost


def test_a_stop_now_gives_the_running_trial_back(tmp_path):
    project_search = {"space": [LR], "study": {"trials": 2, "sampler": "random"}}
    context = start(tmp_path, project_search)
    context.project.training["epochs"] = 400
    runner = StudyRunner(context)
    thread = threading.Thread(target=runner.run)
    thread.start()
    deadline = time.monotonic() + 60
    while runner._trainer is None and time.monotonic() < deadline:
        time.sleep(0.01)
    runner.request_stop(now=True)
    thread.join(60)
    (report,) = runner.reports
    assert report.state == "given back"
    states = sorted(t.state.name for t in context.study.trials)
    assert states == ["FAIL", "WAITING", "WAITING"]  # the given-back trial is replaced: the budget stays two


def test_two_objectives_give_a_pareto_front_and_the_best_project(tmp_path):
    context = start(tmp_path, {"space": [LR, {"kind": "int", "node": "fc1", "param": "out_features", "low": 4,
                                              "high": 64, "log": True},
                                         {"kind": "optional", "nodes": ["fc2", "relu2"]}],
                               "study": {"trials": 2, "second": "params", "seed": 1}})
    reports = StudyRunner(context).run()
    assert all(len(r.values) == 2 and r.values[1] > 0 for r in reports if r.state == "complete")
    joined = join_study(context.url, "s")
    summary = summarize_study(joined)
    assert summary["second"] == "params" and "Pareto front" in report_text(summary)
    project, trial = best_project(joined)
    assert project.search == {}
    assert project.graph.node_by_name("fc1").params["out_features"] == trial.params["fc1.out_features"]
    assert (project.graph.node_by_name("fc2") is None) == (trial.params["keep:fc2+relu2"] is False)
    assert project.training["optimizer"]["lr"] == trial.params["training.optimizer.lr"]


def test_the_journal_file_storage_holds_a_study_workers_can_join(tmp_path):
    url = f"journal:{tmp_path / 'study.journal'}"
    context = start_study(spirals({"space": [LR], "study": {"trials": 1, "sampler": "random"}}), "spirals.nnstudio",
                          url, "j", None, tmp_path / "runs", {})
    assert [r.state for r in StudyRunner(context).run()] == ["complete"]
    joined = join_study(url, "j")
    assert StudyRunner(joined).run() == [] and summarize_study(joined)["counts"]["complete"] == 1


def test_cmaes_without_its_package_is_refused_in_one_line(tmp_path, monkeypatch):
    from nnstudio.search.storage import SearchError

    monkeypatch.setitem(sys.modules, "cmaes", None)
    with pytest.raises(SearchError, match="cmaes needs the cmaes package: pip install cmaes"):
        start(tmp_path, {"space": [LR], "study": {"sampler": "cmaes"}})


def test_cmaes_runs_over_number_ranges_when_its_package_is_there(tmp_path):
    pytest.importorskip("cmaes")
    context = start(tmp_path, {"space": [LR], "study": {"trials": 2, "sampler": "cmaes", "seed": 0}})
    assert [r.state for r in StudyRunner(context).run()] == ["complete", "complete"]
