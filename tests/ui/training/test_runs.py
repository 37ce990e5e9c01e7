"""The run history on disk: create, list, update, move, delete; interrupted runs."""

from __future__ import annotations

from nnstudio.metrics.history import MetricHistory
from nnstudio.ui.runs import RunStore, runs_folder_for


def test_runs_are_numbered_listed_and_deleted(tmp_path):
    store = RunStore(tmp_path / "p.runs")
    first = store.create("{}", {"epochs": 3}, {"name": "spirals"}, "P")
    second = store.create("{}", {}, {}, "P")
    assert (first.number, second.number) == (1, 2)
    first.status, first.metrics = "finished", {"val_accuracy": 0.91}
    store.save(first)
    listed = store.runs()
    assert [r.number for r in listed] == [1, 2]
    assert listed[0].headline() == "val accuracy 0.91"
    assert listed[0].training == {"epochs": 3}
    store.delete(listed[0])
    assert [r.number for r in store.runs()] == [2]
    assert store.create("{}", {}, {}, "P").number == 3


def test_history_and_unreadable_runs(tmp_path):
    store = RunStore(tmp_path)
    record = store.create("{}", {}, {}, "P")
    store.save_history(record, MetricHistory([{"kind": "epoch", "epoch": 1, "step": 5, "val_loss": 0.5}]))
    assert store.history(record).latest("epoch/val_loss") == 0.5
    (tmp_path / "run-0099").mkdir()
    (tmp_path / "run-0099" / "run.json").write_text("{not json", encoding="utf-8")
    assert [r.number for r in store.runs()] == [1]


def test_runs_left_running_are_marked_interrupted(tmp_path):
    store = RunStore(tmp_path)
    record = store.create("{}", {}, {}, "P")
    record.status = "running"
    store.save(record)
    store.mark_interrupted(active=None)
    assert store.runs()[0].status == "interrupted"


def test_unsaved_runs_move_beside_the_saved_project(tmp_path):
    temporary = RunStore(tmp_path / "unsaved-runs" / "abc", unsaved=True)
    record = temporary.create("{}", {}, {}, "P")
    record.status = "finished"
    temporary.save(record)
    assert (temporary.root / "session.json").is_file()
    target = runs_folder_for(tmp_path / "model.nnstudio")
    assert target == tmp_path / "model.runs"
    RunStore(target).create("{}", {}, {}, "Q")
    moved = temporary.move_to(target)
    assert [r.number for r in moved.runs()] == [1, 2]
    assert not temporary.root.exists()
