"""RBF centres from k-means on the data that reaches the node: exact, seeded, neutral to the run's RNG."""

from __future__ import annotations

import sys

import pytest
import torch
from safetensors.torch import save_file

from nnstudio.compile import build_module
from nnstudio.model.builder import GraphBuilder
from nnstudio.training import Event, Status, Trainer, load_checkpoint, prepare
from nnstudio.training.data_init import KMEANS_RUNS, SKLEARN_MISSING, init_from_data
from tests.training.helpers import blobs

sklearn_cluster = pytest.importorskip("sklearn.cluster")


def _project(init: str = "kmeans", centres: int = 4, objective: bool = False, seed: int = 0):
    """Input → Linear (so the RBF sees computed features, not the raw data) → RBF → Linear → Output."""
    b = GraphBuilder()
    x = b.add("Input", "points", shape=[2])
    lift = b.add("Linear", "lift", out_features=3)
    rbf = b.add("RBF", "rbf", centres=centres, width=0.5, centre_init=init)
    fc = b.add("Linear", "fc", out_features=3)
    b.chain(x, lift, rbf, fc, b.add("Output", "logits"))
    if objective:
        label = b.add("Target", "label", field="y", shape=[], dtype="int64")
        loss = b.add("CrossEntropyLoss", "ce")
        b.link(fc, loss, "input")
        b.link(label, loss, "target")
    b.project.training = {"epochs": 1, "batch_size": 16, "seed": seed, "instrumentation": {"enabled": False}}
    return b.project


def _setup(project, data=None):
    trainer = Trainer(prepare(project, data=data if data is not None else blobs(n=200)))
    trainer.setup()
    return trainer


def _centres(trainer) -> torch.Tensor:
    return trainer.module.get_submodule("rbf").centres.detach().clone()


@pytest.mark.parametrize(("objective", "seed"), [(False, 0), (True, 0), (False, 3)])
def test_centres_are_kmeans_of_what_reaches_the_node(objective, seed):
    trainer = _setup(_project(objective=objective, seed=seed))
    lift = trainer.module.get_submodule("lift")
    with torch.no_grad():
        features = lift(trainer.x).double().numpy()
    expected = sklearn_cluster.KMeans(n_clusters=4, n_init=KMEANS_RUNS, random_state=seed).fit(features)
    torch.testing.assert_close(_centres(trainer), torch.from_numpy(expected.cluster_centers_).float())
    assert list(trainer.data_init.initialised.values()) == [len(trainer.x)]


def test_kmeans_is_seeded_and_leaves_the_run_rng_alone():
    first, again = (_setup(_project()) for _ in range(2))
    assert torch.equal(_centres(first), _centres(again))
    _setup(_project(init="random"))
    after_random = torch.get_rng_state()
    _setup(_project(init="kmeans"))
    assert torch.equal(torch.get_rng_state(), after_random)  # shuffling and dropout draw what they would have


def test_random_centres_stay_as_compiled():
    project = _project(init="random")
    compiled = build_module(project)
    trainer = _setup(project)
    assert torch.equal(_centres(trainer), compiled.module.get_submodule("rbf").centres.detach())
    assert trainer.data_init.initialised == {}


def test_an_rbf_after_an_rbf_sees_the_first_ones_centres():
    b = GraphBuilder()
    x = b.add("Input", "points", shape=[2])
    first = b.add("RBF", "first", centres=5, width=1.0, centre_init="kmeans")
    second = b.add("RBF", "second", centres=3, width=1.0, centre_init="kmeans")
    b.chain(x, first, second, b.add("Linear", "fc", out_features=3), b.add("Output", "logits"))
    b.project.training = {"epochs": 1, "instrumentation": {"enabled": False}}
    trainer = _setup(b.project)
    with torch.no_grad():
        features = trainer.module.get_submodule("first")(trainer.x).double().numpy()
    expected = sklearn_cluster.KMeans(n_clusters=3, n_init=KMEANS_RUNS, random_state=0).fit(features)
    centres = trainer.module.get_submodule("second").centres.detach()
    torch.testing.assert_close(centres, torch.from_numpy(expected.cluster_centers_).float())


def test_centres_loaded_from_init_weights_are_kept(tmp_path):
    project = _project()
    given = torch.arange(12, dtype=torch.float32).reshape(4, 3)
    save_file({"rbf.centres": given}, tmp_path / "w.safetensors")
    project.init.weights = str(tmp_path / "w.safetensors")
    trainer = _setup(project)
    assert torch.equal(_centres(trainer), given)
    assert "init.weights" in next(iter(trainer.data_init.kept.values()))


def test_too_few_samples_keep_random_centres_and_say_why():
    trainer = _setup(_project(centres=150))  # blobs(200) trains on 100 samples
    (reason,) = trainer.data_init.kept.values()
    assert reason == "k-means needs at least 150 samples, got 100"


def test_without_scikit_learn_training_warns_once_and_keeps_random_centres(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.cluster", None)
    project = _project()
    job = prepare(project, data=blobs(n=200))
    messages = [w.message for w in job.warnings if w.code == "kmeans-unavailable"]
    assert messages == [f"node 'rbf': {SKLEARN_MISSING}"]
    trainer = Trainer(job)
    before = trainer.module.get_submodule("rbf").centres.detach().clone()
    trainer.setup()
    assert torch.equal(_centres(trainer), before)
    assert init_from_data(job.compiled, trainer.x, trainer.y, 0).kept


def test_a_run_with_kmeans_centres_learns_the_blobs():
    project = _project()
    project.training.update(epochs=10, optimizer={"name": "adam", "lr": 0.05})
    result = Trainer(prepare(project, data=blobs(n=200))).run()
    assert result.status is Status.FINISHED, result.message
    assert result.metrics["val_accuracy"] > 0.9  # three blobs three σ apart; chance is 1/3


def test_a_kmeans_run_with_lamb_resumes_bitwise(tmp_path):
    """The resumed run recomputes k-means, then takes every weight (and LAMB's moments) from the checkpoint."""
    def job():
        project = _project()
        project.training.update(epochs=3, optimizer={"name": "lamb", "lr": 0.01})
        return prepare(project, data=blobs(n=200))

    whole = Trainer(job())
    assert whole.run().status is Status.FINISHED
    first = Trainer(job(), tmp_path)
    first.on(Event.STEP, lambda info: first.request_stop() if info.step == 9 else None)
    assert first.run().status is Status.STOPPED
    second = Trainer(job(), tmp_path)
    second.restore(load_checkpoint(tmp_path / "checkpoints" / "last"))
    assert second.run().status is Status.FINISHED
    for key, value in whole.module.state_dict().items():
        assert torch.equal(value, second.module.state_dict()[key]), key


def test_a_module_the_pass_never_reaches_gives_no_points():
    from torch import nn

    from nnstudio.training.data_init import _inputs_reaching

    compiled = build_module(_project())
    assert _inputs_reaching(compiled, nn.Linear(2, 2), torch.randn(4, 2), torch.zeros(4, dtype=torch.long)) is None
