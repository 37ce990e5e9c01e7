"""What a run changes so the GUI thread stays responsive while it trains, and puts back afterwards."""

from __future__ import annotations

import sys

from nnstudio.ui.background import GuiThreadCollector
from nnstudio.ui.training.workbench import TRAINING_SWITCH_INTERVAL_S


def test_a_run_shortens_the_switch_interval_defers_full_collections_and_colours_grids(qtbot, training_app):
    app = training_app()
    bench = app.bench
    before = sys.getswitchinterval()
    assert bench.train()
    assert sys.getswitchinterval() <= TRAINING_SWITCH_INTERVAL_S <= 0.0001
    assert GuiThreadCollector.defer_full
    outcome = app.wait_finished()
    assert outcome.status == "finished", outcome.message
    grid = bench.plots.boundary.grid
    assert grid is not None and grid.image is not None  # coloured on the training thread, not here
    qtbot.waitUntil(lambda: bench.session is None, timeout=30_000)
    assert sys.getswitchinterval() == before
    assert not GuiThreadCollector.defer_full
