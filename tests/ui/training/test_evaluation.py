"""After training: evaluating a run's checkpoint, and the evaluation view's pages for each task."""

from __future__ import annotations

import pytest

from nnstudio.examples import EXAMPLES
from nnstudio.io import dumps, load
from nnstudio.layers.registry import default_registry
from nnstudio.ui.evaluation.compute import EvaluationError, evaluate_run
from nnstudio.ui.evaluation.view import EvaluationView

pytestmark = pytest.mark.slow


def trained(example: str, tmp_path, epochs: int = 1, **training):
    from nnstudio.training import Trainer, prepare

    registry = default_registry()
    project = load(EXAMPLES[example].path, registry)
    project.training = {**project.training, "epochs": epochs, **training}
    text = dumps(project, registry)
    result = Trainer(prepare(project), tmp_path / "run").run()
    assert result.ok, result.message
    return text, registry, result.checkpoint


@pytest.fixture
def view(qtbot):
    widget = EvaluationView()
    qtbot.addWidget(widget)
    return widget


def test_classifier_on_images_has_confusion_and_image_mistakes(tmp_path, view):
    text, registry, checkpoint = trained("digits_cnn", tmp_path)
    result = evaluate_run(text, registry, None, checkpoint)
    assert result.split == "test" and result.count > 0
    assert len(result.confusion) == 10
    assert sum(map(sum, result.confusion)) == result.count
    assert result.wrong_count == result.count - sum(result.confusion[i][i] for i in range(10))
    assert result.misclassified, "one epoch leaves some mistakes"
    confidences = [m.confidence for m in result.misclassified]
    assert confidences == sorted(confidences, reverse=True)
    view.show_result(result, "Run 1")
    titles = [view.tabs.tabText(i) for i in range(view.tabs.count())]
    assert titles[0] == "Confusion matrix" and titles[1].startswith("Misclassified")
    assert view.tabs.widget(1) is view.mistakes, "images are shown as images"
    assert not view.mistakes.item(0).icon().isNull()
    assert "accuracy" in view.metrics.text()


def test_regression_has_predicted_vs_true(tmp_path, view):
    text, registry, checkpoint = trained("sine_regression", tmp_path, epochs=2)
    result = evaluate_run(text, registry, None, checkpoint)
    assert result.truth is not None and len(result.truth) == len(result.predicted) == result.count
    view.show_result(result, "Run 1")
    titles = [view.tabs.tabText(i) for i in range(view.tabs.count())]
    assert titles == ["Predicted vs true", "Projector", "Explain", "Try one sample"]
    assert "R²" in view.metrics.text()


def test_autoencoder_shows_reconstructions(tmp_path, view):
    text, registry, checkpoint = trained("autoencoder", tmp_path)
    result = evaluate_run(text, registry, None, checkpoint)
    inputs, outputs = result.reconstructions
    assert inputs.shape == outputs.shape and len(inputs) > 0
    view.show_result(result, "Run 1")
    assert view.tabs.tabText(0) == "Reconstructions"
    assert not view.reconstructions.item(0).icon().isNull()


def test_a_missing_checkpoint_is_a_clear_error(tmp_path):
    registry = default_registry()
    text = dumps(load(EXAMPLES["spirals"].path, registry), registry)
    with pytest.raises(EvaluationError, match="nowhere"):
        evaluate_run(text, registry, None, tmp_path / "nowhere")
