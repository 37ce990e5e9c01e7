"""The training.health section and the scaled activation sampling in the generated settings form."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.ui.training.app_helpers import make_project


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_the_health_section_is_in_the_form_and_its_edits_are_undoable(training_app):
    app = training_app()
    settings = app.bench.settings_panel.settings
    assert settings.groups["health"].button.text().startswith("Health")
    form = settings.forms["health"]
    assert form.value("stop_on_findings") is False and form.value("divergence_factor") == 1000.0
    form.editor("stop_on_findings").edited.emit(True)
    assert app.document.project.training["health"]["stop_on_findings"] is True
    app.document.undo_stack.undo()
    assert "stop_on_findings" not in app.document.project.training.get("health", {})
    assert form.value("stop_on_findings") is False


def test_activation_sampling_shows_empty_for_the_scaled_default(training_app):
    form = training_app().bench.settings_panel.settings.forms["instrumentation"]
    assert form.value("activations_every") is None


def test_an_exploding_loss_ends_the_run_with_the_divergence_message_in_the_workbench(qtbot, training_app):
    training = {"epochs": 5, "batch_size": 32, "optimizer": {"name": "adam", "lr": 1e9}}
    app = training_app(make_project(training=training))
    click(qtbot, app.bench.controls.train)
    outcome = app.wait_finished()
    assert outcome.status == "failed" and outcome.node_id is None
    shown = app.bench.controls.message.text()
    assert "training diverged" in shown and "(1000× " in shown and "gradient clipping" in shown
    problems = [d for d in app.window.problems.diagnostics if d.code == "training-diverged"]
    assert problems and "Lower the learning rate" in problems[0].message
