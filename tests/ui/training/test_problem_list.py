"""Issue 13: the status bar and the Problems dock read one problem list, computed from the project."""

from __future__ import annotations

from nnstudio.analysis.diagnostics import error
from nnstudio.io import save
from tests.ui.training.app_helpers import make_project

NO_DATASET = "dataset: no dataset chosen"


def messages(window) -> list[str]:
    return [d.message for d in window.problems.diagnostics]


def agree(window) -> None:
    """The status bar's summary is the dock's, word for word."""
    summary = window.problems.summary.text()
    assert window.status_label.text().endswith(f" · {summary}")


def test_status_bar_and_dock_agree_when_no_dataset_is_chosen(training_app):
    app = training_app(make_project(dataset={}))
    assert NO_DATASET in messages(app.window)
    agree(app.window)
    assert "No problems" not in app.window.status_label.text()
    errors = sum(d.is_error for d in app.window.problems.diagnostics)
    assert f"{errors} error" in app.window.status_label.text()


def test_a_reopened_project_shows_its_training_problems_at_once(training_app, tmp_path):
    app = training_app()
    assert NO_DATASET not in messages(app.window)
    path = tmp_path / "no-data.nnstudio"
    save(make_project(dataset={}), path, app.document.registry)
    assert app.window.files.open_path(path)
    assert NO_DATASET in messages(app.window)  # without showing the Training settings first
    agree(app.window)
    editor = app.bench.settings_panel.dataset
    assert editor.choice.currentIndex() == -1 and editor.choice.currentText() == ""
    assert editor.choice.placeholderText() == "No dataset chosen"
    assert "No dataset chosen yet" in editor.summary.text()


def test_the_list_follows_edits_and_drops_other_documents_checks(training_app, qtbot):
    app = training_app(make_project(dataset={}))
    model = app.window.problems.model
    editor = app.bench.settings_panel.dataset
    index = editor.choice.findData("moons")
    editor.choice.setCurrentIndex(index)
    editor.choice.activated.emit(index)  # choosing a dataset is an undoable edit
    qtbot.waitUntil(lambda: NO_DATASET not in messages(app.window))
    agree(app.window)
    stale = [error("dataset-setting", NO_DATASET, param="dataset")]
    model.set_training(object(), stale)  # a check of a project that is not open
    assert NO_DATASET not in messages(app.window)
    app.document.undo_stack.undo()
    qtbot.waitUntil(lambda: NO_DATASET in messages(app.window))
    agree(app.window)
