"""The building block of every live plot: a pyqtgraph plot whose curves are created once and then fed.

Every curve is a PlotDataItem made on first use and updated with `setData` afterwards; the plot clips to
the visible range and draws with automatic peak downsampling, so long runs stay cheap to repaint (see
pyqtgraph's scrolling-plot examples). Curves keyed by a node id can be highlighted (thicker pen, others
faded), and clicking a curve reports its key, so the canvas can select that node.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSizeF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QVBoxLayout, QWidget

from nnstudio.ui.plots.layout import make_readable

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")
NORMAL_WIDTH = 1.0  # 1-pixel pens take Qt's fast path; wider ones cost ~5x per point (long step curves use 1)
HIGHLIGHT_WIDTH = 3.0
FADED_ALPHA = 70
OVERLAY_STYLE = Qt.PenStyle.DashLine
# Compared runs keep each curve's colour (blue is train, orange validation, in every run) and differ by line:
# the first run solid, the next dashed, dotted, dash-dot, dash-dot-dot; from the sixth on the five repeat, each
# round thicker (run_width), so any number of runs can be compared and the legends and caption name each one.
RUN_STYLES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine, Qt.PenStyle.DashDotLine,
              Qt.PenStyle.DashDotDotLine)
MAX_COMPARED = 20  # a sanity cap: twenty runs' curves on one plot are already a thicket
RUN_STYLE_WORDS = ("solid", "dashed", "dotted", "dash-dot", "dash-dot-dot")
ROUND_WIDTH = 1.5  # added to a curve's width for each repeat of the five styles


def run_style(index: int) -> Qt.PenStyle:
    """The line of the `index`-th compared run (0: the first, solid)."""
    return RUN_STYLES[index % len(RUN_STYLES)]


def run_width(index: int, width: float) -> float:
    """A curve's width for the `index`-th compared run: thicker for each repeat of the styles."""
    return width + ROUND_WIDTH * (index // len(RUN_STYLES))


def run_style_word(index: int) -> str:
    """How the caption names the `index`-th run's line: 'dashed', 'thick dashed' from the sixth run on, …"""
    weight = ("", "thick ", "thicker ", "thickest ")[min(index // len(RUN_STYLES), 3)]
    return weight + RUN_STYLE_WORDS[index % len(RUN_STYLES)]

pg.setConfigOptions(antialias=False, background="w", foreground="#333333")


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def lighter(pen_colour: str, amount: float = 0.55) -> str:
    """The colour mixed with white: the thin, noisy companion of a thick curve of the same hue."""
    qcolour = QColor(pen_colour)
    mix = [round(c + (255 - c) * amount) for c in (qcolour.red(), qcolour.green(), qcolour.blue())]
    return "#{:02x}{:02x}{:02x}".format(*mix)


def configure_plot(item: pg.PlotItem, title: str, x_label: str, y_label: str) -> None:
    """The settings every live plot shares."""
    item.setClipToView(True)
    item.setDownsampling(auto=True, mode="peak")
    item.showGrid(x=False, y=False)
    item.setTitle(title, size="10pt")
    item.setLabel("bottom", x_label)
    item.setLabel("left", y_label)
    item.setMenuEnabled(False)
    item.hideButtons()
    for side in ("left", "bottom"):
        item.getAxis(side).enableAutoSIPrefix(False)  # "(x0.001)" in a label confuses more than it helps


def set_title(item: pg.PlotItem, text: str) -> None:
    """Retitle only on change: a new title re-lays out the plot, which is not free at 10 redraws a second."""
    if item.titleLabel.text != text:
        item.setTitle(text, size="10pt")


LEGEND_COLUMNS = 4
ENTRY_GAP = 12  # px between legend entries in a row
FEW_POINTS = 3  # fewer samples than this draw as dots as well as a line


class ReadableLogAxis(pg.AxisItem):
    """An axis whose log mode labels 1, 2 and 5 times each power of ten, not all nine minor ticks.

    pyqtgraph labels every minor tick of a log axis when fewer than three decades are in view, and on a
    short plot those labels pile up into an unreadable column ("0.9 0.8 0.7 …"). Linear mode is unchanged.
    """

    def logTickValues(self, minVal, maxVal, size, stdTicks):  # pyqtgraph's names
        ticks = [(spacing, values) for spacing, values in stdTicks if spacing >= 1.0]
        if len(ticks) >= 3:
            return ticks
        mantissas = (2, 5) if maxVal - minVal > 1.0 else (2, 3, 5)
        marks = mantissas if ticks else (1, *mantissas)  # the decades are labelled already when ticks has them
        minor = [d + math.log10(m) for d in range(math.floor(minVal), math.ceil(maxVal)) for m in marks]
        minor = [v for v in minor if minVal < v < maxVal]
        return [*ticks, (None, minor)]


class LegendRow(pg.LegendItem):
    """A legend in its own row under the plot's x axis, so it can never cover a curve.

    pyqtgraph floats its legend over the view box; on a plot about 200 px tall a legend of three entries hid
    the newest part of the curves, which is what a user watching a run looks at. Here the legend sits in the
    PlotItem's grid (row 4, below the bottom axis) and takes the height of its rows, none when it is empty.
    """

    def __init__(self) -> None:
        super().__init__(offset=None, labelTextSize="8pt", colCount=LEGEND_COLUMNS)
        self.updateSize()  # no entries yet: no room taken

    def updateSize(self) -> None:  # pyqtgraph's name: called whenever entries change
        """Take the preferred height of the entries' grid (before Qt has laid them out, their geometry is 0)."""
        hint = self.layout.effectiveSizeHint(Qt.SizeHint.PreferredSize).height() if self.items else 0.0
        self.setMinimumHeight(hint)
        self.setMaximumHeight(hint)
        self.updateGeometry()
        self._reflow(self.geometry().width())  # (LegendItem keeps its own `size` attribute)

    def sizeHint(self, which: Qt.SizeHint, constraint: QSizeF | None = None) -> QSizeF:  # Qt's name
        """No minimum width: a legend wider than its plot wraps onto more rows instead of widening the plot."""
        hint = super().sizeHint(which, constraint if constraint is not None else QSizeF())
        return QSizeF(0.0, hint.height()) if which == Qt.SizeHint.MinimumSize else hint

    def resizeEvent(self, event) -> None:  # Qt's name
        super().resizeEvent(event)
        self._reflow(event.newSize().width())

    def _reflow(self, width: float) -> None:
        """As many entries to a row as the width holds, at most LEGEND_COLUMNS."""
        if not self.items or width <= 0:
            return
        widest = max(sample.boundingRect().width() + label.item.boundingRect().width()  # the text, not its cell
                     for sample, label in self.items)
        columns = max(1, min(LEGEND_COLUMNS, int(width // (widest + ENTRY_GAP))))
        if columns != self.columnCount:
            self.setColumnCount(columns)


def add_legend_row(item: pg.PlotItem) -> LegendRow:
    """Give `item` a LegendRow that collects its named curves (PlotItem.addItem reads `item.legend`)."""
    legend = LegendRow()
    item.layout.addItem(legend, 4, 1)
    item.legend = legend
    return legend


class CurvePlot(QWidget):
    """A titled plot of named curves. `curve_clicked(key)` fires when the user clicks a curve."""

    curve_clicked = Signal(str)

    def __init__(self, title: str, y_label: str, x_label: str = "step", legend: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.widget = pg.PlotWidget(axisItems={"left": ReadableLogAxis("left")})
        self.item: pg.PlotItem = self.widget.getPlotItem()
        self.x_label = x_label
        configure_plot(self.item, title, x_label, y_label)
        self.legend = add_legend_row(self.item) if legend else None
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._styles: dict[str, tuple[str, Qt.PenStyle, float]] = {}
        self._highlighted: set[str] = set()
        self._tokens: dict[str, object] = {}
        self._step_range: int | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.widget)
        make_readable(self)

    # --- curves ------------------------------------------------------------------------------
    def curve(self, key: str, label: str | None, pen_colour: str, style: Qt.PenStyle = Qt.PenStyle.SolidLine,
              width: float = NORMAL_WIDTH) -> pg.PlotDataItem:
        """The curve for `key`, created (once) with the given look."""
        found = self.curves.get(key)
        if found is not None:
            return found
        item = pg.PlotDataItem(name=label, connect="finite", skipFiniteCheck=False)
        # peak downsampling keeps each pixel column's min and max, so ~1 sample per pixel loses nothing visible
        item.opts["autoDownsampleFactor"] = 1.0
        item.setCurveClickable(True, width=6)
        item.sigClicked.connect(lambda _item, _event=None, key=key: self.curve_clicked.emit(key))
        self.item.addItem(item)
        if label is None and self.legend is not None:
            self.legend.removeItem(item)
        self.curves[key] = item
        self._styles[key] = (pen_colour, style, width)
        self._apply_pen(key)
        return item

    def set_data(self, key: str, x: np.ndarray, y: np.ndarray, token: object = None) -> None:
        """Give a curve new data; a `token` equal to the previous call's (and not None) skips the work."""
        if token is not None and self._tokens.get(key) == token:
            return
        self._tokens[key] = token
        curve = self.curves[key]
        curve.setData(x=x, y=y)
        self._mark_lone_points(key, len(x))

    def _mark_lone_points(self, key: str, count: int) -> None:
        """A curve of one or two samples draws no visible line (a short run samples gradients once): dot it."""
        curve = self.curves[key]
        wanted = "o" if 0 < count < FEW_POINTS else None
        if curve.opts.get("symbol") != wanted:
            colour = self._styles[key][0]
            curve.setSymbol(wanted)
            curve.setSymbolSize(6)
            curve.setSymbolBrush(pg.mkBrush(colour))
            curve.setSymbolPen(pg.mkPen(colour))

    def remove_missing(self, keep: Iterable[str]) -> None:
        """Drop curves whose key is not in `keep` (a run was replaced)."""
        keep = set(keep)
        for key in [k for k in self.curves if k not in keep]:
            item = self.curves.pop(key)
            self._styles.pop(key, None)
            self._tokens.pop(key, None)
            if self.legend is not None:
                self.legend.removeItem(item)
            self.item.removeItem(item)

    def clear_curves(self) -> None:
        self.remove_missing(())

    def set_step_range(self, total: int | None) -> None:
        """A fixed x range [0, total] (a live run's steps), or None to fit the data; no-op when unchanged."""
        if total == self._step_range:
            return
        self._step_range = total
        if total:
            self.item.enableAutoRange(x=False)
            self.item.setXRange(0, total, padding=0.02)
        else:
            self.item.enableAutoRange(x=True)

    def has_data(self) -> bool:
        return any(item.xData is not None and len(item.xData) > 0 for item in self.curves.values())

    def point_count(self) -> int:
        return sum(len(item.xData) for item in self.curves.values() if item.xData is not None)

    # --- highlight ---------------------------------------------------------------------------
    def highlight(self, keys: Iterable[str]) -> None:
        """Draw curves whose key (or key prefix up to '|') is in `keys` thick, and fade the rest."""
        keys = set(keys)
        if keys == self._highlighted:
            return
        self._highlighted = keys
        for key in self.curves:
            self._apply_pen(key)

    def is_highlighted(self, key: str) -> bool:
        return self._base(key) in self._highlighted

    def _base(self, key: str) -> str:
        return key.split("|", 1)[0]

    def _apply_pen(self, key: str) -> None:
        pen_colour, style, width = self._styles[key]
        qcolour = QColor(pen_colour)
        if self._highlighted:
            if self._base(key) in self._highlighted:
                width = HIGHLIGHT_WIDTH
            else:
                qcolour.setAlpha(FADED_ALPHA)
        self.curves[key].setPen(pg.mkPen(qcolour, width=width, style=style))
        self.curves[key].setZValue(10 if width == HIGHLIGHT_WIDTH else 0)

    # --- export ------------------------------------------------------------------------------
    def export_png(self, path: Path, width: int = 1200) -> Path:
        return export_png(self.item, path, width)


def export_png(item: pg.GraphicsObject, path: Path, width: int = 1200) -> Path:
    """Write a plot as PNG with pyqtgraph's ImageExporter (its SVG exporter is unreliable, so PNG only)."""
    from pyqtgraph.exporters import ImageExporter

    exporter = ImageExporter(item)
    exporter.parameters()["width"] = int(width)
    path = Path(path)
    if path.suffix.lower() != ".png":
        path = path.with_suffix(".png")
    exporter.export(str(path))
    return path
