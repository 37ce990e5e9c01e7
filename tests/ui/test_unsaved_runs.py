"""Runs of unsaved work are unsaved work: kept in the per-user data folder, counted by the close prompt,
moved beside the file on save, restored with crash recovery, and tidied up only when empty and ownerless."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QStandardPaths

from nnstudio.examples import EXAMPLES
from nnstudio.ui.document import Document
from nnstudio.ui.files import Recovery, unsaved_question
from nnstudio.ui.main_window import MainWindow
from nnstudio.ui.runs import LEGACY_IDLE_S, RunStore, UnsavedRuns, keeps_runs_beside


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


def _runs(store: RunStore, count: int, name: str = "Spirals MLP") -> None:
    for _ in range(count):
        record = store.create("{}", {}, {}, name)
        record.status = "finished"
        store.save(record)


def _orphan(store: RunStore) -> None:
    """As if the process that trained these runs had died."""
    info = store.root / "session.json"
    info.write_text(json.dumps({**json.loads(info.read_text(encoding="utf-8")), "pid": _dead_pid()}), encoding="utf-8")


@pytest.mark.skipif(sys.platform == "win32", reason="the per-user folder is redirected through HOME/XDG")
def test_unsaved_runs_live_in_the_per_user_data_folder(qtbot, monkeypatch, tmp_path, registry, settings):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / "data"))
    QStandardPaths.setTestModeEnabled(True)
    try:
        window = MainWindow(Document(_example(registry), registry), settings=settings)
        qtbot.addWidget(window)
        base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
        assert window.files.unsaved_runs.base == Path(base) / "unsaved-runs"
        assert window.files.unsaved_runs.base.is_relative_to(tmp_path / "home")
        assert window.files.temp_folder is not None, "the real app folder also tidies the temporary folder"
    finally:
        QStandardPaths.setTestModeEnabled(False)


def _example(registry):
    from nnstudio.io import load

    return load(EXAMPLES["spirals"].path, registry)


def test_the_close_prompt_counts_runs_of_unsaved_work(window, dialogs):
    files = window.files
    store = files.unsaved_runs.store(window.document.session_id)
    _runs(store, 2)
    assert not window.document.is_modified()
    dialogs.unsaved_answer = "cancel"
    assert not window.close()
    assert dialogs.unsaved_runs == [2] and store.runs()
    dialogs.unsaved_answer = "discard"
    assert window.close()
    assert not store.root.exists(), "Discard deletes the runs with the rest of the unsaved work"


def test_the_prompt_text_names_the_runs():
    assert unsaved_question("spirals", 0, True) == "Save the changes to spirals before closing it?"
    text = unsaved_question("Spirals MLP", 2, False)
    assert text.startswith("You have 2 training runs of unsaved work in Spirals MLP.") and "Discard" in text
    assert "1 training run of" in unsaved_question("x", 1, True)


def test_saving_moves_the_runs_beside_the_file(window, dialogs, tmp_path):
    files = window.files
    store = files.unsaved_runs.store(window.document.session_id)
    _runs(store, 2)
    dialogs.save_path = tmp_path / "mine.nnstudio"
    dialogs.unsaved_answer = "save"
    assert window.close()
    assert [r.number for r in RunStore(tmp_path / "mine.runs").runs()] == [1, 2]
    assert not store.root.exists()


def test_an_example_opened_from_the_package_counts_as_unsaved(window, dialogs, tmp_path):
    example = EXAMPLES["spirals"].path
    assert not keeps_runs_beside(example) and keeps_runs_beside(tmp_path / "x.nnstudio")
    files = window.files
    assert files.open_path(example)
    _runs(files.unsaved_runs.store(window.document.session_id), 1)
    assert files.unsaved_run_count() == 1
    before = example.read_bytes()
    dialogs.save_path = None  # Save asks where, since the package folder is not the user's: cancelled here
    assert not files.save()
    assert example.read_bytes() == before
    assert not (example.parent / f"{example.stem}.runs").exists()


def test_crash_recovery_gives_the_document_its_runs_back(make_window, registry, recovery_folder):
    Recovery(recovery_folder).write("crashed", _example(registry), registry, None)
    info_file = recovery_folder / "crashed.json"
    info_file.write_text(json.dumps({**json.loads(info_file.read_text()), "pid": _dead_pid()}))
    runs = UnsavedRuns(recovery_folder.parent / "unsaved-runs")
    _runs(runs.store("crashed"), 3)
    _orphan(runs.store("crashed"))
    window = make_window()
    assert window.files.offer_recovery()
    assert window.document.session_id == "crashed"
    assert window.files.unsaved_run_count() == 3
    assert runs.session("crashed").pid == os.getpid(), "claimed, so no other instance offers them"


def test_autosave_keeps_a_copy_of_an_unchanged_project_with_runs(window, recovery_folder):
    files = window.files
    assert not files.autosave_now()
    _runs(files.unsaved_runs.store(window.document.session_id), 1)
    assert files.autosave_now()
    assert (recovery_folder / f"{files.recovery_key}.nnstudio").is_file()


def test_left_over_folders_no_live_process_owns_are_tidied(window, tmp_path):
    files = window.files
    runs = files.unsaved_runs
    empty_dead = runs.store("empty-dead")
    _runs(empty_dead, 1)
    empty_dead.delete(empty_dead.runs()[0])
    _orphan(empty_dead)
    full_dead = runs.store("full-dead")
    _runs(full_dead, 1)
    _orphan(full_dead)
    mine = runs.store("mine")
    _runs(mine, 1)
    mine.delete(mine.runs()[0])  # empty, but this live process owns it
    temp = tmp_path / "temp"
    old_empty, old_full, recent = (temp / f"nnstudio-runs-{n}" for n in ("a", "b", "c"))
    old_empty.mkdir(parents=True)
    _runs(RunStore(old_full), 1, name="Legacy")
    recent.mkdir()
    aged = time.time() - LEGACY_IDLE_S - 60
    for folder in (old_empty, old_full, *old_full.iterdir(), *old_full.glob("*/*")):
        os.utime(folder, (aged, aged))
    files.temp_folder = temp
    assert not files.offer_recovery()
    assert not empty_dead.root.exists() and full_dead.runs() and mine.root.exists()
    assert not old_empty.exists() and not old_full.exists() and recent.exists()
    offered = runs.sessions(exclude=(window.document.session_id,))
    assert sorted(s.name for s in offered) == ["Legacy", "Spirals MLP"], "runs with content are offered, not lost"
    assert "earlier session" in window.statusBar().currentMessage()
