"""Side docks that get their width back when the window grows again.

When a QMainWindow shrinks, Qt narrows its side docks along with the central widget; when it grows again,
all the new room goes to the central widget and the docks stay narrow, so the palette was left reading
"Inp", "Lin" after a resize. DockRoom remembers the width each watched dock should have (its preferred width,
or the width the user last dragged it to) and, after every window resize, gives a narrowed dock that width
back, as far as the window has room for it.

A width counts as the user's choice only while a drag that began on one of the window's dock separators is
under way. (Asking Qt whether any mouse button is down was not enough: a button held, or left "down" by a
press whose release went elsewhere, made the layout's own delayed resizes look like the user's choice, and the
palette then kept the narrow width for good.)
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow


class DockRoom(QObject):
    def __init__(self, window: QMainWindow, docks: dict[QDockWidget, int]) -> None:
        """`docks`: each watched dock with the width it should have until the user chooses another."""
        super().__init__(window)
        self.window = window
        self.wanted = dict(docks)
        self._window_resizing = False
        self._separator_drag = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)  # after the layout has handed out the new size
        self._timer.timeout.connect(self.recover)
        window.installEventFilter(self)
        for dock in docks:
            dock.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.MouseButtonPress:
            self._separator_drag = self.window.isSeparator(event.position().toPoint())
        elif watched is self.window and event.type() == QEvent.Type.MouseButtonRelease:
            self._separator_drag = False
        elif event.type() == QEvent.Type.Resize:
            if watched is self.window:
                self._window_resizing = True
                self._timer.start()
            elif watched in self.wanted and not self._window_resizing:
                if self._user_sized(watched):
                    self.wanted[watched] = watched.width()  # the user dragged the dock's edge: its width now
                elif watched.width() < self.wanted[watched] - 2:
                    self._timer.start()  # the layout narrowed it later than the window's resize
        return False

    def _user_sized(self, dock: QDockWidget) -> bool:
        """Only a drag of a dock separator is the user's choice of width; the layout resizes docks at other
        times too (a window resize, a restored state), sometimes after a delay."""
        return self._separator_drag and dock.isVisible() and not dock.isFloating() and self.window.isVisible()

    def recover(self) -> None:
        """Widen each docked side dock that the window narrowed back to its wanted width (Qt caps it)."""
        self._window_resizing = False
        narrowed = [
            (dock, width)
            for dock, width in self.wanted.items()
            if dock.isVisible() and not dock.isFloating() and dock.width() < width - 2
        ]
        if narrowed:
            docks, widths = zip(*narrowed)
            self._window_resizing = True  # these resizes are ours, not the user's choice
            self.window.resizeDocks(list(docks), list(widths), Qt.Orientation.Horizontal)
            QTimer.singleShot(0, self._done)

    def _done(self) -> None:
        self._window_resizing = False
