"""Live changes to a training run: a new learning rate, freezing and unfreezing a node, single steps, and their
exact replay on resume (training/interventions.py)."""

from __future__ import annotations

import copy
import json
import shutil
import threading

import pytest
import torch

from nnstudio.training import Event, Status, Trainer, load_checkpoint
from nnstudio.training.events import Control
from nnstudio.training.interventions import INTERVENTIONS_FILE, ChangeEvent
from nnstudio.training.job import prepare
from tests.training.helpers import blobs, mlp_project

# 44 training samples in batches of 16: 3 steps an epoch, 12 in all; momentum and dropout have state to keep
TRAINING = {"epochs": 4, "batch_size": 16, "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
            "instrumentation": {"enabled": True, "loss_every": 1, "grads_every": 100, "activations_every": 100}}


PROJECT = mlp_project(dropout=0.3)  # one project, so every run (and a resume) has the same node ids


def job(**extra):
    project = copy.deepcopy(PROJECT)
    project.training = {**TRAINING, **extra}
    return prepare(project, data=blobs(n=88))


def linears(trainer: Trainer) -> list[str]:
    graph = trainer.job.project.graph
    return [node_id for node_id in trainer.job.names if graph.nodes[node_id].type == "Linear"]


def at_step(trainer: Trainer, step: int, action) -> None:
    """Run `action()` from the STEP handler after `step` (the change then takes effect from step + 1)."""
    trainer.on(Event.STEP, lambda info: action() if info.step == step else None)


def plan(trainer: Trainer) -> None:
    """The changes every replay test makes: a lower rate after step 5, first Linear frozen after 7, unfrozen
    after 10."""
    first = linears(trainer)[0]
    at_step(trainer, 5, lambda: trainer.interventions.post_lr(0.01))
    at_step(trainer, 7, lambda: trainer.interventions.post_frozen(first, True))
    at_step(trainer, 10, lambda: trainer.interventions.post_frozen(first, False))


def changes(trainer: Trainer) -> list[tuple]:
    return [(r["change"], r["step"], r["new"], r["replayed"]) for r in trainer.history.records("intervention")]


def assert_same_weights(a: Trainer, b: Trainer) -> None:
    for key, value in a.module.state_dict().items():
        assert torch.equal(value, b.module.state_dict()[key]), key


def test_a_new_learning_rate_takes_effect_at_the_next_step():
    trainer = Trainer(job())
    at_step(trainer, 5, lambda: trainer.interventions.post_lr(0.01))
    assert trainer.run().status is Status.FINISHED
    rates = {r["step"]: r["lr"] for r in trainer.history.records("step")}
    assert rates[5] == 0.05 and rates[6] == 0.01 and rates[12] == 0.01  # a step's record shows the rate it used
    (event,) = trainer.history.records("intervention")
    assert (event["change"], event["epoch"], event["step"], event["old"], event["new"]) == ("lr", 2, 5, 0.05, 0.01)
    assert event["text"] == "step 5 (epoch 2): learning rate 0.05 → 0.01"


def test_a_new_learning_rate_scales_the_schedule_from_that_step_on():
    cosine = {"schedule": {"name": "cosine"}}
    plain = Trainer(job(**cosine))
    plain.run()
    changed = Trainer(job(**cosine))
    at_step(changed, 4, lambda: changed.interventions.post_lr(0.5 * changed.optimizer.param_groups[0]["lr"]))
    changed.run()
    before = {r["step"]: r["lr"] for r in plain.history.records("step")}
    after = {r["step"]: r["lr"] for r in changed.history.records("step")}
    assert after[4] == before[4]
    for step in range(5, 13):  # the cosine keeps its shape at half its height
        assert after[step] == pytest.approx(0.5 * before[step], rel=1e-9), step


def test_freezing_stops_updates_keeps_momentum_and_unfreezing_resumes():
    trainer = Trainer(job())
    first, second = linears(trainer)
    seen: dict[int, tuple] = {}

    def snapshot(info) -> None:
        weight = trainer.job.compiled.network.get_submodule(trainer.job.compiled.modules_of[first][0]).weight
        other = trainer.job.compiled.network.get_submodule(trainer.job.compiled.modules_of[second][0]).weight
        momentum = trainer.optimizer.state[weight]["momentum_buffer"].clone()
        seen[info.step] = (weight.detach().clone(), other.detach().clone(), momentum, weight.requires_grad)

    trainer.on(Event.STEP, snapshot)
    at_step(trainer, 3, lambda: trainer.interventions.post_frozen(first, True))
    at_step(trainer, 6, lambda: trainer.interventions.post_frozen(first, False))
    assert trainer.run().status is Status.FINISHED
    for step in (4, 5, 6):  # frozen from step 4 to 6: no update, the momentum buffer as it was
        assert torch.equal(seen[step][0], seen[3][0]) and torch.equal(seen[step][2], seen[3][2])
        assert not seen[step][3]
        assert not torch.equal(seen[step][1], seen[step - 1][1])  # the other layer goes on learning
    assert seen[7][3] and not torch.equal(seen[7][0], seen[6][0])  # unfrozen: it learns again
    assert [(r["change"], r["step"], r["node"]) for r in trainer.history.records("intervention")] == [
        ("freeze", 3, trainer.job.names[first]), ("unfreeze", 6, trainer.job.names[first])]
    assert all(p.requires_grad for p in trainer.module.parameters())  # the run's end gives them back


