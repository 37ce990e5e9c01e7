"""A VAE trained through the app: each loss term gets live curves, then the Evaluation tab shows samples."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from nnstudio.ui.plots.layout import MIN_PLOT_HEIGHT
from tests.objective_graphs import vae

pytestmark = pytest.mark.slow


def test_a_vae_trains_with_live_term_curves_and_is_evaluated_with_prior_samples(qtbot, training_app):
    project = vae(hidden=32, latent=4, epochs=3).project
    project.training = {**project.training, "instrumentation": {"loss_every": 2}}
    app = training_app(project)
    bench = app.bench
    assert bench.check() == []
    qtbot.mouseClick(bench.controls.train, Qt.MouseButton.LeftButton)
    terms = bench.plots.curves.loss.terms
    qtbot.waitUntil(lambda: "step/loss_kl|0" in terms.curves, timeout=60_000)
    assert terms.isVisible(), "the terms plot appears as soon as the first step is drawn"
    # Train took over: the workbench is the window's central area, and the plots keep a readable height
    assert app.window.perspectives.current == "train"
    assert app.window.center.currentWidget() is app.window.perspectives.workspace
    qtbot.waitUntil(lambda: terms.height() >= MIN_PLOT_HEIGHT, timeout=5000)
    outcome = app.wait_finished()
    assert outcome.status == "finished", outcome.message
    for name in ("rec", "kl"):
        assert len(terms.curves[f"epoch/train_loss_{name}|0"].xData) == 3
        np.testing.assert_allclose(terms.curves[f"epoch/val_loss_{name}|0"].yData[-1],
                                   outcome.metrics[f"val_loss_{name}"])
    assert [label.text for _sample, label in terms.legend.items] == ["rec", "kl"]
    view = bench.evaluation
    qtbot.waitUntil(lambda: view.result is not None, timeout=60_000)
    assert view.result.samples is not None and view.result.reconstructions is not None
    assert [view.tabs.tabText(i) for i in range(view.tabs.count())] == ["Reconstructions and samples"]
    bench.tabs.setCurrentWidget(view)
    assert view.samples.isVisible() and view.recon_grids.isVisible()
    before = view.samples.values.copy()
    qtbot.mouseClick(view.samples.new_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.samples.shown_seed == 1, timeout=10_000)
    assert not np.allclose(view.samples.values, before)
