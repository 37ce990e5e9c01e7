"""The Evaluation tab for graphs that declare their own objective: a VAE's reconstructions and prior samples,
several heads (the first classification head gets the confusion matrix and the mistakes)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from nnstudio.io import dumps
from nnstudio.layers.registry import default_registry
from nnstudio.ui.evaluation.compute import evaluate_run
from nnstudio.ui.evaluation.runner import EvaluationRunner
from nnstudio.ui.evaluation.view import EvaluationView
from tests.objective_graphs import two_heads, vae

pytestmark = pytest.mark.slow


def train(builder, folder):
    from nnstudio.training import Trainer, prepare

    registry = default_registry()
    text = dumps(builder.project, registry)
    result = Trainer(prepare(builder.project), folder).run()
    assert result.ok, result.message
    return text, registry, result.checkpoint


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
    return train(vae(hidden=32, latent=4, epochs=2), tmp_path_factory.mktemp("vae"))


@pytest.fixture(scope="module")
def heads_run(tmp_path_factory):
    return train(two_heads(epochs=2), tmp_path_factory.mktemp("heads"))


@pytest.fixture
def view(qtbot):
    widget = EvaluationView()
    qtbot.addWidget(widget)
    widget.resize(900, 500)
    widget.show()
    return widget


def tab_titles(view) -> list[str]:
    return [view.tabs.tabText(i) for i in range(view.tabs.count())]


def test_a_vae_is_scored_by_its_objective_with_reconstructions_and_prior_samples(vae_run, view):
    text, registry, checkpoint = vae_run
    result = evaluate_run(text, registry, None, checkpoint)
    assert result.objective == "rec + 0.01·kl" and result.term_names == ["rec", "kl"]
    assert {"loss", "loss_rec", "loss_kl", "rmse", "mae"} <= set(result.metrics)
    assert result.metrics["loss"] == pytest.approx(result.metrics["loss_rec"] + 0.01 * result.metrics["loss_kl"],
                                                   rel=1e-5)
    assert result.confusion is None and not result.misclassified, "a VAE has no classification head"
    inputs, outputs = result.reconstructions
    assert inputs.shape == outputs.shape == (16, 1, 8, 8)
    assert result.value_range == (0.0, 1.0)
    assert result.samples.shape == (32, 1, 8, 8), "decoded z, shaped like the data"
    assert result.sampler.latent_shape == (4,) and result.sampler.node_name == "z"
    view.show_result(result, "Run 1")
    assert tab_titles(view) == ["Reconstructions and samples"], "one page: are samples as good as reconstructions?"
    grids = view.recon_grids
    assert grids.inputs.image.size() == grids.outputs.image.size(), "the same tile holds the same sample"
    assert (grids.inputs.image.width(), grids.inputs.image.height()) == (4 * 8 + 3, 4 * 8 + 3)
    text = view.metrics.text()
    assert "loss (rec + 0.01·kl)" in text and "kl <b>" in text and "recon RMSE <b>" in text
    assert view.samples.grid.image is not None and view.samples.isVisible() and grids.isVisible()
    assert (view.samples.grid.image.width(), view.samples.grid.image.height()) == (8 * 9 - 1, 4 * 9 - 1)
    assert view.samples.seed.value() == result.sample_seed == 0
    assert "shape [4]" in view.samples.caption.text() and "'z'" in view.samples.caption.text()


def test_reconstructions_are_the_model_run_on_the_inputs(vae_run):
    import torch

    from nnstudio.compile.weights import load_weights
    from nnstudio.io import loads
    from nnstudio.training import prepare

    text, registry, checkpoint = vae_run
    result = evaluate_run(text, registry, None, checkpoint)
    job = prepare(loads(text, registry))
    load_weights(job.compiled.network, checkpoint)
    with torch.no_grad():
        expected = job.compiled.module.eval()(torch.from_numpy(result.reconstructions[0])).numpy()
    np.testing.assert_allclose(result.reconstructions[1].reshape(16, -1), expected, rtol=1e-5, atol=1e-6)


def test_new_samples_draws_again_with_the_next_seed_and_a_seed_brings_a_draw_back(vae_run, view, qtbot):
    text, registry, checkpoint = vae_run
    view.show_result(evaluate_run(text, registry, None, checkpoint), "Run 1")
    first = view.samples.values.copy()
    first_image = view.samples.grid.image.copy()
    qtbot.mouseClick(view.samples.new_button, Qt.MouseButton.LeftButton)
    assert view.samples.seed.value() == 1 and view.result.sample_seed == 1
    assert not np.allclose(view.samples.values, first)
    assert view.samples.grid.image != first_image, "the picture changed too"
    view.samples.seed.setValue(0)
    view.samples.seed.editingFinished.emit()
    np.testing.assert_array_equal(view.samples.values, first)
    assert view.samples.new_button.isEnabled()


def test_the_app_draws_new_samples_off_the_gui_thread(vae_run, view, qtbot):
    text, registry, checkpoint = vae_run
    runner = EvaluationRunner()
    view.sample_runner = runner.sample
    runner.sampled.connect(view.show_samples)
    try:
        with qtbot.waitSignal(runner.done, timeout=60_000) as done:
            runner.evaluate(text, registry, None, checkpoint, "Run 1")
        view.show_result(done.args[0], "Run 1")
        before = view.samples.values.copy()
        with qtbot.waitSignal(runner.sampled, timeout=10_000):
            qtbot.mouseClick(view.samples.new_button, Qt.MouseButton.LeftButton)
            assert not view.samples.new_button.isEnabled(), "until the samples arrive"
        assert view.samples.shown_seed == 1 and not np.allclose(view.samples.values, before)
        assert view.samples.new_button.isEnabled()
        stale = view.result.sampler
        view.show_result(evaluate_run(text, registry, None, checkpoint), "Run 2")
        view.show_samples(stale, 7, before)  # a late answer for the evaluation shown before
        assert view.samples.shown_seed == 0
    finally:
        runner.shutdown()


def test_several_heads_the_first_classifier_gets_the_confusion_matrix_and_the_mistakes(heads_run, view):
    text, registry, checkpoint = heads_run
    result = evaluate_run(text, registry, None, checkpoint)
    assert result.head_names == ["digit", "parity"]
    assert {"digit_accuracy", "parity_accuracy", "loss_digit_ce", "loss_parity_ce"} <= set(result.metrics)
    assert len(result.confusion) == 10 and sum(map(sum, result.confusion)) == result.count
    assert result.class_names == [str(i) for i in range(10)]
    correct = sum(result.confusion[i][i] for i in range(10))
    assert result.wrong_count == result.count - correct
    assert result.metrics["digit_accuracy"] == pytest.approx(correct / result.count)
    assert result.sampler is None and result.reconstructions is None
    view.show_result(result, "Run 1")
    assert tab_titles(view)[0] == "Confusion matrix" and tab_titles(view)[1].startswith("Misclassified")
    text = view.metrics.text()
    assert "digit accuracy <b>" in text and "parity accuracy <b>" in text and "parity_ce <b>" in text


def test_a_bce_reconstruction_is_not_taken_for_a_classifier(tmp_path, view):
    text, registry, checkpoint = train(vae(bce=True, epochs=1), tmp_path)  # as the vae_digits example
    result = evaluate_run(text, registry, None, checkpoint)
    assert "rmse" in result.metrics and "accuracy" not in result.metrics, "a rebuilt input is scored by its error"
    assert result.task == "reconstruction" and not result.is_classification
    assert result.confusion is None and not result.misclassified
    assert result.reconstructions is not None and result.samples is not None
    assert result.samples.min() >= 0.0 and result.samples.max() <= 1.0, "decoded through the final Sigmoid"
    view.show_result(result, "Run 1")
    assert tab_titles(view) == ["Reconstructions and samples"]
    assert "recon RMSE <b>" in view.metrics.text()


def test_pages_follow_the_result_shown(vae_run, heads_run, view):
    vae_result = evaluate_run(vae_run[0], vae_run[1], None, vae_run[2])
    heads_result = evaluate_run(heads_run[0], heads_run[1], None, heads_run[2])
    for result, titles in ((vae_result, ["Reconstructions and samples"]),
                           (heads_result, ["Confusion matrix", "Misclassified", "Metrics"]),
                           (vae_result, ["Reconstructions and samples"])):
        view.show_result(result, "Run")
        assert [t.split(" (")[0] for t in tab_titles(view)] == titles
    assert view.samples.parent() is view.vae_page and view.samples.isVisible()
