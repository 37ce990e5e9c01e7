"""The recipes' live views fed from a MetricHistory with the records their trainers write."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio.metrics.history import MetricHistory
from nnstudio.ui.plots import LivePlots, RunSeries
from nnstudio.ui.plots.gan import tile_grid
from nnstudio.ui.plots.som import unit_positions


@pytest.fixture
def plots(qtbot):
    widget = LivePlots()
    qtbot.addWidget(widget)
    widget.resize(1200, 500)
    widget.show()
    return widget


def gan_history(shape=(2,), epochs: int = 3) -> MetricHistory:
    """What gan_trainer and gan_steps log: a start, "gan" step records, epoch means and "samples"."""
    rng = np.random.default_rng(0)
    size = int(np.prod(shape))
    history = MetricHistory()
    history.add({"kind": "start", "epoch": 0, "step": 0, "layers": {}})
    history.add({"kind": "samples", "epoch": 0, "step": 0, "shape": list(shape),
                 "samples": rng.normal(size=(16, size)).tolist(), "real": rng.normal(size=(16, size)).tolist(),
                 "centres": [[1.0, 0.0], [0.0, 1.0]], "sigma": 0.02})
    for epoch in range(1, epochs + 1):
        for step in range((epoch - 1) * 10 + 1, epoch * 10 + 1):
            history.add({"kind": "gan", "epoch": epoch, "step": step, "d_loss": 1.4 - 0.01 * step,
                         "g_loss": 0.6 + 0.01 * step, "d_real": 0.55, "d_fake": 0.45})
        history.add({"kind": "epoch", "epoch": epoch, "step": epoch * 10, "d_loss": 1.3, "g_loss": 0.7,
                     "d_real": 0.56, "d_fake": 0.44, "val_d_real": 0.55})
        history.add({"kind": "samples", "epoch": epoch, "step": epoch * 10, "shape": list(shape),
                     "samples": rng.normal(size=(16, size)).tolist()})
    return history


def som_history(topology: str = "hexagonal", height: int = 3, width: int = 4) -> MetricHistory:
    """What som_trainer logs: a start with the map's unit positions, "som" maps and epoch errors."""
    from nnstudio.layers.som_module import grid_positions

    history = MetricHistory()
    history.add({"kind": "start", "epoch": 0, "step": 0, "recipe": "som", "layers": {"m": "map"},
                 "map": {"node_id": "m", "height": height, "width": width, "topology": topology,
                         "positions": grid_positions(height, width, topology).tolist(),
                         "classes": ["setosa", "versicolor", "virginica"]}})
    for epoch in (0, 1, 2):
        hits = [[(r * width + c + epoch) % 5 for c in range(width)] for r in range(height)]
        history.add({"kind": "som", "epoch": epoch, "step": epoch * 5, "node_id": "m", "height": height,
                     "width": width, "topology": topology, "split": "train", "radius": 2.0 - epoch,
                     "rate": 0.5, "umatrix": [[0.1 * (r + c) for c in range(width)] for r in range(height)],
                     "hits": hits, "majority": [[None if h == 0 else (r + c) % 3 for c, h in enumerate(row)]
                                                for r, row in enumerate(hits)],
                     "purity": [[None if h == 0 else 0.8 for h in row] for row in hits]})
        if epoch:
            history.add({"kind": "epoch", "epoch": epoch, "step": epoch * 5, "train_quantisation_error": 1 / epoch,
                         "val_quantisation_error": 1.1 / epoch, "train_topographic_error": 0.1,
                         "val_topographic_error": 0.2})
    return history


def test_a_gan_run_shows_its_tab_with_losses_scores_and_a_scatter(plots):
    series = RunSeries.from_history(gan_history())
    plots.show_run(series, "run 1")
    assert plots.recipe == "gan" and plots.tabs.currentWidget() is plots.gan
    assert not plots.tabs.isTabVisible(plots.tabs.indexOf(plots.som))
    tab = plots.gan
    assert tab.losses.curves["epoch/d_loss|0"].xData.tolist() == [10, 20, 30]
    assert len(tab.losses.curves["gan/g_loss|0"].xData) == 30
    assert tab.scores.curves["epoch/d_fake|0"].yData.tolist() == pytest.approx([0.44] * 3)
    samples = tab.samples
    assert samples.mode == "scatter"
    assert len(samples.fake.data) == 16 and len(samples.real.data) == 16 and len(samples.centres.data) == 2
    assert "epoch 3" in samples.item.titleLabel.text


def test_gan_samples_refresh_as_records_arrive(plots):
    history = gan_history(epochs=1)
    series = RunSeries.from_history(history)
    plots.show_run(series, "run 1")
    plots.set_recipe("gan")
    first = plots.gan.samples.fake.data["x"].copy()
    series.ingest([{"kind": "samples", "epoch": 2, "step": 20, "shape": [2], "samples": [[5.0, 5.0]] * 16}])
    plots.refresh()
    assert not np.allclose(plots.gan.samples.fake.data["x"], first)
    assert plots.gan.samples.fake.data["x"].tolist() == [5.0] * 16


