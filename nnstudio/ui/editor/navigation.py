"""Moving around the canvas: zoom anchored under the cursor, fit, and panning by middle-drag or
Space+drag. Navigation never touches the document, so it stays available while training locks it."""

from __future__ import annotations

import weakref

from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtGui import QKeyEvent, QMouseEvent, QTransform, QWheelEvent
from PySide6.QtWidgets import QGraphicsView

from nnstudio.ui.editor import style

ZOOM_STEP = 1.2
FIT_MARGIN = 40.0


class Navigator:
    """Owned by its view. It keeps only a weak reference back, so the pair never forms a reference
    cycle: a cycle would leave a closed view to the garbage collector, which may then destroy the
    widget at any moment, even while another view is painting."""

    def __init__(self, view: QGraphicsView) -> None:
        self._view = weakref.ref(view)
        self.space_held = False
        self._pan_from: QPoint | None = None

    @property
    def view(self) -> QGraphicsView:
        view = self._view()
        if view is None:
            raise RuntimeError("the view of this navigator is gone")
        return view

    @property
    def panning(self) -> bool:
        return self._pan_from is not None

    def zoom(self) -> float:
        return self.view.transform().m11()

    def zoom_by(self, factor: float, anchor: QPoint | None = None) -> None:
        """Scale by `factor`, keeping the scene point under `anchor` (a viewport point) in place."""
        view = self.view
        anchor = anchor if anchor is not None else view.viewport().rect().center()
        target = min(max(self.zoom() * factor, style.MIN_ZOOM), style.MAX_ZOOM)
        if abs(target - self.zoom()) < 1e-9:
            return
        before = view.mapToScene(anchor)
        self._set_zoom(target)
        after = view.mapFromScene(before)
        self.scroll_by(after - anchor)

    def _set_zoom(self, scale: float) -> None:
        view = self.view
        view.setTransform(QTransform.fromScale(scale, scale))
        hook = getattr(view, "zoom_changed", None)  # lets the view adapt its level of detail
        if hook is not None:
            hook(scale)

    def scroll_by(self, delta: QPoint) -> None:
        horizontal, vertical = self.view.horizontalScrollBar(), self.view.verticalScrollBar()
        horizontal.setValue(horizontal.value() + delta.x())
        vertical.setValue(vertical.value() + delta.y())

    def fit(self, rect: QRectF, max_zoom: float = 1.0) -> None:
        """Show all of `rect`, never magnified beyond `max_zoom` (a tiny graph stays readable size)."""
        if rect.isEmpty():
            return
        view = self.view
        rect = rect.adjusted(-FIT_MARGIN, -FIT_MARGIN, FIT_MARGIN, FIT_MARGIN)
        viewport = view.viewport().rect()
        scale = min(viewport.width() / rect.width(), viewport.height() / rect.height(), max_zoom)
        scale = min(max(scale, style.MIN_ZOOM), style.MAX_ZOOM)
        self._set_zoom(scale)
        view.centerOn(rect.center())

    # --- events; each returns True when it consumed the event --------------------------------------
    def wheel(self, event: QWheelEvent) -> bool:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(ZOOM_STEP ** steps, event.position().toPoint())
        return True

    def press(self, event: QMouseEvent) -> bool:
        middle = event.button() == Qt.MouseButton.MiddleButton
        space_drag = event.button() == Qt.MouseButton.LeftButton and self.space_held
        if not (middle or space_drag):
            return False
        self._pan_from = event.position().toPoint()
        self.view.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        return True

    def move(self, event: QMouseEvent) -> bool:
        if self._pan_from is None:
            return False
        point = event.position().toPoint()
        self.scroll_by(self._pan_from - point)
        self._pan_from = point
        return True

    def release(self, event: QMouseEvent) -> bool:
        if self._pan_from is None:
            return False
        self._pan_from = None
        self._restore_cursor()
        return True

    def key_press(self, event: QKeyEvent) -> bool:
        if event.key() != Qt.Key.Key_Space:
            return False
        if not event.isAutoRepeat():
            self.space_held = True
            self.view.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        return True

    def key_release(self, event: QKeyEvent) -> bool:
        if event.key() != Qt.Key.Key_Space:
            return False
        if not event.isAutoRepeat():
            self.space_held = False
            self._restore_cursor()
        return True

    def _restore_cursor(self) -> None:
        if self.space_held:
            self.view.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        else:
            self.view.viewport().unsetCursor()