def test_changes_are_kept_in_the_history_the_checkpoint_and_the_run_folder(tmp_path):
    trainer = Trainer(job(), tmp_path)
    plan(trainer)
    assert trainer.run().status is Status.FINISHED
    expected = [("lr", 5, 0.01, False), ("freeze", 7, True, False), ("unfreeze", 10, False, False)]
    assert changes(trainer) == expected
    checkpoint = load_checkpoint(tmp_path / "checkpoints" / "last")  # weights_only loading
    assert [(e["kind"], e["step"]) for e in checkpoint.state["interventions"]] == [("lr", 5), ("freeze", 7),
                                                                                   ("unfreeze", 10)]
    assert [(r["change"], r["step"]) for r in checkpoint.history.records("intervention")] == [
        ("lr", 5), ("freeze", 7), ("unfreeze", 10)]
    listed = json.loads((tmp_path / INTERVENTIONS_FILE).read_text())["events"]
    assert [ChangeEvent.from_json(e, "e").step for e in listed] == [5, 7, 10]


def test_a_resume_from_before_the_changes_replays_them_to_bitwise_equal_weights(tmp_path):
    whole = Trainer(job())
    plan(whole)
    assert whole.run().status is Status.FINISHED

    folder = tmp_path / "run"
    first = Trainer(job(), folder)
    plan(first)
    early = folder / "checkpoints" / "early"
    first.on(Event.CHECKPOINT_SAVED, lambda info: shutil.copytree(info.path, early)
             if info.message == "last" and info.epoch == 1 else None)
    assert first.run().status is Status.FINISHED
    checkpoint = load_checkpoint(early)
    assert checkpoint.step == 3 and checkpoint.state["interventions"] == []

    second = Trainer(job(), folder)  # nobody posts anything: the run folder's list is replayed
    second.restore(checkpoint)
    assert second.interventions.resume_lines() == [
        "change to replay: step 5 (epoch 2): learning rate 0.05 → 0.01",
        f"change to replay: step 7 (epoch 3): froze {whole.job.names[linears(whole)[0]]}",
        f"change to replay: step 10 (epoch 4): unfroze {whole.job.names[linears(whole)[0]]}"]
    assert second.run().status is Status.FINISHED
    assert_same_weights(whole, second)
    assert changes(second) == [("lr", 5, 0.01, True), ("freeze", 7, True, True), ("unfreeze", 10, False, True)]


def test_a_resume_after_a_freeze_keeps_the_node_frozen(tmp_path):
    whole = Trainer(job())
    plan(whole)
    whole.run()
    first = Trainer(job(), tmp_path)
    plan(first)
    at_step(first, 8, first.request_stop)  # stopped while frozen, before the unfreeze
    assert first.run().status is Status.STOPPED
    checkpoint = load_checkpoint(tmp_path / "checkpoints" / "last")
    second = Trainer(job(), tmp_path)
    second.restore(checkpoint)
    node = linears(second)[0]
    assert second.interventions.frozen_nodes() == {node}
    assert not any(p.requires_grad for m in second.job.compiled.modules_of[node]
                   for p in second.module.get_submodule(m).parameters())
    at_step(second, 10, lambda: second.interventions.post_frozen(node, False))
    assert second.run().status is Status.FINISHED
    assert_same_weights(whole, second)
    assert changes(second) == [("lr", 5, 0.01, False), ("freeze", 7, True, False), ("unfreeze", 10, False, False)]


def test_a_fresh_run_in_the_same_folder_forgets_the_previous_runs_changes(tmp_path):
    first = Trainer(job(), tmp_path)
    plan(first)
    first.run()
    assert (tmp_path / INTERVENTIONS_FILE).exists()
    assert Trainer(job(), tmp_path).run().status is Status.FINISHED
    assert not (tmp_path / INTERVENTIONS_FILE).exists()


