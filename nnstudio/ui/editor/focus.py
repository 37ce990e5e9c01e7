"""Give the keyboard back to the window when one of its dialogs closes.

Without a window manager that re-activates the parent (seen under Xvfb), closing a dialog left no window
active, and the window's shortcuts (Ctrl+W, Ctrl+E, F5) did nothing until the canvas was clicked. So
when a dialog of the canvas's window takes the focus, it is watched; when it is hidden and no other
window has taken the focus, the canvas's window is activated again and, if nothing in it holds the
focus, the canvas takes it. A switch to another application while the dialog is open leaves it
visible, so nothing is taken back then.
"""

from __future__ import annotations

import contextlib
from functools import partial

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QGuiApplication, QWindow
from PySide6.QtWidgets import QWidget


class FocusReturn(QObject):
    """Re-activates `widget`'s window after one of its dialogs closed; focuses `widget` if nothing else is."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.widget = widget
        self._watched: set[int] = set()
        app = QGuiApplication.instance()
        if app is not None:
            app.focusWindowChanged.connect(self._on_focus_window)

    def _on_focus_window(self, window: QWindow | None) -> None:
        if window is None or not self._is_own_dialog(window):
            return
        if not window.isVisible():  # it closed before the focus change reached us (a dialog that was quick)
            QTimer.singleShot(0, self.restore)
        elif id(window) not in self._watched:
            key = id(window)
            self._watched.add(key)
            window.installEventFilter(self)
            window.destroyed.connect(partial(self._forget, key))

    def _forget(self, key: int, *_args) -> None:
        self._watched.discard(key)

    def _is_own_dialog(self, window: QWindow) -> bool:
        own = self.widget.window().windowHandle()
        parent = window.transientParent()
        while parent is not None:
            if parent is own:
                return True
            parent = parent.transientParent()
        return False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Hide:
            QTimer.singleShot(0, self.restore)
        return False

    def restore(self) -> None:
        """Activate the window again, unless another one has the focus now."""
        with contextlib.suppress(RuntimeError):  # the canvas went while the dialog closed
            top = self.widget.window()
            focused = QGuiApplication.focusWindow()
            if (focused is not None and focused.isVisible()) or not top.isVisible():
                return
            top.activateWindow()
            if top.focusWidget() is None:
                self.widget.setFocus()
