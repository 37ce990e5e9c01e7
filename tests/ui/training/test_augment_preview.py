"""The augmentation list editor and the grid of augmented samples: undoable edits, problems, and draws."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from tests.ui.training.app_helpers import make_project

DIGITS = {"name": "digits", "train_per_class": 20}


def _add(qtbot, editor, name: str) -> None:
    editor.choice.setCurrentIndex(editor.choice.findData(name))
    qtbot.mouseClick(editor.buttons["add"], Qt.MouseButton.LeftButton)


def _type(qtbot, line, text: str) -> None:
    line.setFocus()
    line.selectAll()
    qtbot.keyClick(line, Qt.Key.Key_Backspace)
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)


def test_the_list_is_edited_with_undoable_commands(qtbot, training_app):
    app = training_app(make_project("digits_cnn", dataset=dict(DIGITS)))
    editor = app.bench.settings_panel.dataset.augment
    stack = app.document.undo_stack
    before = stack.count()
    _add(qtbot, editor, "random_crop")
    _add(qtbot, editor, "hflip")
    assert app.document.project.dataset["augment"] == [{"type": "random_crop"}, {"type": "hflip"}]
    assert editor.list.count() == 2 and editor.list.currentRow() == 1
    assert stack.count() == before + 2 and stack.undoText() == "Add hflip to dataset.augment"
    editor.list.setCurrentRow(0)
    _type(qtbot, editor.params.editor("padding").box.lineEdit(), "3")
    assert app.document.project.dataset["augment"][0] == {"type": "random_crop", "padding": 3}
    assert editor.list.item(0).text().startswith("1. Random crop (padding 3")
    qtbot.mouseClick(editor.buttons["down"], Qt.MouseButton.LeftButton)
    assert [e["type"] for e in app.document.project.dataset["augment"]] == ["hflip", "random_crop"]
    stack.undo()
    assert [e["type"] for e in app.document.project.dataset["augment"]] == ["random_crop", "hflip"]
    editor.list.setCurrentRow(1)
    qtbot.mouseClick(editor.buttons["remove"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(editor.buttons["remove"], Qt.MouseButton.LeftButton)
    assert "augment" not in app.document.project.dataset, "an emptied list leaves no key behind"
    while stack.count() > before and stack.canUndo() and stack.index() > before:
        stack.undo()
    assert app.document.project.dataset == DIGITS and editor.list.count() == 0


def test_a_transform_that_does_not_fit_is_shown_under_its_field(qtbot, training_app):
    app = training_app(make_project("digits_cnn", dataset={**DIGITS, "augment": [{"type": "color_jitter",
                                                                                    "hue": 0.1}]}))
    editor = app.bench.settings_panel.dataset.augment
    qtbot.waitUntil(lambda: app.bench.preview_data() is not None, timeout=30_000)
    app.bench.check()
    assert "needs colour images with 3 channels; these have 1" in editor.params.message("hue")


def test_the_grid_shows_augmented_samples_beside_the_originals_on_demand(qtbot, training_app):
    augment = [{"type": "random_erasing", "p": 1.0, "scale_min": 0.2, "scale_max": 0.3, "value": 1.0}]
    app = training_app(make_project("digits_cnn", dataset={**DIGITS, "augment": augment}))
    preview = app.bench.settings_panel.dataset.augment_preview
    assert preview.grids.isHidden() and preview.button.text() == "Show augmented samples"
    qtbot.mouseClick(preview.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not preview.grids.isHidden(), timeout=30_000)
    original, first = preview.original_item.image.copy(), preview.augmented_item.image.copy()
    assert original.shape == first.shape == (35, 35), "a 4x4 mosaic of 8x8 images"
    assert not np.array_equal(original, first)
    assert preview.button.text() == "Refresh"
    qtbot.mouseClick(preview.button, Qt.MouseButton.LeftButton)
    assert not np.array_equal(first, preview.augmented_item.image), "Refresh draws again"
    assert np.array_equal(original, preview.original_item.image), "the originals stay"
    app.bench.settings_panel.dataset.augment.remove()
    assert "No transforms yet" in preview.status.text() and preview.grids.isHidden()
