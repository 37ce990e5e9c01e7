"""Room for plots: scrolling tabs that answer with their pages, readable minimum sizes, a maximised plot."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLabel, QScrollArea

from nnstudio.ui.plots.base import CurvePlot
from nnstudio.ui.plots.boundary import BoundaryGrid, BoundaryView
from nnstudio.ui.plots.dashboard import LivePlots
from nnstudio.ui.plots.layout import MIN_PLOT_HEIGHT, Maximiser, ScrollTabs


def test_scroll_tabs_hide_their_scroll_areas_behind_the_page_api(qtbot):
    tabs = ScrollTabs()
    qtbot.addWidget(tabs)
    first, second = QLabel("one"), QLabel("two")
    tabs.addTab(first, "One")
    tabs.addTab(second, "Two")
    assert isinstance(tabs.scroll_area(first), QScrollArea)
    assert tabs.indexOf(second) == 1 and tabs.widget(1) is second
    tabs.setCurrentWidget(second)
    assert tabs.currentWidget() is second and tabs.currentIndex() == 1
    tabs.removeTab(0)
    assert tabs.count() == 1 and tabs.indexOf(first) == -1 and tabs.currentWidget() is second
    tabs.addTab(first, "One again")  # a page shown again later (the evaluation view does this)
    assert tabs.widget(1) is first


def test_a_page_taller_than_the_room_scrolls_and_its_plots_keep_their_height(qtbot):
    plots = LivePlots()
    qtbot.addWidget(plots)
    plots.resize(700, 260)
    plots.show()
    qtbot.waitExposed(plots)
    area = plots.tabs.scroll_area(plots.curves)
    qtbot.waitUntil(lambda: area.verticalScrollBar().maximum() > 0)
    for plot in (plots.curves.loss.plot, plots.curves.metrics.score, plots.curves.lr):
        assert plot.height() >= MIN_PLOT_HEIGHT


def test_double_clicking_a_plot_maximises_it_and_again_restores_its_neighbours(qtbot):
    plots = LivePlots()
    qtbot.addWidget(plots)
    plots.resize(900, 600)
    plots.show()
    qtbot.waitExposed(plots)
    loss, lr = plots.curves.loss.plot, plots.curves.lr
    before = loss.height()
    viewport = loss.widget.viewport()
    qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=QPoint(60, 60))
    qtbot.waitUntil(lambda: not lr.isVisible())
    assert loss.isVisible() and not plots.curves.metrics.isVisible()
    qtbot.waitUntil(lambda: loss.height() > before)
    qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=QPoint(60, 60))
    qtbot.waitUntil(lambda: lr.isVisible())
    assert plots.curves.metrics.isVisible() and plots.curves.loss.log_box.isVisible()


def test_maximiser_keeps_widgets_it_did_not_hide_as_they_were(qtbot):
    plots = LivePlots()
    qtbot.addWidget(plots)
    plots.show()
    maximiser = plots.curves.findChild(Maximiser) or Maximiser(plots.curves)
    terms = plots.curves.loss.terms
    assert not terms.isVisibleTo(plots)  # shown only for runs with loss terms
    maximiser.maximise(plots.curves.lr.widget)
    maximiser.restore()
    assert not terms.isVisibleTo(plots), "a plot hidden by its view stays hidden"


def test_the_boundary_view_is_fitted_to_the_grid(qtbot):
    view = BoundaryView()
    qtbot.addWidget(view)
    view.resize(500, 500)
    view.show()
    qtbot.waitExposed(view)
    classes = np.zeros((30, 30), dtype=int)
    classes[:, 15:] = 1
    grid = BoundaryGrid(classes, np.full((30, 30), 0.9), (-2.0, 3.0), (-1.0, 4.0), step=40)
    view.set_grid(grid)
    qtbot.wait(20)
    (x0, x1), (y0, y1) = view.item.getViewBox().viewRange()
    assert (x0 >= -2.05 and x1 <= 3.05) or (y0 >= -1.05 and y1 <= 4.05), "no padding around the regions"
    assert (x1 - x0) >= 4.9 and (y1 - y0) >= 4.9, "the whole grid is in view"
    assert "step 40" in view.caption.text()


def test_a_diverged_models_grid_draws_as_unsure_without_warnings():
    import warnings

    from nnstudio.ui.plots.boundary import region_image

    grid = BoundaryGrid(np.zeros((4, 4), dtype=int), np.full((4, 4), np.nan), (0.0, 1.0), (0.0, 1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        image = region_image(grid)
    assert image.shape == (4, 4, 4) and image.dtype == np.uint8
    assert (image[..., :3] > 200).all(), "unsure cells are pale"


def test_legends_sit_under_the_plot_and_never_cover_its_data(qtbot):
    plot = CurvePlot("Loss", "loss")
    qtbot.addWidget(plot)
    plot.resize(320, 220)
    for key, colour in (("train", "#1f77b4"), ("val", "#ff7f0e"), ("steps", "#aec7e8")):
        plot.curve(key, f"{key} loss", colour)
        plot.set_data(key, np.arange(50.0), np.linspace(2.0, 0.1, 50))
    plot.show()
    qtbot.waitExposed(plot)
    qtbot.waitUntil(lambda: plot.legend.sceneBoundingRect().height() > 0)
    legend = plot.legend.sceneBoundingRect()
    view = plot.item.getViewBox().sceneBoundingRect()
    assert not legend.intersects(view)
    assert legend.top() >= view.bottom()
    assert [label.text for _sample, label in plot.legend.items] == ["train loss", "val loss", "steps loss"]


def test_a_plot_without_named_curves_gives_its_legend_no_room(qtbot):
    plot = CurvePlot("Learning rate", "lr")
    qtbot.addWidget(plot)
    plot.curve("lr", None, "#2ca02c")
    plot.show()
    qtbot.waitExposed(plot)
    assert plot.legend.maximumHeight() == 0


def test_a_curve_of_one_sample_is_drawn_as_a_dot_until_it_has_a_line(qtbot):
    plot = CurvePlot("Gradient norm per layer", "gradient norm")
    qtbot.addWidget(plot)
    plot.curve("conv1", "conv1", "#1f77b4")
    plot.set_data("conv1", np.array([50.0]), np.array([0.4]))
    assert plot.curves["conv1"].opts["symbol"] == "o"
    plot.set_data("conv1", np.arange(10.0), np.linspace(1.0, 0.1, 10))
    assert plot.curves["conv1"].opts["symbol"] is None


def test_a_legend_wider_than_its_plot_wraps_instead_of_widening_the_plot(qtbot):
    plot = CurvePlot("Loss", "loss")
    qtbot.addWidget(plot)
    plot.resize(230, 260)
    for key in ("a rather long training curve name", "another long validation curve name", "third one"):
        plot.curve(key, key, "#1f77b4")
        plot.set_data(key, np.arange(5.0), np.arange(5.0))
    plot.show()
    qtbot.waitExposed(plot)
    qtbot.waitUntil(lambda: plot.legend.columnCount < 3)
    assert plot.item.sceneBoundingRect().width() <= plot.widget.viewport().width() + 1
    assert plot.legend.sceneBoundingRect().right() <= plot.widget.viewport().width() + 1


def test_short_legend_entries_share_a_row(qtbot):
    plot = CurvePlot("Loss terms", "loss term")
    qtbot.addWidget(plot)
    plot.resize(380, 260)
    for key in ("kl", "recon"):
        plot.curve(key, key, "#2ca02c")
        plot.set_data(key, np.arange(5.0), np.arange(5.0))
    plot.show()
    qtbot.waitExposed(plot)
    qtbot.wait(50)
    assert plot.legend.layout.rowCount() == 1  # both entries in one row
