"""The decision boundary shows the trained model even when its tab was hidden for the whole run (issue 13, 1)."""

from __future__ import annotations

from tests.ui.training.app_helpers import make_project

TINY = {"epochs": 2, "batch_size": 50, "optimizer": {"name": "adam", "lr": 0.01}}
FEW_POINTS = {"name": "spirals", "params": {"samples": 200}}


def test_a_run_watched_on_another_tab_ends_with_the_trained_models_boundary(qtbot, training_app):
    app = training_app(make_project(dataset=FEW_POINTS, training=TINY))
    bench = app.bench
    plots = bench.plots
    assert bench.train()
    qtbot.waitUntil(lambda: plots.tabs.isTabVisible(plots.tabs.indexOf(plots.boundary_tab)), timeout=30_000)
    plots.tabs.setCurrentWidget(plots.curves)  # the boundary tab is never shown during the run
    outcome = app.wait_finished()
    assert outcome.status == "finished", outcome.message
    assert not plots.boundary_tab.isVisible()
    grid = plots.boundary.grid
    assert grid is not None and grid.step == outcome.step > 0, "the regions are the trained model's"
    assert f"at step {outcome.step}" in plots.boundary.caption.text()
    plots.tabs.setCurrentWidget(plots.boundary_tab)
    assert plots.boundary.grid.step == outcome.step


def test_the_boundary_fills_its_plot_with_the_grid_not_padding(qtbot, training_app):
    app = training_app(make_project(dataset=FEW_POINTS, training=TINY))
    bench = app.bench
    plots = bench.plots
    bench.window.resize(1400, 900)
    assert bench.train()
    app.wait_finished()
    bench.window.perspectives.split.setSizes([0, 1400])  # the plots' whole width: the canvas folded away
    plots.tabs.setCurrentWidget(plots.boundary_tab)
    qtbot.wait(20)
    grid = plots.boundary.grid
    (vx0, vx1), (vy0, vy1) = plots.boundary.item.getViewBox().viewRange()
    (gx0, gx1), (gy0, gy1) = grid.x_range, grid.y_range
    # the locked aspect leaves room on one axis at most; the other shows the grid edge to edge
    tight_x = abs(vx0 - gx0) + abs(vx1 - gx1) < 0.02 * (gx1 - gx0)
    tight_y = abs(vy0 - gy0) + abs(vy1 - gy1) < 0.02 * (gy1 - gy0)
    assert tight_x or tight_y
    view = plots.boundary.widget
    shorter, longer = sorted((view.width(), view.height()))
    assert shorter / longer > 0.75, "the boundary's pane is near square, the curves get the rest"
