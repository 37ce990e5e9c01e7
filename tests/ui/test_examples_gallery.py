"""The Examples gallery, and every shipped example opening in the window without errors."""

from __future__ import annotations

import pytest

from nnstudio.examples import EXAMPLES
from nnstudio.io import dumps, load
from nnstudio.ui.gallery import ExamplesGallery


def test_gallery_lists_every_example_with_its_description(qtbot):
    gallery = ExamplesGallery()
    qtbot.addWidget(gallery)
    assert gallery.names() == list(EXAMPLES)
    for row, example in enumerate(EXAMPLES.values()):
        label = gallery.list.itemWidget(gallery.list.item(row))
        assert example.title in label.text() and example.description in label.text()
    gallery.list.setCurrentRow(1)
    assert gallery.chosen == list(EXAMPLES)[1]


def test_choosing_in_the_gallery_opens_the_example(window, monkeypatch):
    monkeypatch.setattr(ExamplesGallery, "exec", lambda self: (self.list.setCurrentRow(len(EXAMPLES) - 1), 1)[1])
    window.actions_by_id["file.examples"].trigger()
    last = list(EXAMPLES.values())[-1]
    assert dumps(window.document.project) == dumps(load(last.path))
    assert window.document.path is None and not window.isWindowModified()
    assert window.windowTitle().startswith(window.document.project.metadata.name)


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_every_shipped_example_opens_without_errors(window, dialogs, name):
    assert window.files.open_example(name)
    assert dialogs.errors == []
    analysis = window.document.reanalyze_now()
    assert analysis.errors == []
    assert not any(d.is_error for d in window.problems.diagnostics)
    assert len(window.view.scene().nodes) == len(window.document.graph.nodes)
