"""The Adversarial examples page's curve of robust accuracy against ε: FGSM drawn with the evaluation, PGD added
on request off the GUI thread, every measured point marked, and the examples' ε marked on the axis."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio.io import dumps
from nnstudio.layers.registry import default_registry
from nnstudio.model.builder import GraphBuilder
from nnstudio.training.robustness import default_epsilons
from nnstudio.ui.evaluation.compute import evaluate_run
from nnstudio.ui.evaluation.view import EvaluationView
from nnstudio.ui.plots.layout import MIN_PLOT_HEIGHT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    from nnstudio.training import prepare
    from nnstudio.training.recipes import create_trainer

    b = GraphBuilder(name="clf")
    b.sequential(("Input", {"shape": [1, 8, 8]}), "Flatten", ("Linear", {"out_features": 10}), "Output")
    b.project.dataset = {"name": "digits"}
    b.project.training = {"epochs": 2, "optimizer": {"name": "adam", "lr": 0.01}}
    registry = default_registry()
    text = dumps(b.project, registry)
    run = create_trainer(prepare(b.project), tmp_path_factory.mktemp("robust")).run()
    assert run.ok, run.message
    return evaluate_run(text, registry, None, run.checkpoint)


@pytest.fixture
def view(qtbot):
    widget = EvaluationView()
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    return widget


def plotted(plot, method: str) -> tuple[list[float], list[float]]:
    x, y = plot.lines[method].getData()
    dots = plot.points[method].data
    np.testing.assert_allclose(dots["x"], x)
    np.testing.assert_allclose(dots["y"], y)
    return list(x), list(y)


def test_the_fgsm_curve_is_computed_with_the_evaluation_and_drawn_point_by_point(evaluated, view):
    curve = evaluated.adversarial.curve
    assert curve.method == "fgsm" and curve.count == evaluated.count, "the whole split: fewer than 1000 samples"
    assert curve.epsilons == default_epsilons(0.0, 1.0)
    assert curve.points[0].accuracy == pytest.approx(evaluated.metrics["accuracy"])
    view.show_result(evaluated, "Run 1")
    tab = view.adversarial_tab
    view.tabs.setCurrentWidget(tab)
    assert view.tabs.tabText(view.tabs.currentIndex()) == "Adversarial examples"
    assert view.adversarial.count() == 12, "the examples stay under the curve"
    x, y = plotted(tab.plot, "fgsm")
    assert x == curve.epsilons and y == pytest.approx(curve.accuracies)
    item = tab.plot.getPlotItem()
    assert item.getAxis("bottom").labelText == "ε (data units)" and item.getAxis("left").labelText == "accuracy"
    assert [label.text for _, label in tab.plot.legend.items] == ["FGSM"]
    assert tab.plot.marker.value() == pytest.approx(0.1), "the examples' ε is marked"
    assert tab.plot.height() >= MIN_PLOT_HEIGHT
    assert f"all {curve.count} samples" in tab.status.text() and "FGSM:" in tab.status.text()


def test_pgd_is_added_off_the_gui_thread_and_lies_at_or_below_fgsm(evaluated, view, qtbot):
    view.show_result(evaluated, "Run 1")
    tab = view.adversarial_tab
    assert tab.method.currentData() == "pgd", "the attack not drawn yet is offered"
    tab.compute_button.click()
    assert tab.busy and not tab.compute_button.isEnabled()
    qtbot.waitUntil(lambda: "pgd" in tab.plot.curves, timeout=20_000)
    pgd, fgsm = tab.plot.curves["pgd"], tab.plot.curves["fgsm"]
    x, y = plotted(tab.plot, "pgd")
    assert x == fgsm.epsilons and y == pytest.approx(pgd.accuracies)
    assert pgd.points[0].accuracy == fgsm.points[0].accuracy, "ε = 0 is the clean accuracy for both"
    assert all(p.accuracy <= f.accuracy + 0.03 for p, f in zip(pgd.points, fgsm.points))
    assert [label.text for _, label in tab.plot.legend.items] == ["FGSM", f"PGD ({pgd.steps} steps)"]
    tab.compute_button.click()  # computed already: redrawn from the run's cache, not added twice
    assert not tab.busy and len(tab.plot.legend.items) == 2
    view.show_result(evaluated, "Run 1")  # a new showing starts from the curve computed with the evaluation
    assert list(tab.plot.curves) == ["fgsm"] and len(tab.plot.legend.items) == 1
