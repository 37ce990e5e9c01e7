"""Look of the canvas in one place: sizes, colours, fonts, and text helpers measured once.

Fonts are sized in pixels so a node's layout is the same in scene units on every screen; HiDPI
scaling is then left to Qt's device pixel ratio.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF

GRID = 20.0  # snapping step in scene units
NODE_WIDTH = 140.0
HEADER_HEIGHT = 26.0
LINE_HEIGHT = 16.0
PADDING = 7.0
TEXT_LEFT = 12.0  # body text starts clear of the input ports
CORNER = 7.0
PORT_RADIUS = 6.0
PORT_HIT_RADIUS = 11.0  # ports are easier to grab than to see
PORT_SPACING = 20.0
PORT_TOP = 15.0  # centre of the first port below the header
EDGE_WIDTH = 2.0
EDGE_HIT_WIDTH = 12.0
MIN_ZOOM, MAX_ZOOM = 0.1, 4.0
DETAIL_ZOOM = 0.35  # below this zoom, ports hide and links are drawn as one overview item
LABEL_ZOOM = 0.55  # below this zoom, links drop their shape labels (they would be unreadable)

BACKGROUND = QColor("#f4f5f7")
GRID_MINOR = QColor("#eceef1")
GRID_MAJOR = QColor("#dde0e5")
NODE_FILL = QColor("#ffffff")
NODE_BORDER = QColor("#b9bfc8")
SELECTION = QColor("#1c6fd1")
TEXT = QColor("#1f2329")
TEXT_MUTED = QColor("#5f6772")
SHAPE_TEXT = QColor("#1b5e20")
SHAPE_UNKNOWN = QColor("#9aa1ab")
EDGE = QColor("#6b7480")
EDGE_ERROR = QColor("#d92b2b")
ERROR = QColor("#e03131")
WARNING = QColor("#f08c00")
PORT_FILL = QColor("#ffffff")
PORT_BORDER = QColor("#59616c")
PORT_OK = QColor("#2f9e44")
PORT_TARGET = QColor("#12b886")
PORT_REFUSED = QColor("#c9ced6")
LABEL_FILL = QColor(255, 255, 255, 225)
INSERT_HINT = QColor("#12b886")
# A frozen node: a cool, lightly hatched body and a blue outline, visible at every zoom; a snowflake in
# its header. The hatch is faint enough that the body text keeps its contrast.
FROZEN_FILL = QColor("#e8f1fb")
FROZEN_HATCH = QColor("#c7dcf2")
FROZEN_BORDER = QColor("#4a8bd4")
LR_TEXT = QColor("#b35c00")  # a learning-rate scale other than 1, small on the title line
# Loss nodes: a red header and a warm body; they and Targets (training-only data) get a dashed outline.
LOSS_FILL = QColor("#fff5f5")
TARGET_FILL = QColor("#fbf6f1")
TRAINING_ONLY_BORDER = QColor("#a8636b")
LOSS_TEXT = QColor("#a8636b")  # a loss node's "→ total loss" line

CATEGORY_COLOURS = {
    "Input / Output": "#3b5bdb",
    "Dense": "#1971c2",
    "Convolution": "#0c8599",
    "Pooling": "#2b8a3e",
    "Normalisation": "#9c36b5",
    "Activation": "#e8590c",
    "Shape": "#5c677d",
    "Sequence": "#c2255c",
    "Attention": "#6741d9",
    "Merge": "#087f5b",
    "Stochastic": "#5c940d",
    "Losses": "#c92a2a",
}
ROLE_COLOURS = {"target": "#9c6644"}  # a Target is filed with Input / Output, but feeds only the losses
UNKNOWN_CATEGORY = "#495057"


def category_colour(category: str | None) -> QColor:
    return QColor(CATEGORY_COLOURS.get(category or "", UNKNOWN_CATEGORY))


def header_colour(spec: Any) -> QColor:
    """A layer's header (and palette icon) colour: its role's when it has one of its own, else its category's."""
    if spec is None:
        return category_colour(None)
    role = ROLE_COLOURS.get(spec.role)
    return QColor(role) if role else category_colour(spec.category)


@cache
def font(role: str) -> QFont:
    """Shared fonts by role: 'title', 'body', 'shape', 'label', 'glyph', 'port', 'overview'."""
    sizes = {"title": 12, "body": 11, "shape": 11, "label": 10, "glyph": 13, "port": 9, "overview": 20}
    result = QFont()
    if role == "shape":
        result.setFamilies(["DejaVu Sans Mono", "Menlo", "Consolas", "monospace"])
        result.setStyleHint(QFont.StyleHint.Monospace)
    result.setPixelSize(sizes[role])
    result.setBold(role in ("title", "overview"))
    return result


@cache
def metrics(role: str) -> QFontMetricsF:
    return QFontMetricsF(font(role))


@lru_cache(maxsize=4096)  # node faces repeat the same few strings; measuring them is the slow part
def elide(text: str, role: str, width: float) -> str:
    return metrics(role).elidedText(text, Qt.TextElideMode.ElideRight, width)


@lru_cache(maxsize=4096)
def text_width(text: str, role: str) -> float:
    return metrics(role).horizontalAdvance(text)


def format_value(value: Any) -> str:
    """A compact, readable param value for the node face."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


def compact_shape(shape: tuple[int, ...], dtype: str) -> str:
    """A link label: the dims after the batch, e.g. '16×32' ('scalar' if none); dtype if not float32.
    Shorter than '[N, 16, 32]', so it fits the gap between two nodes."""
    text = "×".join(str(d) for d in shape) or "scalar"
    return text if dtype == "float32" else f"{text} {dtype}"
