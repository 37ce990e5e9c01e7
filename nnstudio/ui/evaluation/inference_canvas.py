"""A small canvas to draw a sample on with the mouse: white ink on black, a round brush, and Clear.

The canvas is much larger than a digit's 8×8 pixels, so drawing feels like writing; `ink()` hands the picture
over as [h, w] values in 0..1, and training/sample_input.py resamples it to the Input's shape. `stroke_done`
fires when the mouse is released (and on Clear), so the page can answer after every stroke.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

CANVAS = 168  # px: 21 canvas pixels per pixel of an 8×8 digit
BRUSH = 28  # px: a digit pixel and a third, about as wide as the strokes of the training digits


class DrawingCanvas(QWidget):
    """Paint with the left mouse button; the picture is a greyscale QImage of CANVAS × CANVAS pixels."""

    stroke_done = Signal()

    def __init__(self, size: int = CANVAS, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = QImage(size, size, QImage.Format.Format_Grayscale8)
        self.image.fill(0)
        self.brush = BRUSH
        self._last: QPointF | None = None
        self.setFixedSize(size, size)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Draw with the left mouse button; each stroke is run through the model")

    def clear(self) -> None:
        self.image.fill(0)
        self.update()
        self.stroke_done.emit()

    def ink(self) -> np.ndarray:
        """The picture as [h, w] floats in 0..1 (1 = full ink)."""
        h, w, line = self.image.height(), self.image.width(), self.image.bytesPerLine()
        rows = np.frombuffer(self.image.constBits(), np.uint8, count=h * line).reshape(h, line)
        return rows[:, :w].astype(np.float32) / 255.0

    def is_blank(self) -> bool:
        return not bool(self.ink().any())

    def draw_line(self, start: QPointF, end: QPointF) -> None:
        """One brush segment (what a mouse drag paints), in canvas pixels."""
        painter = QPainter(self.image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor(255, 255, 255), self.brush, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                   Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        if start == end:
            painter.drawPoint(start)  # a zero-length line paints nothing; a wide point is a round dot
        else:
            painter.drawLine(start, end)
        painter.end()
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # Qt's name
        if event.button() == Qt.MouseButton.LeftButton:
            self._last = event.position()
            self.draw_line(self._last, self._last)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # Qt's name
        if self._last is not None and event.buttons() & Qt.MouseButton.LeftButton:
            point = event.position()
            self.draw_line(self._last, point)
            self._last = point

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # Qt's name
        if event.button() == Qt.MouseButton.LeftButton and self._last is not None:
            self._last = None
            self.stroke_done.emit()

    def paintEvent(self, event: QPaintEvent) -> None:  # Qt's name
        painter = QPainter(self)
        painter.drawImage(0, 0, self.image)
        painter.setPen(QPen(QColor("#888888"), 1))
        painter.drawRect(0, 0, self.width() - 1, self.height() - 1)
        painter.end()


class DrawingPanel(QWidget):
    """The canvas with its brush size and a Clear button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = DrawingCanvas()
        self.brush = QSpinBox()
        self.brush.setRange(2, 60)
        self.brush.setValue(BRUSH)
        self.brush.setSuffix(" px")
        self.brush.setToolTip("brush width, in canvas pixels")
        self.brush.valueChanged.connect(self._set_brush)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.canvas.clear)
        tools = QVBoxLayout()  # beside the canvas, where the column has room to spare
        tools.addWidget(QLabel("Brush"))
        tools.addWidget(self.brush)
        tools.addWidget(self.clear_button)
        tools.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        layout.addLayout(tools)
        layout.addStretch(1)

    def _set_brush(self, value: int) -> None:
        self.canvas.brush = value
