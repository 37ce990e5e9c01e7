"""The dataset form's subset fields: typed class lists and per-class caps, undoable, refused with reasons."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.ui.training.app_helpers import make_project


def _type(qtbot, line, text: str) -> None:
    """Replace a line edit's text the way a user does, then press Return."""
    line.setFocus()
    line.selectAll()
    qtbot.keyClick(line, Qt.Key.Key_Backspace)
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)


def test_class_list_is_typed_undone_and_previewed(qtbot, training_app):
    app = training_app(make_project(dataset={"name": "digits"}))
    editor = app.bench.settings_panel.dataset
    form = editor.subset
    assert not form.isHidden(), "digits are classification data"
    line = form.editor("classes").line
    assert line.text() == "" and line.placeholderText().startswith("all")
    stack = app.document.undo_stack
    before = stack.count()
    _type(qtbot, line, "5, 6, 7, 8, 9")
    assert app.document.project.dataset == {"name": "digits", "classes": [5, 6, 7, 8, 9]}
    assert stack.count() == before + 1
    qtbot.waitUntil(lambda: app.bench.preview_data() is not None, timeout=30_000)
    data = app.bench.preview_data()
    assert data.num_classes == 5 and data.class_names == ["5", "6", "7", "8", "9"]
    stack.undo()
    assert "classes" not in app.document.project.dataset and line.text() == ""
    stack.redo()
    assert line.text() == "5, 6, 7, 8, 9"
    _type(qtbot, line, "")
    assert app.document.project.dataset == {"name": "digits"}, "an empty list means every class: the key goes"


def test_bad_class_lists_are_refused_under_the_field(qtbot, training_app):
    app = training_app(make_project(dataset={"name": "digits", "classes": [0, 1]}))
    form = app.bench.settings_panel.dataset.subset
    line = form.editor("classes").line
    for text, reason in (("5, 5", "listed twice"), ("7", "at least 2 classes"), ("1, two", "list of integers")):
        _type(qtbot, line, text)
        assert "Refused" in form.message("classes") and reason in form.message("classes"), text
        assert app.document.project.dataset["classes"] == [0, 1]
        assert line.text() == "0, 1", "a refused edit puts the accepted value back"


def test_train_per_class_spin_box_reads_all_when_empty(qtbot, training_app):
    app = training_app(make_project(dataset={"name": "iris"}))
    form = app.bench.settings_panel.dataset.subset
    box = form.editor("train_per_class").box
    assert box.text() == "all" and box.value() == box.minimum()
    stack = app.document.undo_stack
    before = stack.count()
    _type(qtbot, box.lineEdit(), "10")
    assert app.document.project.dataset == {"name": "iris", "train_per_class": 10}
    box.stepDown()
    box.stepDown()
    assert app.document.project.dataset["train_per_class"] == 8
    assert stack.count() == before + 1, "arrow clicks merge into one undo step"
    _type(qtbot, form.editor("classes").line, "0, 2")  # another setting: the next edit is its own step
    _type(qtbot, box.lineEdit(), "1")
    qtbot.keyClick(box, Qt.Key.Key_Down)  # one below the minimum is 'all'
    qtbot.keyClick(box, Qt.Key.Key_Return)  # the box re-reads its text 'all' on Return
    assert box.text() == "all" and form.message("train_per_class") == "", "'all' is a value, not a refusal"
    assert app.document.project.dataset == {"name": "iris", "classes": [0, 2]}, "'all' removes the key"
    stack.undo()
    assert app.document.project.dataset["train_per_class"] == 8 and box.value() == 8
    _type(qtbot, box.lineEdit(), "0")  # typing the number under the minimum also means 'all'
    assert box.text() == "all" and "train_per_class" not in app.document.project.dataset
    while stack.index() > before:
        stack.undo()
    assert app.document.project.dataset == {"name": "iris"} and box.text() == "all"


def test_subset_fields_hide_for_regression_unless_set(qtbot, training_app):
    app = training_app(make_project(dataset={"name": "sine"}))
    editor = app.bench.settings_panel.dataset
    assert editor.subset.isHidden(), "regression data has no classes to choose"
    app.document.undo_stack.push(_set_section(app, {"name": "sine", "train_per_class": 5}))
    assert not editor.subset.isHidden(), "a key that is set stays editable, so it can be cleared"
    app.bench.check()
    assert "needs classification data" in editor.subset.message("train_per_class")


def test_subset_fields_are_locked_with_the_rest(training_app):
    editor = training_app(make_project(dataset={"name": "digits"})).bench.settings_panel.dataset
    editor.set_locked(True)
    assert not editor.subset.isEnabled()
    editor.set_locked(False)
    assert editor.subset.isEnabled()


def _set_section(app, section: dict):
    from nnstudio.ui.commands import SetSectionCommand

    return SetSectionCommand(app.document, "dataset", section)
