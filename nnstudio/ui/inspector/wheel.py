"""Spin boxes and combo boxes take the mouse wheel only once they have the keyboard focus.

The settings forms live in scroll areas: a wheel turned to scroll the panel must scroll it, not change
whichever value happens to pass under the pointer (a noise of 0.05 became 0.025 and regenerated the
data that way). A guarded widget gets the focus only by a click or Tab (Qt.StrongFocus, not the default
WheelFocus), and while unfocused it passes wheel events on to the scroll area around it, which
scrolls. `guard_wheel` is the one helper every form applies to its widgets.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QComboBox, QWidget

GUARDED = (QAbstractSpinBox, QComboBox)
_MARK = "nnstudio_wheel_guarded"


class _WheelGuard(QObject):
    """Hands wheel events aimed at an unfocused value widget to the scroll area around it."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.Wheel or not isinstance(watched, QWidget) or watched.hasFocus():
            return False
        area = _scroll_area(watched)
        if area is None:
            event.ignore()  # Qt offers an ignored wheel event to the parents
            return True
        viewport = area.viewport()
        position = viewport.mapFromGlobal(event.globalPosition())
        forwarded = QWheelEvent(
            position,
            event.globalPosition(),
            event.pixelDelta(),
            event.angleDelta(),
            event.buttons(),
            event.modifiers(),
            event.phase(),
            event.inverted(),
        )
        QCoreApplication.sendEvent(viewport, forwarded)  # sent, not left to propagate: synthetic events do not
        event.accept()
        return True


def _scroll_area(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea):
            return parent
        parent = parent.parentWidget()
    return None


_guard: _WheelGuard | None = None


def _the_guard() -> _WheelGuard:
    global _guard
    if _guard is None:
        _guard = _WheelGuard(QCoreApplication.instance())
    return _guard


def guard_wheel(root: QWidget) -> None:
    """Guard `root` and every spin box and combo box inside it (built so far); guarding twice is harmless."""
    widgets = [root] if isinstance(root, GUARDED) else []
    for kind in GUARDED:
        widgets += root.findChildren(kind)
    guard = _the_guard()
    for widget in widgets:
        if widget.property(_MARK):
            continue
        widget.setProperty(_MARK, True)
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        widget.installEventFilter(guard)
