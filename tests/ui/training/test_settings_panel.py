"""Training and dataset settings: generated editors, undoable edits, problems before training."""

from __future__ import annotations

from tests.ui.training.app_helpers import make_project


def test_every_training_setting_has_an_editor(training_app):
    from dataclasses import fields

    from nnstudio.training.settings import TrainingSettings, specs_of

    editor = training_app().bench.settings_panel.settings
    assert set(editor.forms[""].specs) == {s.name for s in specs_of(TrainingSettings)}
    for f in fields(TrainingSettings):
        if "section" in f.metadata:
            assert set(editor.forms[f.name].specs) == {s.name for s in specs_of(f.metadata["section"])}


def test_a_setting_change_is_one_undoable_step(training_app):
    app = training_app()
    form = app.bench.settings_panel.settings.forms["optimizer"]
    stack = app.document.undo_stack
    before = stack.count()
    for value in (0.02, 0.03, 0.04):  # like clicking a spin box arrow three times
        form.editor("lr").edited.emit(value)
    assert app.document.project.training["optimizer"]["lr"] == 0.04
    assert stack.count() == before + 1
    stack.undo()
    assert app.document.project.training["optimizer"]["lr"] == 0.01
    assert form.value("lr") == 0.01, "the form follows undo"
    stack.redo()
    assert form.value("lr") == 0.04


def test_rows_that_do_not_apply_are_hidden(training_app):
    app = training_app()
    form = app.bench.settings_panel.settings.forms["optimizer"]
    row = list(form.specs).index("momentum")
    assert not form.layout().isRowVisible(row), "adam has no momentum"
    form.editor("name").edited.emit("sgd")
    assert form.layout().isRowVisible(row)


def test_class_weights_are_edited_as_text(training_app):
    app = training_app()
    form = app.bench.settings_panel.settings.forms["loss"]
    form.editor("class_weights").edited.emit("1, 2.5")
    assert app.document.project.training["loss"]["class_weights"] == [1.0, 2.5]
    form.editor("class_weights").edited.emit("1, many")
    assert "Refused" in form.message("class_weights")
    assert app.document.project.training["loss"]["class_weights"] == [1.0, 2.5]


def test_invalid_settings_reach_the_problems_dock_and_block_training(training_app):
    project = make_project(training={"epochs": 3, "optimizer": {"name": "adam", "nesterov": True}})
    app = training_app(project)
    bench = app.bench
    problems = bench.check()
    assert any(d.param == "training.optimizer.nesterov" for d in problems)
    bench.bridge.publish()
    shown = app.window.problems.diagnostics
    assert any("nesterov" in d.message for d in shown)
    assert "nesterov" in bench.settings_panel.settings.forms["optimizer"].message("nesterov").lower()
    assert not bench.train()
    assert "Cannot train" in bench.controls.message.text()
    assert bench.session is None and not app.window.view.read_only


def test_graph_that_does_not_fit_the_data_is_reported_before_training(qtbot, training_app):
    project = make_project(dataset={"name": "blobs", "params": {"samples": 200, "classes": 4}})
    app = training_app(project)
    bench = app.bench
    qtbot.waitUntil(lambda: bench.preview_data() is not None, timeout=30_000)
    problems = bench.check()
    mismatch = [d for d in problems if d.code == "target-shape"]
    assert mismatch and mismatch[0].node_id in app.document.graph.nodes
    assert "4 classes" in mismatch[0].message
    assert not bench.train()


def test_choosing_a_dataset_is_undoable_and_previewed(qtbot, training_app):
    app = training_app()
    bench = app.bench
    editor = bench.settings_panel.dataset
    index = editor.choice.findData("moons")
    editor.choice.setCurrentIndex(index)
    editor.choice.activated.emit(index)
    assert app.document.project.dataset == {"name": "moons"}
    assert editor.params is not None and "noise" in editor.params.specs
    qtbot.waitUntil(lambda: bench.settings_panel.preview.shown == "points", timeout=30_000)
    app.document.undo_stack.undo()
    assert app.document.project.dataset["name"] == "spirals"
    assert editor.choice.currentData() == "spirals"


def test_settings_are_locked_while_training(qtbot, training_app):
    app = training_app(make_project(training={"epochs": 200, "batch_size": 16}))
    bench = app.bench
    assert bench.train()
    form = bench.settings_panel.settings.forms[""]
    assert not form.isEnabled()
    bench.stop()
    qtbot.waitUntil(lambda: bench.session is None, timeout=60_000)
    assert form.isEnabled()
