"""The text on a node, laid out once per change into QStaticText so paint() only blits glyphs.

Three levels of detail, chosen in paint() from the zoom:
- close up: header (glyph, or a snowflake when frozen; name), layer title (with "lr ×0.1" when the node's
  learning rate is scaled), key params as a two-column sheet, output shape (a loss says what it feeds);
- mid zoom, where body text would be a blur: only the name, large, across the body;
- far out: nothing (the coloured box and its header are enough to see the structure).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QStaticText

from nnstudio.layers.spec import LayerSpec
from nnstudio.model import Node
from nnstudio.ui.editor import style

TEXT_ZOOM = 0.55  # below this, the body text is replaced by the large name
NAME_ZOOM = 0.15  # below this, no text at all
FROZEN_GLYPH = "❄"  # replaces the layer's glyph in the header of a frozen node


@dataclass(frozen=True)
class FaceData:
    """Everything shown on a node, as plain values: equal data means no relayout is needed."""

    name: str
    glyph: str
    title: str
    params: tuple[tuple[str, str], ...]
    shape: str
    shape_known: bool
    returns: bool  # an Output node: it shows what the model returns
    role: str = "layer"
    frozen: bool = False
    lr_scale: float = 1.0

    @property
    def lr_note(self) -> str:
        """'lr ×0.1' for a learning-rate scale other than 1; nothing for a frozen node (it gets no updates)."""
        return f"lr ×{self.lr_scale:g}" if self.lr_scale != 1.0 and not self.frozen else ""

    @property
    def result_line(self) -> str:
        if self.role == "loss":
            return "→ total loss"
        return ("returns " if self.returns else "→ ") + (self.shape or "?")


def face_data(node: Node, spec: LayerSpec | None, shape: str, known: bool) -> FaceData:
    training = node.training
    if spec is None:
        return FaceData(node.name, "?", f"unknown type {node.type}", (), shape, known, False,
                        frozen=training.frozen, lr_scale=training.lr_scale)
    defaults = spec.defaults()
    params = tuple((name, style.format_value(node.params.get(name, defaults.get(name))))
                   for name in spec.key_params)
    returns = not spec.outputs and spec.role != "loss"
    return FaceData(node.name, spec.glyph, spec.title, params, shape, known, returns, spec.role, training.frozen,
                    training.lr_scale)


def body_lines(spec: LayerSpec | None) -> int:
    """Lines under the header: the title, one per key param, the output shape."""
    return 2 + (len(spec.key_params) if spec is not None else 0)


def frame_height(spec: LayerSpec | None, input_ports: int) -> float:
    """A node box's height: its header, then room for its text lines or its input ports, whichever needs more."""
    text_height = body_lines(spec) * style.LINE_HEIGHT + 2 * style.PADDING
    port_height = style.PORT_TOP + (max(input_ports, 1) - 1) * style.PORT_SPACING + 2 * style.PADDING
    return style.HEADER_HEIGHT + max(text_height, port_height)


Run = tuple[QPointF, QStaticText, str, QColor]  # where, text, font role, colour


class Face:
    def __init__(self) -> None:
        self.data: FaceData | None = None
        self._runs: list[Run] = []
        self._name_run: Run | None = None

    def set(self, data: FaceData, width: float, height: float) -> bool:
        """Lay out `data`; returns False (and does nothing) when it is what is shown already."""
        if data == self.data:
            return False
        self.data = data
        self._runs = _layout(data, width)
        self._name_run = _name_layout(data.name, width, height)
        return True

    def lines(self) -> list[str]:
        """The close-up text, one string per line, params as 'name = value' (tests, accessibility)."""
        if self.data is None:
            return []
        data = self.data
        header = f"{data.name} {FROZEN_GLYPH} frozen" if data.frozen else data.name
        title = f"{data.title} · {data.lr_note}" if data.lr_note else data.title
        return [header, title, *(f"{k} = {v}" for k, v in data.params), data.result_line]

    def paint(self, painter: QPainter, zoom: float) -> None:
        if zoom >= TEXT_ZOOM:
            runs = self._runs
        elif zoom >= NAME_ZOOM and self._name_run is not None:
            runs = [self._name_run]
        else:
            return
        for position, static, role, colour in runs:
            painter.setFont(style.font(role))
            painter.setPen(colour)
            painter.drawStaticText(position, static)


def _static(text: str) -> QStaticText:
    static = QStaticText(text)
    static.setTextFormat(Qt.TextFormat.PlainText)
    return static


def _layout(data: FaceData, width: float) -> list[Run]:
    runs: list[Run] = []
    header_y = (style.HEADER_HEIGHT - style.LINE_HEIGHT) / 2
    glyph = FROZEN_GLYPH if data.frozen else data.glyph  # the title line still says what the layer is
    runs.append((QPointF(style.PADDING, header_y - 1), _static(glyph), "glyph", style.NODE_FILL))
    name_x = style.PADDING + 20
    name = style.elide(data.name, "title", width - name_x - 24)  # the problem badge sits at the right end
    runs.append((QPointF(name_x, header_y), _static(name), "title", style.NODE_FILL))
    inner = width - 2 * style.TEXT_LEFT
    y = style.HEADER_HEIGHT + style.PADDING
    title_room = inner
    if data.lr_note:  # small, right-aligned on the title line, so the node keeps its height
        note_width = style.text_width(data.lr_note, "label")
        title_room -= note_width + 6
        runs.append((QPointF(width - style.TEXT_LEFT - note_width, y + 1), _static(data.lr_note), "label",
                     style.LR_TEXT))
    runs.append((QPointF(style.TEXT_LEFT, y), _static(style.elide(data.title, "body", title_room)), "body",
                 style.TEXT_MUTED))
    for key, value in data.params:  # a small property sheet: the value is never the part elided
        y += style.LINE_HEIGHT
        value = style.elide(value, "body", inner * 0.6)
        value_width = style.text_width(value, "body")
        key = style.elide(key, "body", inner - value_width - 8)
        runs.append((QPointF(style.TEXT_LEFT, y), _static(key), "body", style.TEXT_MUTED))
        runs.append((QPointF(width - style.TEXT_LEFT - value_width, y), _static(value), "body", style.TEXT))
    y += style.LINE_HEIGHT
    result = style.elide(data.result_line, "shape", inner)
    colour = style.LOSS_TEXT if data.role == "loss" else (
        style.SHAPE_TEXT if data.shape_known else style.SHAPE_UNKNOWN)
    runs.append((QPointF(style.TEXT_LEFT, y), _static(result), "shape", colour))
    return runs


def _name_layout(name: str, width: float, height: float) -> Run:
    """The name in a large font, centred in the body, for mid zoom."""
    text = style.elide(name, "overview", width - 12)
    text_width = style.text_width(text, "overview")
    top = style.HEADER_HEIGHT + (height - style.HEADER_HEIGHT - style.metrics("overview").height()) / 2
    return QPointF((width - text_width) / 2, top), _static(text), "overview", style.TEXT
