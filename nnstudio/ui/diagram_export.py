"""File ▸ Export Diagram…: the graph as a PNG (at twice its size, for slides) or an SVG (vector, for papers).

The picture is drawn by a private scene built from the document, not by the canvas: it has no selection,
no half-finished gesture, no grid and every detail at any zoom, and nothing on screen changes. Its items
draw without a pixmap cache, so the SVG holds real text and paths. The file is written to a temporary
name beside the target and renamed over it only when complete, so a failure never leaves half a picture.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QFileDialog, QGraphicsItem, QMessageBox

from nnstudio.ui.document import Document
from nnstudio.ui.editor.scene import EditorScene
from nnstudio.util.atomic import atomic_write

if TYPE_CHECKING:
    from nnstudio.ui.main_window import MainWindow

MARGIN = 24.0  # scene units of white around the graph
PNG_SCALE = 2.0  # PNG pixels per scene unit: sharp on a slide or a high-density screen
BACKGROUND = QColor("#ffffff")
STATUS_MS = 10_000


class DiagramError(Exception):
    """The diagram cannot be written; the message names the file and the reason."""


@dataclass(frozen=True)
class DiagramFormat:
    suffix: str
    label: str
    write: Callable[[EditorScene, QRectF, str], QSize]  # (scene, source rect, temp file) -> size written

    @property
    def filter(self) -> str:
        return f"{self.label} (*{self.suffix})"


class DiagramScene(EditorScene):
    """The document's graph as the canvas draws it, on plain white and without pixmap caches."""

    def __init__(self, document: Document, parent: QObject) -> None:
        super().__init__(document, parent)
        for item in self.items():
            item.setCacheMode(QGraphicsItem.CacheMode.NoCache)

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, BACKGROUND)


def diagram_rect(scene: EditorScene) -> QRectF:
    """What the visible items cover (nodes, links, their labels), with the margin around it."""
    rect = QRectF()
    for item in scene.items():
        if item.isVisible() and item.parentItem() is None:
            rect = rect.united(item.sceneBoundingRect())
    return rect.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)


def _render(scene: EditorScene, painter: QPainter, source: QRectF, target: QRectF) -> None:
    painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
    scene.render(painter, target, source, Qt.AspectRatioMode.KeepAspectRatio)


def write_png(scene: EditorScene, source: QRectF, file_name: str) -> QSize:
    size = QSize(math.ceil(source.width() * PNG_SCALE), math.ceil(source.height() * PNG_SCALE))
    image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(BACKGROUND)
    painter = QPainter(image)
    _render(scene, painter, source, QRectF(0, 0, size.width(), size.height()))
    painter.end()
    if not image.save(file_name, "PNG"):
        raise OSError("the PNG could not be written")
    return size


def write_svg(scene: EditorScene, source: QRectF, file_name: str) -> QSize:
    size = QSize(math.ceil(source.width()), math.ceil(source.height()))
    generator = QSvgGenerator()
    generator.setFileName(file_name)
    generator.setSize(size)
    generator.setViewBox(QRectF(0, 0, size.width(), size.height()))
    generator.setTitle(scene.document.project.metadata.name)
    generator.setDescription("A network diagram exported from nnstudio")
    painter = QPainter()
    if not painter.begin(generator):
        raise OSError("the SVG could not be written")
    _render(scene, painter, source, QRectF(0, 0, size.width(), size.height()))
    painter.end()
    return size


DIAGRAM_FORMATS: tuple[DiagramFormat, ...] = (
    DiagramFormat(".png", "PNG image", write_png),
    DiagramFormat(".svg", "SVG drawing", write_svg),
)
FILE_FILTER = ";;".join(f.filter for f in DIAGRAM_FORMATS)


def format_for(path: Path) -> DiagramFormat:
    for candidate in DIAGRAM_FORMATS:
        if path.suffix.lower() == candidate.suffix:
            return candidate
    names = " or ".join(f.suffix for f in DIAGRAM_FORMATS)
    raise DiagramError(f"{path}: a diagram is written as {names}; the name ends in {path.suffix or 'nothing'}")


def export_diagram(document: Document, path: Path) -> QSize:
    """Write the document's graph to `path` (the suffix picks the format). Returns the picture's size."""
    path = Path(path)
    chosen = format_for(path)
    if not document.graph.nodes:
        raise DiagramError("the canvas is empty: add a layer before exporting a diagram")
    if path.is_dir():
        raise DiagramError(f"{path}: is a folder; give a file name ending in {chosen.suffix}")
    if not path.parent.is_dir():
        raise DiagramError(f"{path}: the folder {path.parent} does not exist")
    holder = QObject()
    scene = DiagramScene(document, holder)
    sizes: list[QSize] = []
    try:
        source = diagram_rect(scene)
        atomic_write(path, lambda temp: sizes.append(chosen.write(scene, source, temp)))
    except OSError as exc:
        raise DiagramError(f"{path}: {exc.strerror or exc}") from None
    finally:
        scene.detach()
        holder.deleteLater()
    return sizes[0]


def ask_diagram_path(window: MainWindow) -> Path | None:
    """The save dialog with both formats; a name typed without a suffix gets the chosen filter's."""
    document = window.document
    folder = document.path.parent if document.path is not None else Path.home()
    stem = document.path.stem if document.path is not None else _stem(document.project.metadata.name)
    name, chosen_filter = QFileDialog.getSaveFileName(
        window, "Export diagram", str(folder / f"{stem}.png"), FILE_FILTER
    )
    if not name:
        return None
    path = Path(name)
    if not path.suffix:
        suffix = next((f.suffix for f in DIAGRAM_FORMATS if f.filter == chosen_filter), DIAGRAM_FORMATS[0].suffix)
        path = path.with_name(path.name + suffix)
    return path


def export_diagram_dialog(window: MainWindow) -> Path | None:
    """File ▸ Export Diagram…: ask where, write it, say so in the status bar or in one line of a message."""
    path = ask_diagram_path(window)
    if path is None:
        return None
    try:
        size = export_diagram(window.document, path)
    except DiagramError as exc:
        QMessageBox.warning(window, "Could not export the diagram", str(exc))
        return None
    window.statusBar().showMessage(f"Diagram written to {path} ({size.width()}×{size.height()})", STATUS_MS)
    return path


def _stem(name: str) -> str:
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in name.strip()).strip("_")
    return stem.lower() or "diagram"
