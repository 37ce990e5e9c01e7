"""Open, save, the unsaved-changes prompt, recent files, autosave and crash recovery."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from nnstudio.examples import DEFAULT_EXAMPLE, EXAMPLES
from nnstudio.io import dumps, load
from nnstudio.model.builder import GraphBuilder
from nnstudio.ui import recovery as writing_module  # write_atomically, which save_to goes through
from nnstudio.ui.commands import SetParamCommand
from nnstudio.ui.files import Recovery, SaveError, write_atomically


def _edit(window, value: int = 5) -> None:
    document = window.document
    node = next(n for n in document.graph.nodes.values() if n.type == "Linear")
    document.push(SetParamCommand(document, node.id, "out_features", value))


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    return int(done.stdout)


# --- save and reopen -----------------------------------------------------------------------------
def test_save_close_and_reopen_gives_the_same_document(make_window, tmp_path, dialogs):
    window = make_window()
    _edit(window)
    expected = dumps(window.document.project)
    dialogs.save_path = tmp_path / "mine.nnstudio"
    window.actions_by_id["file.save"].trigger()  # untitled: Save asks where
    assert (tmp_path / "mine.nnstudio").read_text(encoding="utf-8") == expected
    assert not window.document.is_modified()
    assert window.close()
    assert dialogs.unsaved_asked == []
    again = make_window()
    assert again.files.open_path(tmp_path / "mine.nnstudio")
    assert dumps(again.document.project) == expected
    assert not again.isWindowModified()


def test_save_on_a_saved_document_writes_in_place_without_asking(make_window, tmp_path, dialogs):
    window = make_window()
    assert window.files.save_to(tmp_path / "a.nnstudio")
    _edit(window, 9)
    dialogs.save_path = None  # would cancel if Save asked
    assert window.files.save()
    assert load(tmp_path / "a.nnstudio").graph.node_by_name("fc1").params["out_features"] == 9


def test_a_failed_write_leaves_the_old_file_and_the_modified_flag(make_window, tmp_path, dialogs, monkeypatch):
    window = make_window()
    target = tmp_path / "keep.nnstudio"
    target.write_text("old content", encoding="utf-8")

    class ShortWrite(writing_module.QSaveFile):
        def write(self, data) -> int:  # a full disk: only part of the data goes out
            super().write(bytes(data)[:10])
            return 10

    monkeypatch.setattr(writing_module, "QSaveFile", ShortWrite)
    _edit(window)
    assert not window.files.save_to(target)
    assert target.read_text(encoding="utf-8") == "old content"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "settings.ini") == ["keep.nnstudio"]
    assert dialogs.errors and dialogs.errors[-1][0] == "Could not save the project"
    assert window.document.is_modified()


def test_write_atomically_reports_an_unwritable_place(tmp_path):
    with pytest.raises(SaveError, match="missing"):
        write_atomically(tmp_path / "missing" / "x.nnstudio", "{}")


# --- opening ---------------------------------------------------------------------------------------
def test_opening_a_bad_file_shows_the_error_and_keeps_the_document(window, tmp_path, dialogs):
    before, document = dumps(window.document.project), window.document
    bad = tmp_path / "bad.nnstudio"
    bad.write_text('{"format": "nnstudio.project", "version": 1, "graph": {"nodes": [{"id": 3}]}}')
    assert not window.files.open_path(bad)
    title, message = dialogs.errors[-1]
    assert title == "Could not open the project"
    assert str(bad) in message and "graph.nodes[0].id" in message
    assert window.document is document and dumps(document.project) == before


def test_opening_a_missing_file_says_so(window, tmp_path, dialogs):
    assert not window.files.open_path(tmp_path / "gone.nnstudio")
    assert "gone.nnstudio" in dialogs.errors[-1][1]


def test_open_example_gives_an_untitled_unmodified_document(window):
    assert window.files.open_example("spirals")
    assert window.document.path is None and not window.document.is_modified()
    assert dumps(window.document.project) == dumps(load(EXAMPLES["spirals"].path))


def test_recent_files_are_kept_newest_first_and_pruned(make_window, tmp_path):
    window = make_window()
    for name in ("one", "two"):
        window.files.save_to(tmp_path / f"{name}.nnstudio")
    assert [p.name for p in window.files.recent.paths()] == ["two.nnstudio", "one.nnstudio"]
    (tmp_path / "two.nnstudio").unlink()
    assert [p.name for p in window.files.recent.paths()] == ["one.nnstudio"]
    window.recent_menu.aboutToShow.emit()
    assert next(a.text() for a in window.recent_menu.actions() if a.text()) == "one.nnstudio"


# --- the unsaved-changes prompt --------------------------------------------------------------------
def test_close_with_changes_cancel_keeps_the_window(window, dialogs):
    _edit(window)
    dialogs.unsaved_answer = "cancel"
    assert not window.close()
    assert window.isVisible() and window.document.is_modified()
    assert dialogs.unsaved_asked == ["Spirals MLP"]


def test_close_with_changes_discard_closes_without_saving(window, dialogs, tmp_path):
    _edit(window)
    dialogs.unsaved_answer = "discard"
    assert window.close()
    assert not any(p.suffix == ".nnstudio" for p in tmp_path.rglob("*"))


def test_close_with_changes_save_writes_then_closes(window, dialogs, tmp_path):
    _edit(window, 11)
    dialogs.unsaved_answer = "save"
    dialogs.save_path = tmp_path / "saved.nnstudio"
    assert window.close()
    assert load(tmp_path / "saved.nnstudio").graph.node_by_name("fc1").params["out_features"] == 11


def test_close_with_changes_save_then_cancelling_the_file_dialog_keeps_the_window(window, dialogs):
    _edit(window)
    dialogs.unsaved_answer = "save"
    dialogs.save_path = None
    assert not window.close()
    assert window.isVisible()


def test_new_asks_about_unsaved_changes_first(window, dialogs):
    _edit(window)
    dialogs.unsaved_answer = "cancel"
    assert not window.files.new()
    assert window.document.graph.nodes
    dialogs.unsaved_answer = "discard"
    assert window.files.new()
    assert not window.document.graph.nodes and not window.isWindowModified()


# --- autosave and recovery -------------------------------------------------------------------------
def test_autosave_writes_only_modified_documents_and_a_clean_save_removes_it(window, recovery_folder, tmp_path):
    files = window.files
    assert files.autosave_timer.interval() == 2 * 60 * 1000
    assert not files.autosave_now()
    _edit(window)
    assert files.autosave_now()
    copy = recovery_folder / f"{files.recovery_key}.nnstudio"
    assert copy.read_text(encoding="utf-8") == dumps(window.document.project)
    files.save_to(tmp_path / "clean.nnstudio")
    assert not copy.exists()


def test_undo_back_to_the_saved_state_removes_the_recovery_copy(window, recovery_folder):
    _edit(window)
    window.files.autosave_now()
    window.document.undo_stack.undo()
    assert list(recovery_folder.iterdir()) == []


def test_recovery_after_a_simulated_crash(make_window, registry, recovery_folder, tmp_path):
    original = tmp_path / "work.nnstudio"
    builder = GraphBuilder(name="unsaved work")
    builder.sequential(("Input", {"shape": [6]}), ("Linear", {"out_features": 4}), "Output")
    Recovery(recovery_folder).write("crashed", builder.project, registry, original)
    info_file = recovery_folder / "crashed.json"
    info = json.loads(info_file.read_text())
    info_file.write_text(json.dumps({**info, "pid": _dead_pid()}))  # the process that wrote it is gone

    window = make_window()
    assert window.files.offer_recovery()
    document = window.document
    assert dumps(document.project) == dumps(builder.project)
    assert document.is_modified() and window.isWindowModified()
    assert document.path == original
    assert window.files.recovery_key == "crashed"
    assert window.close()  # discarded at the prompt: the recovery copy goes with it
    assert not (recovery_folder / "crashed.nnstudio").exists()


def test_declining_recovery_deletes_the_copy(make_window, registry, recovery_folder, dialogs):
    Recovery(recovery_folder).write("old", load(EXAMPLES[DEFAULT_EXAMPLE].path), registry, None)
    info_file = recovery_folder / "old.json"
    info_file.write_text(json.dumps({**json.loads(info_file.read_text()), "pid": _dead_pid()}))
    dialogs.recover_answer = False
    window = make_window()
    assert not window.files.offer_recovery()
    assert list(recovery_folder.iterdir()) == []


def test_recovery_files_of_running_instances_are_not_offered(window, registry, recovery_folder):
    Recovery(recovery_folder).write("mine", load(EXAMPLES[DEFAULT_EXAMPLE].path), registry, None)
    assert Recovery(recovery_folder).pending() == []  # written by this (running) process
    assert not window.files.offer_recovery()
