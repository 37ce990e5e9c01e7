"""The few-shot recipe: the episode sampler, the prototypical loss, the checks, training, resume and evaluation."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from nnstudio.training import Event, Status, load_checkpoint
from nnstudio.training.checkpoint import CheckpointError
from nnstudio.training.data import DataSplits, Split
from nnstudio.training.episodes import (
    EpisodeError,
    EpisodeSampler,
    EpisodeShape,
    episode_logits,
    score_episodes,
    stream_seed,
)
from nnstudio.training.evaluation import evaluate_job
from nnstudio.training.job import TrainingInputError, prepare
from nnstudio.training.recipes import create_trainer
from nnstudio.training.recipes.registry import distributed_recipe_problem
from tests.training.helpers import blobs, line, mlp_project
from tests.training.objective_helpers import two_head_project

LABELS = torch.arange(120) % 6  # 20 rows of each of 6 classes
SMALL = {"ways": 3, "shots": 2, "queries": 3, "episodes": 4, "val_episodes": 10, "test_episodes": 20,
         "test_shots": [1, 2]}


def data(classes: int = 8):
    """Gaussian blobs of `classes` classes: 30 training rows of each, and 8 in each of val and test."""
    g = torch.Generator().manual_seed(0)
    centres = torch.randn(classes, 4, generator=g) * 2
    y = torch.arange(46 * classes) % classes
    x = centres[y] + torch.randn(len(y), 4, generator=g)
    train, val, test = (slice(0, 30 * classes), slice(30 * classes, 38 * classes), slice(38 * classes, None))
    return DataSplits(train=Split(x[train], y[train]), val=Split(x[val], y[val]), test=Split(x[test], y[test]),
                      input_shape=(4,), input_dtype="float32", task="classification", num_classes=classes,
                      target_shape=(), class_names=[f"c{i}" for i in range(classes)], feature_names=None,
                      kind="tabular", description="few-shot blobs")


def project(params: dict | None = None, **training):
    settings = {"epochs": 2, "instrumentation": {"enabled": False}, "optimizer": {"name": "adam", "lr": 0.01},
                "recipe": {"name": "fewshot", "params": {**SMALL, **(params or {})}}, **training}
    return mlp_project(inputs=4, outputs=8, dropout=0.1, training=settings)


def job(params: dict | None = None, **training):
    return prepare(project(params, **training), data=data())


# --- the sampler ---------------------------------------------------------------------------------------------
def test_episodes_are_disjoint_draws_from_the_requested_classes_only() -> None:
    shape = EpisodeShape(ways=3, shots=2, queries=4)
    episodes = EpisodeSampler(LABELS, [1, 2, 4, 5], shape, seed=3).draw(50, (0, 1))
    assert episodes.rows.shape == (50, 3, 6) and episodes.classes.shape == (50, 3)
    for rows, classes in zip(episodes.rows, episodes.classes):
        assert len(set(classes.tolist())) == 3 and set(classes.tolist()) <= {1, 2, 4, 5}
        assert len(set(rows.reshape(-1).tolist())) == 18  # support and query rows all distinct
        assert torch.equal(LABELS[rows], classes[:, None].expand(3, 6))  # each way's rows are of its class
    support, query = set(episodes.support[0].reshape(-1).tolist()), set(episodes.query[0].reshape(-1).tolist())
    assert not support & query
    flat = episodes.flat_rows()[:shape.size]  # one episode: its N·K support rows, then its N·Q queries
    assert torch.equal(flat[:6], episodes.support[0].reshape(-1))
    assert torch.equal(flat[6:], episodes.query[0].reshape(-1))
    assert torch.equal(shape.query_labels(), torch.tensor([0] * 4 + [1] * 4 + [2] * 4))


def test_episodes_are_reproducible_from_the_seed_and_differ_between_streams() -> None:
    def draw(seed: int, stream: tuple[int, int]) -> torch.Tensor:
        return EpisodeSampler(LABELS, range(6), EpisodeShape(3, 1, 2), seed).draw(20, stream).rows

    assert torch.equal(draw(7, (0, 1)), draw(7, (0, 1)))
    assert not torch.equal(draw(7, (0, 1)), draw(7, (0, 2)))
    assert not torch.equal(draw(7, (0, 1)), draw(8, (0, 1)))
    assert stream_seed(0, (0, 1)) != stream_seed(1, (0, 0))


def test_the_sampler_names_the_class_that_falls_short() -> None:
    with pytest.raises(EpisodeError, match="2 classes cannot make 3-way episodes"):
        EpisodeSampler(LABELS, [0, 1], EpisodeShape(3, 1, 1), 0)
    labels = torch.cat([LABELS, torch.tensor([6] * 4)])
    with pytest.raises(EpisodeError, match="class 6 has 4 samples; 3-way 2-shot episodes with 3 queries need 5"):
        EpisodeSampler(labels, [0, 1, 6], EpisodeShape(3, 2, 3), 0)


def test_prototypical_logits_are_negative_squared_distances_to_support_means() -> None:
    shape = EpisodeShape(ways=2, shots=2, queries=1)
    embeddings = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0], [0.0, 6.0], [1.0, 1.0], [0.0, 3.0]])
    logits = episode_logits(embeddings, shape)  # prototypes (1, 0) and (0, 5)
    assert torch.allclose(logits, -torch.tensor([[1.0, 17.0], [10.0, 4.0]]))
    episodes = EpisodeSampler(torch.tensor([0, 0, 0, 1, 1, 1]), [0, 1], EpisodeShape(2, 2, 1), 0).draw(5, (2, 2))
    points = torch.tensor([[0.0], [0.2], [0.1], [5.0], [5.2], [4.9]])
    scores = score_episodes(points, episodes)
    assert scores.accuracy == 1.0 and scores.ci95 == 0.0 and scores.class_accuracy == {0: 1.0, 1: 1.0}
    expected = []
    for support, query in zip(episodes.support, episodes.query):
        prototypes = points[support].mean(1)  # [2, 1]
        distances = (points[query.reshape(-1)] - prototypes.T) ** 2  # [2 queries, 2 prototypes]
        expected.append(F.cross_entropy(-distances, torch.tensor([0, 1])))
    assert scores.loss == pytest.approx(float(torch.stack(expected).mean()), rel=1e-5)


# --- the checks ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("params", "message"), [
    ({"train_classes": [0, 1, 2], "test_classes": [2, 3, 4]},
     "training.recipe.params.test_classes: class 2 is also a training class; training, validation and test "
     "classes must be disjoint"),
    ({"train_classes": [0, 1, 2, 3, 4]}, "training.recipe.params.test_classes: class 4 is also a training class"),
    ({"train_classes": [0, 1]}, "training.recipe.params.train_classes: 2 classes cannot make 3-way episodes; "
                                "list at least 3 classes or lower ways"),
    ({"test_ways": 5}, "training.recipe.params.test_classes: 4 classes cannot make 5-way episodes"),
    ({"test_classes": [4, 5, 9]}, "training.recipe.params.test_classes: class 9 is out of range; the dataset has 8"),
    ({"train_classes": [0, 1, 1]}, "training.recipe.params.train_classes: class 1 is listed twice"),
    ({"shots": 25, "queries": 10, "test_shots": [1]},
     "training.recipe.params.train_classes: class 0 ('c0') has 30 samples in the training split; 25-shot "
     "episodes with 10 queries need 35 per class"),
    ({"test_shots": [44]}, "training.recipe.params.test_classes: class 4 ('c4') has 46 samples in all splits; 44-shot "
                           "episodes with 3 queries need 47 per class"),
])
def test_bad_class_settings_get_one_line_naming_the_param(params, message) -> None:
    with pytest.raises(TrainingInputError) as caught:
        job(params)
    assert str(caught.value).startswith(message), str(caught.value)
    assert "more problem" not in str(caught.value)


def test_the_graph_is_an_embedding_net_without_loss_nodes_and_with_one_output() -> None:
    recipe = {"name": "fewshot", "params": SMALL}
    with pytest.raises(TrainingInputError, match="the fewshot recipe supplies its own loss"):
        prepare(two_head_project(training={"recipe": recipe}), data=blobs())
    from nnstudio.model.builder import GraphBuilder

    b = GraphBuilder()
    x, fc = b.add("Input", "x", shape=[4]), b.add("Linear", "fc", out_features=8)
    b.chain(x, fc, b.add("Output", "a"))
    b.link(fc, b.add("Output", "b"))
    b.project.training = {"recipe": recipe}
    with pytest.raises(TrainingInputError, match="one Input and one Output .the embedding.; the graph has 2 Output"):
        prepare(b.project, data=data())


def test_a_regression_dataset_and_an_unmeasured_monitor_are_refused() -> None:
    with pytest.raises(TrainingInputError, match="training.recipe.name: the fewshot recipe draws episodes of "
                                                 "classes; this dataset's task is regression"):
        prepare(mlp_project(inputs=1, outputs=8, training={"recipe": {"name": "fewshot"}}), data=line())
    with pytest.raises(TrainingInputError, match="training.early_stopping.monitor: the fewshot recipe does not "
                                                 "measure 'val_rmse'"):
        job(early_stopping={"enabled": True, "monitor": "val_rmse"})


# --- training ------------------------------------------------------------------------------------------------
def test_training_reports_fewshot_accuracy_with_its_interval_each_epoch_and_at_the_end() -> None:
    trainer = create_trainer(job())
    result = trainer.run()
    assert result.status is Status.FINISHED, result.message
    assert result.step == 8  # 2 epochs of 4 episodes, one step each
    metrics = result.metrics
    for key in ("val_loss", "val_accuracy", "val_fewshot_accuracy", "val_fewshot_ci95", "test_fewshot_accuracy",
                "test_fewshot_ci95", "test_fewshot_1shot_accuracy", "test_fewshot_1shot_ci95",
                "test_fewshot_2shot_accuracy", "test_fewshot_2shot_ci95"):
        assert key in metrics, key
    assert metrics["val_accuracy"] == metrics["val_fewshot_accuracy"]
    assert metrics["test_fewshot_accuracy"] == metrics["test_fewshot_2shot_accuracy"]  # the training K
    records = [r for r in trainer.history.records() if r["kind"] == "fewshot"]
    assert [(r["split"], r["epoch"], r["shots"]) for r in records] == [("val", 1, 2), ("val", 2, 2),
                                                                       ("test", 2, 1), ("test", 2, 2)]
    last = records[-1]
    assert last["episodes"] == 20 and last["ways"] == 3 and last["chance"] == pytest.approx(1 / 3)
    assert last["classes"] == ["c4", "c5", "c6", "c7"] and set(last["class_accuracy"]) <= set(last["classes"])
    assert 0 < last["ci95"] < 0.5 and last["accuracy"] == metrics["test_fewshot_2shot_accuracy"]
    epoch = [r for r in trainer.history.records() if r["kind"] == "epoch"][-1]
    assert epoch["samples_per_s"] is not None and "val_fewshot_ci95" in epoch


def test_nnstudio_evaluate_repeats_the_runs_final_episodes() -> None:
    the_job = job()
    result = create_trainer(the_job).run()
    report = evaluate_job(the_job)
    assert report.split == "test" and report.count == 4 * 46  # every split's rows of classes 4-7
    assert report.metrics["fewshot_1shot_accuracy"] == result.metrics["test_fewshot_1shot_accuracy"]
    assert report.metrics["fewshot_ci95"] == result.metrics["test_fewshot_ci95"]
    assert "3-way 1-shot" in report.text() and "95 % CI over 20 episodes" in report.text()
    assert report.to_json()["fewshot"]["results"][0]["shots"] == 1
    seen = evaluate_job(the_job, "train")  # the classes it trained on, from their training rows
    assert seen.classes == ["c0", "c1", "c2", "c3"] and seen.count == 4 * 30
    with pytest.raises(ValueError, match="split: expected one of auto, test, val, train"):
        evaluate_job(the_job, "holdout")


def test_separate_validation_classes_are_used_each_epoch() -> None:
    params = {"train_classes": [0, 1, 2], "val_classes": [3, 4, 5], "test_classes": [5, 6, 7]}
    with pytest.raises(TrainingInputError, match="params.val_classes: class 5 is also a test class"):
        job(params)
    trainer = create_trainer(job({**params, "test_classes": [6, 7], "test_ways": 2}))
    assert trainer.run().ok
    records = [r for r in trainer.history.records() if r["kind"] == "fewshot"]
    assert {tuple(r["classes"]) for r in records if r["split"] == "val"} == {("c3", "c4", "c5")}
    assert {tuple(r["classes"]) for r in records if r["split"] == "test"} == {("c6", "c7")}
    assert {r["ways"] for r in records} == {2}


def test_the_recipe_refuses_to_run_distributed() -> None:
    assert distributed_recipe_problem(job()) == ("training.recipe: the fewshot recipe does not run under "
                                                 "--distributed: each step is one small episode, too small to "
                                                 "share; train it on one process")


def test_a_stopped_run_resumes_bitwise(tmp_path) -> None:
    whole = create_trainer(job(epochs=3))
    assert whole.run().ok
    first = create_trainer(job(epochs=3), tmp_path)
    first.on(Event.STEP, lambda info: first.request_stop() if info.step == 6 else None)  # mid-epoch 2
    assert first.run().status is Status.STOPPED
    checkpoint = load_checkpoint(tmp_path / "checkpoints" / "last")
    assert checkpoint.state["batch"] == 2 and checkpoint.state["recipe"]["episodes"]["count"] == 4
    second = create_trainer(job(epochs=3), tmp_path)
    second.restore(checkpoint)
    result = second.run()
    assert result.ok and result.step == 12
    for key, value in whole.module.state_dict().items():
        assert torch.equal(value, second.module.state_dict()[key]), key
    assert result.metrics["test_fewshot_accuracy"] == whole.history.records()[-1]["test_fewshot_accuracy"]
    other = create_trainer(job({"episodes": 5}, epochs=3), tmp_path)
    with pytest.raises(CheckpointError, match="trained on 4 episodes per epoch, these settings give 5"):
        other.restore(checkpoint)


# --- the shipped example -------------------------------------------------------------------------------------
@pytest.mark.slow
def test_fewshot_digits_beats_chance_and_an_untrained_embedding_on_unseen_digits() -> None:
    """fewshot_digits as shipped: trained on digits 0-4, tested 5-way on 5-9 over the same 600 episodes per K
    as an untrained copy of the net (same seed, so the same initial weights).

    Measured (seed 0, torch 2.13 CPU, about 10 s on one busy core): untrained 0.596 ± 0.007 (1-shot) and
    0.798 ± 0.005 (5-shot); trained 0.711 ± 0.007 and 0.878 ± 0.004. Seeds 1 and 2 gave 0.694 / 0.861 and
    0.707 / 0.879, gains of at least 0.090 (1-shot) and 0.062 (5-shot). The bars (0.6 and 0.8, three and four
    times chance; gains of 0.05 and 0.03) sit well below every measured run, yet a net that learned nothing
    transferable, or an episode mix-up that lets the untrained net score the same, fails them.
    """
    pytest.importorskip("sklearn")
    from nnstudio.examples import example_path
    from nnstudio.io import load

    the_job = prepare(load(example_path("fewshot_digits")))
    trainer = create_trainer(the_job)
    trainer.setup()
    untrained = evaluate_job(the_job).metrics  # the episodes the run's final evaluation uses
    result = trainer.run()
    assert result.status is Status.FINISHED, result.message
    metrics = result.metrics
    for shots, bar, gain in ((1, 0.6, 0.05), (5, 0.8, 0.03)):
        accuracy = metrics[f"test_fewshot_{shots}shot_accuracy"]
        assert accuracy >= bar > 0.2, (shots, accuracy)
        assert accuracy >= untrained[f"fewshot_{shots}shot_accuracy"] + gain, (shots, accuracy, untrained)
        assert 0 < metrics[f"test_fewshot_{shots}shot_ci95"] < 0.02
    assert 0 < metrics["val_fewshot_ci95"] < 0.05
