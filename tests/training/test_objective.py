"""Training a graph that declares its own objective: terms, heads, frozen nodes, learning-rate scales, resume."""

from __future__ import annotations

import pytest
import torch

from nnstudio.model.graph import NodeTraining
from nnstudio.training import Event, Status, Trainer, load_checkpoint
from nnstudio.training.job import prepare
from tests.training.helpers import blobs
from tests.training.objective_helpers import objective_job, two_head_project


def _params(trainer: Trainer, prefix: str) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in trainer.module.state_dict().items() if k.startswith(prefix)}


def test_every_term_and_head_is_reported_each_epoch() -> None:
    trainer = Trainer(objective_job())
    result = trainer.run()
    assert result.status is Status.FINISHED, result.message
    epoch = trainer.history.records("epoch")[-1]
    for name in ("class_loss", "parity_loss", "sparsity"):
        assert f"train_loss_{name}" in epoch and f"val_loss_{name}" in epoch
    assert {"val_digit_accuracy", "val_even_accuracy"} <= set(epoch)
    weighted = epoch["val_loss_class_loss"] + 0.5 * epoch["val_loss_parity_loss"] + 0.01 * epoch["val_loss_sparsity"]
    assert epoch["val_loss"] == pytest.approx(weighted, rel=1e-5)
    assert trainer.history.records("start")[0]["terms"] == ["class_loss", "parity_loss", "sparsity"]


def test_sampled_steps_record_each_term() -> None:
    job = objective_job(training={"instrumentation": {"enabled": True, "loss_every": 2}})
    trainer = Trainer(job)
    trainer.run()
    step = trainer.history.records("step")[0]
    assert set(step["terms"]) == {"class_loss", "parity_loss", "sparsity"}
    assert step["loss"] == pytest.approx(step["terms"]["class_loss"] + 0.5 * step["terms"]["parity_loss"]
                                         + 0.01 * step["terms"]["sparsity"], rel=1e-5)
    assert 0.0 <= step["accuracy"] <= 1.0  # the first head classifies


def test_a_term_weight_of_zero_leaves_that_head_untrained() -> None:
    trainer = Trainer(objective_job(weights=(1.0, 0.0)))
    before = _params(trainer, "parity.")
    trainer.run()
    after = _params(trainer, "parity.")
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_frozen_node_keeps_its_weights_and_batch_norm_statistics() -> None:
    trainer = Trainer(objective_job(frozen="norm"))
    trainer.setup()
    before = _params(trainer, "norm.")
    trunk_before = _params(trainer, "trunk.")
    assert trainer.run().ok
    after = _params(trainer, "norm.")
    assert all(torch.equal(before[k], after[k]) for k in before), "weights, bias and running stats stay"
    assert not all(torch.equal(trunk_before[k], v) for k, v in _params(trainer, "trunk.").items())
    assert trainer.node_training.frozen == 2 * 16


def test_frozen_node_may_still_update_its_statistics() -> None:
    project = two_head_project()
    node = project.graph.node_by_name("norm")
    project.graph.set_node_training(node.id, NodeTraining(frozen=True, update_stats=True))
    trainer = Trainer(prepare(project, data=blobs()))
    trainer.setup()
    mean_before = trainer.module.state_dict()["norm.running_mean"].clone()
    weight_before = trainer.module.state_dict()["norm.weight"].clone()
    trainer.run()
    assert not torch.equal(mean_before, trainer.module.state_dict()["norm.running_mean"])
    assert torch.equal(weight_before, trainer.module.state_dict()["norm.weight"])


def test_learning_rate_scale_gets_its_own_param_group() -> None:
    trainer = Trainer(objective_job(lr_scale={"trunk": 0.1}, training={"optimizer": {"name": "sgd", "lr": 0.2}}))
    trainer.setup()
    groups = trainer.optimizer.param_groups
    assert [g["lr"] for g in groups] == [pytest.approx(0.2), pytest.approx(0.02)]
    trunk = {id(p) for p in trainer.module.get_submodule("trunk").parameters()}
    assert {id(p) for p in groups[1]["params"]} == trunk
    assert trainer.history is not None and trainer.run().ok


def test_a_scale_survives_a_schedule() -> None:
    training = {"optimizer": {"name": "sgd", "lr": 0.2}, "schedule": {"name": "one_cycle"}}
    trainer = Trainer(objective_job(lr_scale={"trunk": 0.5}, training=training))
    trainer.setup()
    peaks = [g["max_lr"] for g in trainer.optimizer.param_groups]
    assert peaks == [pytest.approx(0.2), pytest.approx(0.1)]


def test_plain_project_without_customised_nodes_gets_one_flat_group() -> None:
    from tests.training.helpers import make_job

    trainer = Trainer(make_job())
    trainer.setup()
    assert len(trainer.optimizer.param_groups) == 1
    assert trainer.criterion is not None and trainer.objective is None


def test_resume_of_an_objective_graph_is_bitwise(tmp_path) -> None:
    training = {"epochs": 3, "optimizer": {"name": "adam", "lr": 0.01}}
    whole = Trainer(objective_job(training=training))
    assert whole.run().ok
    first = Trainer(objective_job(training=training), tmp_path)
    first.on(Event.STEP, lambda info: first.request_stop() if info.step == 5 else None)
    assert first.run().status is Status.STOPPED
    checkpoint = load_checkpoint(tmp_path / "checkpoints" / "last")
    assert isinstance(checkpoint.state["loss_sum"], list) and len(checkpoint.state["loss_sum"]) == 4
    second = Trainer(objective_job(training=training), tmp_path)
    second.restore(checkpoint)
    assert second.run().ok
    for key, value in whole.module.state_dict().items():
        assert torch.equal(value, second.module.state_dict()[key]), key
    last, again = whole.history.records("epoch")[-1], second.history.records("epoch")[-1]
    assert again["train_loss_parity_loss"] == last["train_loss_parity_loss"]


def test_the_inference_model_leaves_targets_and_losses_out() -> None:
    job = objective_job()
    module = job.compiled.module
    names = [n.name for n in module.graph.nodes if n.op == "placeholder"]
    assert names == ["x"]
    assert not any("loss" in name or name == "to_parity" for name, _ in module.named_children())
    digit, even = module(torch.randn(4, 2))
    assert digit.shape == (4, 3) and even.shape == (4, 2)


def test_diverging_objective_names_the_node() -> None:
    project = two_head_project(training={"optimizer": {"name": "sgd", "lr": 1e30},
                                         "instrumentation": {"enabled": True, "loss_every": 1}})
    result = Trainer(prepare(project, data=blobs())).run()
    assert result.status is Status.FAILED
    assert "diverged" in result.message and "first non-finite value" in result.message
