"""Training ▸ Check…: the report on spirals, the LR plot, and the suggestion applied as an undoable edit."""

from __future__ import annotations

from PySide6.QtCore import Qt

from nnstudio.training.sanity import CHECKS, CheckOptions
from nnstudio.training.settings import parse_settings
from nnstudio.ui.training.check_dialog import CheckDialog
from tests.ui.training.app_helpers import make_project


def _lr(document) -> float:
    return parse_settings(document.project.training)[0].optimizer.lr


def test_the_dialog_reports_every_check_and_applies_the_lr_undoably(training_app, qtbot):
    app = training_app()
    dialog = CheckDialog(app.document, None, app.window, CheckOptions(overfit_steps=60, lr_steps=40))
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.finished_checks, timeout=60_000):
        dialog.start()
    text = dialog.report.toPlainText()
    for check in CHECKS:
        assert f"{check.title}:" in text
    assert dialog.plot.isVisible() and dialog.suggestion is not None
    assert dialog.apply_button.isEnabled()
    before = _lr(app.document)
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert _lr(app.document) == dialog.suggestion != before
    app.document.undo_stack.undo()
    assert _lr(app.document) == before


def test_the_menu_action_opens_the_dialog_and_a_bad_project_is_one_line(training_app, qtbot):
    app = training_app(make_project(dataset={"name": "no-such-dataset"}))
    app.controller.actions["check"].trigger()
    dialog = app.window.findChild(CheckDialog)
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Cannot check"), timeout=30_000)
    assert "\n" not in dialog.status.text()
    dialog.close()
