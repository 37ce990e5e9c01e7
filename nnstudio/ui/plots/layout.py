"""Room for plots: a minimum readable size, tabs that scroll instead of squeezing, and a maximised plot.

A plot squeezed below about 200 px is not a plot any more: its tick labels overprint and its legend covers
the data. So every plot asks for MIN_PLOT_HEIGHT (`make_readable`), and the tab widgets that hold plots
(`ScrollTabs`) put each page in a scroll area: a window too small for a page scrolls it, and a window large
enough fills it. `ScrollTabs` answers with the pages themselves (currentWidget, indexOf, setCurrentWidget),
so callers never see the scroll areas.

Double-clicking a plot maximises it within its page (its neighbours are hidden) and double-clicking it again
brings them back (`Maximiser`), for reading one curve closely on a small screen.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QSplitter, QTabWidget, QWidget

MIN_PLOT_HEIGHT = 200  # below this, tick labels overprint and a legend covers the curves
MIN_PLOT_WIDTH = 200  # three side by side fit the Train perspective at 1024 px


def make_readable(widget: QWidget, height: int = MIN_PLOT_HEIGHT, width: int = MIN_PLOT_WIDTH) -> None:
    """Ask for the smallest size at which a plot stays readable (the page scrolls below it)."""
    widget.setMinimumSize(QSize(width, height))


def unsqueezable(splitter: QSplitter) -> QSplitter:
    """A splitter whose panes cannot be dragged to nothing (nor below their readable size)."""
    splitter.setChildrenCollapsible(False)
    return splitter


class ScrollTabs(QTabWidget):
    """A QTabWidget whose every page sits in its own scroll area; the page API stays the pages'."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pages: dict[int, QScrollArea] = {}  # id(page) -> its scroll area

    def addTab(self, page: QWidget, title: str) -> int:
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setWidget(page)
        self._pages[id(page)] = area
        return super().addTab(area, title)

    def _area(self, page: QWidget | None) -> QWidget | None:
        return self._pages.get(id(page), page)

    def page(self, index: int) -> QWidget | None:
        area = super().widget(index)
        return area.widget() if isinstance(area, QScrollArea) and id(area.widget()) in self._pages else area

    def widget(self, index: int) -> QWidget | None:
        return self.page(index)

    def currentWidget(self) -> QWidget | None:
        return self.page(self.currentIndex())

    def setCurrentWidget(self, page: QWidget) -> None:
        super().setCurrentWidget(self._area(page))

    def indexOf(self, page: QWidget) -> int:
        return super().indexOf(self._area(page))

    def removeTab(self, index: int) -> None:
        page = self.page(index)
        area = super().widget(index)
        super().removeTab(index)
        if page is not None and self._pages.pop(id(page), None) is not None:
            area.takeWidget()  # the page lives on (a view shows it again later); only its scroll area goes
            page.setParent(None)
            area.deleteLater()

    def clear(self) -> None:
        while self.count():
            self.removeTab(self.count() - 1)

    def scroll_area(self, page: QWidget) -> QScrollArea | None:
        return self._pages.get(id(page))


class Maximiser(QObject):
    """Double-click a plot in `page` to give it the whole page; double-click again to bring the rest back."""

    def __init__(self, page: QWidget) -> None:
        super().__init__(page)
        self.page = page
        self.hidden: list[QWidget] = []
        self.maximised: QWidget | None = None
        for plot in page.findChildren(pg.GraphicsView):
            plot.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.MouseButtonDblClick and event.button() == Qt.MouseButton.LeftButton:
            view = watched.parent()
            if isinstance(view, pg.GraphicsView):
                self.toggle(view)
                return True
        return False

    def toggle(self, plot: QWidget) -> None:
        if self.maximised is not None:
            self.restore()
        else:
            self.maximise(plot)

    def maximise(self, plot: QWidget) -> None:
        """Hide every visible widget beside `plot` and its parents, up to the page."""
        self.restore()
        widget = plot
        while widget is not None and widget is not self.page:
            parent = widget.parentWidget()
            if parent is None:
                break
            for sibling in parent.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly):
                if sibling is not widget and sibling.isVisibleTo(parent) and not sibling.isWindow():
                    if _is_chrome(sibling):
                        continue
                    sibling.hide()
                    self.hidden.append(sibling)
            widget = parent
        self.maximised = plot

    def restore(self) -> None:
        for widget in self.hidden:
            widget.show()
        self.hidden = []
        self.maximised = None


def _is_chrome(widget: QWidget) -> bool:
    """A splitter's handles and a scroll area's bars are part of their parent, not neighbours to hide."""
    name = type(widget).__name__
    return name in ("QSplitterHandle", "QScrollBar") or widget.objectName().startswith("qt_")