def test_impossible_changes_are_refused_with_the_reason():
    trainer = Trainer(job())
    first, second = linears(trainer)
    assert trainer.interventions.post_lr(0.1) == "the run has not started training yet; try again in a moment"
    trainer.setup()
    relu = next(n for n in trainer.job.names if trainer.job.project.graph.nodes[n].type == "ReLU")
    name = trainer.job.names
    assert trainer.interventions.post_lr(-1) == "learning rate: expected a positive number, got -1"
    assert trainer.interventions.post_lr(float("nan")).startswith("learning rate: expected a positive number")
    assert trainer.interventions.post_frozen(relu, True) == f"{name[relu]}: it has no weights to freeze"
    assert trainer.interventions.post_frozen("nope", True) == "nope: no such node in this run's graph"
    assert trainer.interventions.post_frozen(first, False) == f"{name[first]} is not frozen already"
    assert trainer.interventions.post_frozen(first, True) is None
    assert trainer.interventions.post_frozen(first, True) == f"{name[first]} is frozen already"
    assert trainer.interventions.post_frozen(second, True) == f"freezing {name[second]} would leave no weights to train"


def test_a_node_frozen_in_the_project_cannot_be_unfrozen_live():
    project = copy.deepcopy(PROJECT)
    project.training = TRAINING
    first = next(n for n, node in project.graph.nodes.items() if node.type == "Linear")
    project.graph.nodes[first].training = type(project.graph.nodes[first].training)(frozen=True)
    trainer = Trainer(prepare(project, data=blobs(n=88)))
    trainer.setup()
    assert "was frozen in the project when this run started" in trainer.interventions.post_frozen(first, False)


def test_step_once_runs_exactly_one_sampled_batch_and_pauses_again():
    trainer = Trainer(job(instrumentation={"enabled": True, "loss_every": 100, "grads_every": 100,
                                           "activations_every": 100}))
    paused = threading.Semaphore(0)
    trainer.on(Event.PAUSED, lambda info: paused.release())
    at_step(trainer, 4, trainer.pause)
    result: list = []
    thread = threading.Thread(target=lambda: result.append(trainer.run()))
    thread.start()
    try:
        assert paused.acquire(timeout=10)
        assert trainer.state.step == 4 and trainer.history.records("step") == []
        for expected in (5, 6, 7):  # step 6 ends epoch 2: its validation and checkpoint run, then it pauses
            assert trainer.interventions.step_once()
            assert paused.acquire(timeout=10)
            assert trainer.state.step == expected and trainer.status is Status.PAUSED
        assert [r["step"] for r in trainer.history.records("step")] == [5, 6, 7]  # each single step is sampled
        assert [r["step"] for r in trainer.history.records("grads")] == [5, 6, 7]
        assert [r["step"] for r in trainer.history.records("activations")] == [5, 6, 7]
        assert trainer.interventions.post_lr(0.02) is None  # a paused run takes a change at once
        deadline = threading.Event()
        for _ in range(100):
            if trainer.history.records("intervention"):
                break
            deadline.wait(0.02)
        assert [(r["step"], r["new"]) for r in trainer.history.records("intervention")] == [(7, 0.02)]
        trainer.resume()
        thread.join(timeout=20)
    finally:
        trainer.request_stop()
        thread.join(timeout=20)
    assert result[0].status is Status.FINISHED and result[0].step == 12
    assert [r["step"] for r in trainer.history.records("step")] == [5, 6, 7]  # back to the settings' sampling


def test_step_once_does_nothing_unless_paused():
    control = Control()
    assert not control.step_once()
    control.pause()
    assert control.step_once()
    control.resume()
    assert not control.pending


@pytest.mark.slow  # the CLI's imports
def test_the_cli_resume_prints_the_changes_it_carries_and_replays(tmp_path, capsys):
    from nnstudio.cli import main
    from nnstudio.io import load, save
    from nnstudio.layers.registry import default_registry

    path = tmp_path / "p.nnstudio"
    project = mlp_project(outputs=2)
    project.dataset = {"name": "moons", "params": {"samples": 120}}
    project.training = TRAINING
    save(project, path)
    folder = tmp_path / "run"
    first = Trainer(prepare(load(path, default_registry())), folder)
    node = linears(first)[0]
    at_step(first, 2, lambda: first.interventions.post_lr(0.02))
    at_step(first, 9, lambda: first.interventions.post_frozen(node, True))
    early = folder / "checkpoints" / "early"
    first.on(Event.CHECKPOINT_SAVED, lambda info: shutil.copytree(info.path, early)
             if info.message == "last" and info.epoch == 1 else None)
    assert first.run().status is Status.FINISHED and first.steps_per_epoch < 9
    capsys.readouterr()
    assert main(["train", str(path), "--resume", str(early), "--out", str(folder)]) == 0
    err = capsys.readouterr().err
    name = first.job.names[node]
    assert "change in effect: step 2 (epoch 1): learning rate 0.05 → 0.02" in err
    assert f"change to replay: step 9 (epoch 2): froze {name}" in err
    assert f"change: step 9 (epoch 2): froze {name} (replayed on resume)" in err
