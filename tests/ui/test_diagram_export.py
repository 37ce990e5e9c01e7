"""File ▸ Export Diagram…: PNG at twice the graph's size and SVG with real text, written whole or not at all."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QMessageBox

from nnstudio.model import Project
from nnstudio.ui import diagram_export
from nnstudio.ui.diagram_export import (
    MARGIN,
    PNG_SCALE,
    DiagramError,
    DiagramScene,
    diagram_rect,
    export_diagram,
)
from nnstudio.ui.document import Document


def names(window) -> list[str]:
    return [node.name for node in window.document.graph.nodes.values()]


def test_png_is_the_graph_at_twice_its_size(window, tmp_path: Path) -> None:
    path = tmp_path / "net.png"
    size = export_diagram(window.document, path)
    image = QImage(str(path))
    assert not image.isNull() and (image.width(), image.height()) == (size.width(), size.height())
    nodes = window.view.scene().nodes_rect()
    assert image.width() >= (nodes.width() + 2 * MARGIN) * PNG_SCALE
    assert image.height() >= (nodes.height() + 2 * MARGIN) * PNG_SCALE
    scene = DiagramScene(window.document, window)
    rect = diagram_rect(scene)
    scene.detach()
    assert (image.width(), image.height()) == (math.ceil(rect.width() * 2), math.ceil(rect.height() * 2))
    colours = {image.pixel(x, image.height() // 2) for x in range(0, image.width(), 3)}
    assert len(colours) > 3  # nodes drawn, not a blank page
    assert [p.name for p in tmp_path.iterdir()] == ["net.png"]  # no temporary file left beside it


def test_svg_parses_and_names_every_node(window, tmp_path: Path) -> None:
    path = tmp_path / "net.svg"
    export_diagram(window.document, path)
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    text = "".join(root.itertext())
    for name in names(window):
        assert name in text


def test_export_leaves_the_canvas_alone(window, tmp_path: Path) -> None:
    window.view.select_all()
    before = window.view.selected_node_ids()
    export_diagram(window.document, tmp_path / "net.svg")
    assert window.view.selected_node_ids() == before
    assert not window.document.is_modified()


@pytest.mark.parametrize(
    "name, words", [("missing/net.png", "does not exist"), ("net.jpg", ".png or .svg"), ("folder.png", "is a folder")]
)
def test_bad_paths_get_one_line(window, tmp_path: Path, name: str, words: str) -> None:
    (tmp_path / "folder.png").mkdir()
    with pytest.raises(DiagramError) as caught:
        export_diagram(window.document, tmp_path / name)
    message = str(caught.value)
    assert words in message and str(tmp_path / name) in message and "\n" not in message
    assert [p.name for p in tmp_path.rglob("*")] == ["folder.png"]


def test_a_failed_write_keeps_the_old_file(window, tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "net.png"
    path.write_bytes(b"the old picture")
    monkeypatch.setattr(QImage, "save", lambda self, *args: False)
    with pytest.raises(DiagramError, match="could not be written"):
        export_diagram(window.document, path)
    assert path.read_bytes() == b"the old picture"
    assert [p.name for p in tmp_path.iterdir()] == ["net.png"]


def test_an_empty_canvas_is_refused(registry, tmp_path: Path, qtbot) -> None:
    with pytest.raises(DiagramError, match="empty"):
        export_diagram(Document(Project(), registry), tmp_path / "empty.png")


def test_menu_action_asks_both_formats_and_adds_the_suffix(window, tmp_path: Path, monkeypatch) -> None:
    asked = []

    def save_name(parent, title, suggested, filters):
        asked.append(filters)
        return str(tmp_path / "diagram"), "SVG drawing (*.svg)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_name))
    window.actions_by_id["file.export_diagram"].trigger()
    assert "*.png" in asked[0] and "*.svg" in asked[0]
    assert (tmp_path / "diagram.svg").is_file()
    assert "Diagram written to" in window.statusBar().currentMessage()


def test_menu_action_shows_a_bad_path_in_one_line(window, tmp_path: Path, monkeypatch) -> None:
    shown = []
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a: (str(tmp_path / "nope" / "x.png"), "PNG image (*.png)"))
    )
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda parent, title, text: shown.append(text)))
    assert diagram_export.export_diagram_dialog(window) is None
    assert len(shown) == 1 and "does not exist" in shown[0] and "\n" not in shown[0]
