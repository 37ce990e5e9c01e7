"""Live training plots (pyqtgraph) over a run's metric history."""

from nnstudio.ui.plots.boundary import BoundaryGrid, BoundaryView
from nnstudio.ui.plots.dashboard import LivePlots
from nnstudio.ui.plots.series import RunSeries

__all__ = ["BoundaryGrid", "BoundaryView", "LivePlots", "RunSeries"]
