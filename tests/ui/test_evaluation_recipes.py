"""The Evaluation tab's recipe pages: adversarial examples beside their originals, for adversarial-recipe runs
and for plain classifiers of float images; none for tabular inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnstudio.io import dumps
from nnstudio.layers.registry import default_registry
from nnstudio.model.builder import GraphBuilder
from nnstudio.ui.evaluation.adversarial import FLIPPED, magnified
from nnstudio.ui.evaluation.compute import evaluate_run
from nnstudio.ui.evaluation.view import EvaluationView

pytestmark = pytest.mark.slow


def digits_classifier(recipe: dict | None = None, dataset: str = "digits") -> GraphBuilder:
    b = GraphBuilder(name="clf")
    if dataset == "digits":
        b.sequential(("Input", {"shape": [1, 8, 8]}), "Flatten", ("Linear", {"out_features": 10}), "Output")
    else:
        b.sequential(("Input", {"shape": [2]}), ("Linear", {"out_features": 3}), "Output")
    b.project.dataset = {"name": dataset}
    b.project.training = {"epochs": 1, "optimizer": {"name": "adam", "lr": 0.01},
                          **({"recipe": recipe} if recipe else {})}
    return b


def train(builder, folder):
    from nnstudio.training import prepare
    from nnstudio.training.recipes import create_trainer

    registry = default_registry()
    text = dumps(builder.project, registry)
    result = create_trainer(prepare(builder.project), folder).run()
    assert result.ok, result.message
    return text, registry, result.checkpoint


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory):
    return train(digits_classifier(), tmp_path_factory.mktemp("plain"))


@pytest.fixture(scope="module")
def adversarial_run(tmp_path_factory):
    recipe = {"name": "adversarial", "params": {"attack": "pgd", "epsilon": 0.3, "steps": 3, "clamp_low": 0.0,
                                                "clamp_high": 1.0}}
    return train(digits_classifier(recipe), tmp_path_factory.mktemp("adv"))


@pytest.fixture
def view(qtbot):
    widget = EvaluationView()
    qtbot.addWidget(widget)
    widget.resize(900, 500)
    widget.show()
    return widget


def tab_titles(view) -> list[str]:
    return [view.tabs.tabText(i).split(" (")[0] for i in range(view.tabs.count())]


def test_a_plain_image_classifier_gets_fgsm_examples_beside_its_originals(plain_run, view):
    from nnstudio.compile.weights import load_weights
    from nnstudio.io import loads
    from nnstudio.training import prepare

    text, registry, checkpoint = plain_run
    result = evaluate_run(text, registry, None, checkpoint)
    examples = result.adversarial
    assert examples.method == "fgsm" and examples.epsilon == pytest.approx(0.1)
    assert examples.originals.shape == examples.adversarial.shape == (12, 1, 8, 8)
    change = examples.adversarial - examples.originals
    assert np.abs(change).max() <= 0.1 + 1e-6 and np.abs(change).max() > 0.05
    assert examples.adversarial.min() >= 0.0 and examples.adversarial.max() <= 1.0, "clamped to the data's range"
    job = prepare(loads(text, registry))
    load_weights(job.compiled.network, checkpoint)
    with torch.no_grad():
        model = job.compiled.module.eval()
        expected = model(torch.from_numpy(examples.adversarial)).argmax(-1).numpy()
        before = model(torch.from_numpy(examples.originals)).argmax(-1).numpy()
    np.testing.assert_array_equal(examples.after, expected)
    np.testing.assert_array_equal(examples.before, before)
    view.show_result(result, "Run 1")
    assert tab_titles(view) == ["Confusion matrix", "Misclassified", "Metrics", "Adversarial examples", "Projector",
                                "Explain", "Try one sample"]
    page = view.adversarial
    assert page.count() == 12 and page.iconSize().width() == 3 * page.iconSize().height()
    for i in range(page.count()):
        item = page.item(i)
        assert item.text() == f"{result.class_name(int(examples.before[i]))} → " \
                              f"{result.class_name(int(examples.after[i]))}"
        assert (item.background().color() == FLIPPED) == bool(examples.flipped[i])
    assert f"FGSM, ε = 0.1: {int(examples.flipped.sum())} of 12 predictions flipped" in view.metrics.text()


def test_an_adversarial_run_is_attacked_with_its_own_settings(adversarial_run, view):
    text, registry, checkpoint = adversarial_run
    result = evaluate_run(text, registry, None, checkpoint)
    examples = result.adversarial
    assert examples.method == "pgd" and examples.epsilon == pytest.approx(0.3)
    assert np.abs(examples.adversarial - examples.originals).max() <= 0.3 + 1e-6
    assert "accuracy" in result.metrics
    view.show_result(result, "Run 1")
    assert "Adversarial examples" in tab_titles(view)
    assert "PGD, ε = 0.3" in view.metrics.text()


def test_tabular_inputs_get_no_adversarial_page(tmp_path, view):
    text, registry, checkpoint = train(digits_classifier(dataset="blobs"), tmp_path)
    result = evaluate_run(text, registry, None, checkpoint)
    assert result.is_classification and result.adversarial is None
    view.show_result(result, "Run 1")
    assert "Adversarial examples" not in tab_titles(view)


def test_the_perturbation_is_magnified_to_fill_the_grey_range():
    delta = np.array([[-0.02, 0.0], [0.01, 0.02]])
    np.testing.assert_allclose(magnified(delta), [[0.0, 0.5], [0.75, 1.0]])
    np.testing.assert_array_equal(magnified(np.zeros((2, 2))), np.full((2, 2), 0.5))


# --- GAN -------------------------------------------------------------------------------------------------------

def digits_gan() -> GraphBuilder:
    b = GraphBuilder(name="gan")
    z = b.add("Input", "z", shape=[4], field="noise")
    b.chain(z, b.add("Linear", "g_fc", out_features=64), b.add("Sigmoid", "g_act"),
            b.add("Reshape", "g_shape", shape=[1, 8, 8]), b.add("Output", "fake"))
    x = b.add("Input", "x", shape=[1, 8, 8])
    b.chain(x, b.add("Flatten", "d_flat"), b.add("Linear", "d_fc", out_features=1), b.add("Output", "logit"))
    b.project.dataset = {"name": "digits"}
    b.project.training = {"epochs": 1, "batch_size": 64, "instrumentation": {"enabled": False},
                          "recipe": {"name": "gan"}}
    return b


def test_a_gan_on_points_shows_its_samples_over_the_real_points(tmp_path, view):
    from tests.gan_graphs import gan

    text, registry, checkpoint = train(gan(training={"epochs": 1}), tmp_path)
    result = evaluate_run(text, registry, None, checkpoint)
    assert {"d_real", "d_fake"} <= set(result.metrics)
    assert result.gan.points and result.gan.fake.shape == (512, 2)
    again = evaluate_run(text, registry, None, checkpoint)
    np.testing.assert_array_equal(again.gan.fake, result.gan.fake)  # fixed noise: the same samples each time
    view.show_result(result, "Run 1")
    assert tab_titles(view) == ["Generated samples"], "the ring's labels make no classifier pages"
    assert view.gan.stack.currentWidget() is view.gan.scatter and view.gan.isVisible()
    plotted = [item for item in view.gan.scatter.getPlotItem().items if hasattr(item, "points")]
    assert sorted(len(item.points()) for item in plotted) == sorted([len(result.gan.real), 512])
    assert "512 points from the final generator" in view.gan.caption.text()


def test_a_gan_on_images_shows_a_grid_of_generated_images(tmp_path, view):
    text, registry, checkpoint = train(digits_gan(), tmp_path)
    result = evaluate_run(text, registry, None, checkpoint)
    fake = result.gan.fake
    assert fake.shape == (64, 1, 8, 8) and not result.gan.points
    assert fake.min() >= 0.0 and fake.max() <= 1.0, "through the generator's Sigmoid"
    view.show_result(result, "Run 1")
    assert tab_titles(view) == ["Generated samples"]
    assert view.gan.stack.currentWidget() is view.gan.grid
    assert (view.gan.grid.image.width(), view.gan.grid.image.height()) == (8 * 9 - 1, 8 * 9 - 1)
    assert "64 samples from the final generator" in view.gan.caption.text()


# --- SOM -------------------------------------------------------------------------------------------------------

def som_map_project(topology: str = "rectangular") -> GraphBuilder:
    b = GraphBuilder(name="som")
    b.chain(b.add("Input", "x", shape=[2]), b.add("SOM", "map", height=3, width=4, topology=topology),
            b.add("Output", "distances"))
    b.project.dataset = {"name": "blobs"}
    b.project.training = {"epochs": 2, "batch_size": 8, "instrumentation": {"enabled": False},
                          "recipe": {"name": "som"}}
    return b


@pytest.mark.parametrize("topology", ["rectangular", "hexagonal"])
def test_a_som_shows_its_final_umatrix_and_hit_map_on_the_held_out_split(tmp_path, view, topology):
    text, registry, checkpoint = train(som_map_project(topology), tmp_path)
    result = evaluate_run(text, registry, None, checkpoint)
    assert {"quantisation_error", "topographic_error"} <= set(result.metrics)
    record = result.som.record
    assert (record["height"], record["width"], record["topology"]) == (3, 4, topology)
    assert sum(map(sum, record["hits"])) == result.count, "every held-out sample has one best-matching unit"
    assert len(result.som.start_map["positions"]) == 12
    view.show_result(result, "Run 1")
    assert tab_titles(view) == ["U-matrix and hit map"], "the blobs' labels make no classifier pages"
    assert view.som.umatrix.has_data() and view.som.hits.has_data() and view.som.isVisible()
    assert any(label.startswith("close ") for label in view.som.umatrix.key_labels())
    assert set(view.som.hits.key_labels()) <= set(result.class_names)
    assert f"Hit map · {result.split} split" in view.som.hits.item.titleLabel.text


# --- few-shot --------------------------------------------------------------------------------------------------

def fewshot_project() -> GraphBuilder:
    b = GraphBuilder(name="fewshot")
    b.sequential(("Input", {"shape": [1, 8, 8]}), "Flatten", ("Linear", {"out_features": 16}), "Output")
    b.project.dataset = {"name": "digits"}
    params = {"ways": 3, "shots": 2, "queries": 3, "episodes": 5, "val_episodes": 5, "test_episodes": 20,
              "test_shots": [1, 2]}
    b.project.training = {"epochs": 1, "instrumentation": {"enabled": False},
                          "optimizer": {"name": "adam", "lr": 0.01}, "recipe": {"name": "fewshot", "params": params}}
    return b


def test_a_fewshot_run_shows_n_way_k_shot_accuracy_with_its_ci_and_no_classifier_pages(tmp_path, view):
    text, registry, checkpoint = train(fewshot_project(), tmp_path)
    result = evaluate_run(text, registry, None, checkpoint)
    summary = result.fewshot
    assert summary.split == "test" and summary.classes == ["5", "6", "7", "8", "9"], "the unseen half"
    assert [(r.setting, r.episodes) for r in summary.rows] == [("3-way 1-shot", 20), ("3-way 2-shot", 20)]
    two = summary.rows[1]
    assert two.accuracy == pytest.approx(result.metrics["fewshot_accuracy"]), "the headline is the trained K"
    assert two.ci95 == pytest.approx(result.metrics["fewshot_ci95"]) and two.chance == pytest.approx(1 / 3)
    assert set(two.class_accuracy) <= set(summary.classes)
    assert not result.misclassified and result.adversarial is None, "an embedding is not a softmax classifier"
    view.show_result(result, "Run 1")
    assert tab_titles(view) == ["Few-shot accuracy"]
    table = view.fewshot.table
    assert table.rowCount() == 2 and table.item(1, 0).text() == "3-way 2-shot"
    assert table.item(1, 1).text() == f"{two.accuracy:.1%}" and table.item(1, 2).text() == f"± {two.ci95:.1%}"
    assert view.fewshot.classes.rowCount() == len(set(two.class_accuracy) | set(summary.rows[0].class_accuracy))
    assert "K = 2" in view.fewshot.caption.text() and "5, 6, 7, 8, 9" in view.fewshot.caption.text()


def test_the_app_evaluates_a_recipe_run_off_the_gui_thread(tmp_path, view, qtbot):
    from nnstudio.ui.evaluation.runner import EvaluationRunner
    from tests.gan_graphs import gan

    text, registry, checkpoint = train(gan(training={"epochs": 1}), tmp_path)
    runner = EvaluationRunner()
    try:
        with qtbot.waitSignal(runner.done, timeout=60_000) as done:
            runner.evaluate(text, registry, None, checkpoint, "Run 1")
        view.show_result(done.args[0], done.args[1])
    finally:
        runner.shutdown()
    assert tab_titles(view) == ["Generated samples"] and view.gan.stack.currentWidget() is view.gan.scatter