def test_image_samples_are_drawn_as_a_grid(plots):
    plots.show_run(RunSeries.from_history(gan_history(shape=(1, 8, 8))), "run 1")
    samples = plots.gan.samples
    assert samples.mode == "grid"
    assert samples.image.image.shape == (4 * 9, 4 * 9), "16 tiles of 8×8 in a 4×4 grid, 1-pixel gaps"
    assert tile_grid(np.zeros((3, 5)), [5]) is None


def test_a_som_run_draws_the_u_matrix_the_hit_map_and_its_errors(plots):
    series = RunSeries.from_history(som_history())
    plots.show_run(series, "run 1")
    assert plots.recipe == "som" and plots.tabs.currentWidget() is plots.som
    assert not plots.tabs.isTabVisible(plots.tabs.indexOf(plots.curves)), "a map has no loss to plot"
    tab = plots.som
    assert tab.umatrix.count == 12 and tab.hits.count == 12
    xs = tab.umatrix.cells.data["x"]
    assert xs[4] == pytest.approx(0.5), "odd rows of a hexagonal map are shifted by half a unit"
    sizes = tab.hits.cells.data["size"]
    assert sizes.max() == pytest.approx(1.0)
    assert tab.hits.key_labels() == ["setosa", "versicolor", "virginica"]
    assert tab.quantisation.curves["epoch/val_quantisation_error|0"].yData.tolist() == pytest.approx([1.1, 0.55])
    assert len(tab.topographic.curves["epoch/train_topographic_error|0"].xData) == 2
    assert "epoch 2" in tab.umatrix.item.titleLabel.text
    assert tab.umatrix.key_labels() == ["close 0", "far 0.5"]


def test_the_map_follows_new_som_records(plots):
    history = som_history(topology="rectangular")
    series = RunSeries.from_history(history)
    plots.show_run(series, "run 1")
    before = [b.color().name() for b in plots.som.umatrix.cells.data["brush"]]
    record = dict(history.records()[-2]) if history.records()[-1]["kind"] == "epoch" else dict(history.records()[-1])
    record.update(epoch=3, step=20, umatrix=[[1.0 - 0.1 * (r + c) for c in range(4)] for r in range(3)])
    series.ingest([record])
    plots.refresh()
    after = [b.color().name() for b in plots.som.umatrix.cells.data["brush"]]
    assert after != before
    assert unit_positions(record, None)[5].tolist() == [1.0, 1.0]


def test_adversarial_and_fewshot_runs_get_their_curves(plots):
    history = MetricHistory()
    history.add({"kind": "start", "epoch": 0, "step": 0, "layers": {}})
    for epoch in (1, 2):
        history.add({"kind": "epoch", "epoch": epoch, "step": epoch * 10, "train_loss": 1.0, "val_loss": 1.0,
                     "val_accuracy": 0.9, "val_robust_fgsm_accuracy": 0.5 + 0.1 * epoch,
                     "val_robust_pgd_accuracy": 0.4})
    plots.show_run(RunSeries.from_history(history), "run 1")
    assert plots.recipe == "adversarial" and plots.tabs.currentWidget() is plots.robustness
    assert plots.robustness.curves["epoch/val_robust_fgsm_accuracy|0"].yData.tolist() == pytest.approx([0.6, 0.7])
    assert "epoch/val_accuracy|0" in plots.robustness.curves

    history = MetricHistory()
    history.add({"kind": "start", "epoch": 0, "step": 0, "layers": {}})
    for epoch in (1, 2):
        history.add({"kind": "epoch", "epoch": epoch, "step": epoch * 10, "train_loss": 1.0, "val_loss": 1.0,
                     "val_fewshot_accuracy": 0.6 + 0.1 * epoch, "val_fewshot_ci95": 0.05})
        history.add({"kind": "fewshot", "epoch": epoch, "step": epoch * 10, "split": "val", "ways": 5,
                     "shots": 5, "queries": 10, "accuracy": 0.6 + 0.1 * epoch, "ci95": 0.05, "chance": 0.2})
    plots.show_run(RunSeries.from_history(history), "run 2")
    assert plots.recipe == "fewshot" and plots.tabs.currentWidget() is plots.fewshot
    view = plots.fewshot
    assert view.upper.yData.tolist() == pytest.approx([0.75, 0.85])
    assert view.lower.yData.tolist() == pytest.approx([0.65, 0.75])
    assert view.chance.isVisible() and view.chance.value() == pytest.approx(0.2)
    assert "5-way 5-shot" in view.item.titleLabel.text


def test_a_supervised_run_after_a_gan_run_brings_the_usual_tabs_back(plots):
    plots.show_run(RunSeries.from_history(gan_history()), "run 1")
    history = MetricHistory()
    history.add({"kind": "start", "epoch": 0, "step": 0, "layers": {}})
    history.add({"kind": "epoch", "epoch": 1, "step": 10, "train_loss": 1.0, "val_loss": 1.0})
    plots.show_run(RunSeries.from_history(history), "run 2")
    assert plots.recipe == "supervised" and plots.tabs.currentWidget() is plots.curves
    assert not plots.tabs.isTabVisible(plots.tabs.indexOf(plots.gan))
    titles = [title for title, _ in plots.plots_in_current_tab()]
    assert "Loss" in titles
