"""Checkpoints: their files, weights_only loading, and resuming to bitwise-identical final weights."""

from __future__ import annotations

import json

import pytest
import torch

from nnstudio.training import CheckpointError, Event, Status, Trainer, load_checkpoint
from nnstudio.training.settings import SCHEDULES
from tests.training.helpers import blobs, make_job

# dropout, a per-step schedule, momentum and a partial last batch all have state that must survive a resume
TRAINING = {"epochs": 4, "batch_size": 16, "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
            "schedule": {"name": "cosine"}, "instrumentation": {"enabled": True, "loss_every": 2,
                                                                   "grads_every": 3, "activations_every": 5}}


def job(**extra):
    return make_job({**TRAINING, **extra}, data=blobs(n=88), dropout=0.3)


def stop_after_epoch(trainer: Trainer, epoch: int) -> None:
    trainer.on(Event.EPOCH_ENDED, lambda info: trainer.request_stop() if info.epoch == epoch else None)


def test_checkpoint_folders_hold_every_part(tmp_path):
    written = []
    trainer = Trainer(job(), tmp_path, writer=lambda folder: (folder / "extra.txt").write_text("x"))
    trainer.on(Event.CHECKPOINT_SAVED, lambda info: written.append((info.message, info.epoch)))
    result = trainer.run()
    assert result.status is Status.FINISHED
    last = tmp_path / "checkpoints" / "last"
    assert result.checkpoint == last and result.best_checkpoint == tmp_path / "checkpoints" / "best"
    assert {p.name for p in last.iterdir()} == {"model.safetensors", "trainer_state.pt", "history.json",
                                                "checkpoint.json", "extra.txt"}
    info = json.loads((last / "checkpoint.json").read_text())
    assert info["epoch"] == 4 and info["epoch_complete"] and info["monitor"]["metric"] == "val_loss"
    assert info["torch"] == torch.__version__
    state = torch.load(last / "trainer_state.pt", weights_only=True)
    assert state["epoch"] == 4 and state["step"] == 4 * 3  # 44 samples: 3 steps per epoch
    assert ("last", 4) in written
    history = json.loads((last / "history.json").read_text())
    assert history["records"][0]["kind"] == "start"
    assert not list((tmp_path / "checkpoints").glob(".*"))  # no staging folders left behind


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_trainer_state_loads_with_weights_only_for_every_schedule(tmp_path, schedule):
    trainer = Trainer(make_job({"epochs": 2, "schedule": {"name": schedule, "milestones": [1],
                                                          "warmup_epochs": 1}}), tmp_path)
    assert trainer.run().status is Status.FINISHED
    checkpoint = load_checkpoint(tmp_path / "checkpoints" / "last")  # uses weights_only=True
    assert checkpoint.epoch == 2
    assert isinstance(checkpoint.state["scheduler"], dict)


def test_resume_from_an_epoch_end_gives_bitwise_equal_weights(tmp_path):
    whole = Trainer(job(), tmp_path / "whole")
    assert whole.run().status is Status.FINISHED

    first = Trainer(job(), tmp_path / "split")
    stop_after_epoch(first, 2)
    stopped = first.run()
    assert stopped.status is Status.STOPPED and stopped.epochs == 2
    checkpoint = load_checkpoint(tmp_path / "split" / "checkpoints" / "last")
    assert checkpoint.info["epoch_complete"] and checkpoint.epoch == 2

    second = Trainer(job(), tmp_path / "split")
    second.restore(checkpoint)
    finished = second.run()
    assert finished.status is Status.FINISHED and finished.step == whole.state.step
    for key, value in whole.module.state_dict().items():
        assert torch.equal(value, second.module.state_dict()[key]), key
    # the history continues where it stopped instead of starting over
    epochs = [r["epoch"] for r in second.history.records("epoch")]
    assert epochs == [1, 2, 3, 4]


def test_resume_from_a_mid_epoch_stop_gives_bitwise_equal_weights(tmp_path):
    whole = Trainer(job())
    whole.run()
    first = Trainer(job(), tmp_path)
    first.on(Event.STEP, lambda info: first.request_stop() if info.step == 7 else None)
    assert first.run().status is Status.STOPPED
    checkpoint = load_checkpoint(tmp_path / "checkpoints" / "last")
    assert checkpoint.info["batch_in_epoch"] == 1 and not checkpoint.info["epoch_complete"]
    second = Trainer(job(), tmp_path)
    second.restore(checkpoint)
    assert second.run().status is Status.FINISHED
    for key, value in whole.module.state_dict().items():
        assert torch.equal(value, second.module.state_dict()[key]), key
    assert second.history.records("epoch")[-1]["train_loss"] == whole.history.records("epoch")[-1]["train_loss"]


def test_a_failed_run_keeps_the_last_good_checkpoint(tmp_path):
    trainer = Trainer(make_job({"epochs": 3, "optimizer": {"name": "sgd", "lr": 0.01}}), tmp_path)
    # after a good first epoch, make the next step explode
    trainer.on(Event.EPOCH_ENDED, lambda info: trainer.optimizer.param_groups[0].update(lr=1e30))
    result = trainer.run()
    assert result.status is Status.FAILED
    assert "last good checkpoint is kept" in result.message
    assert load_checkpoint(tmp_path / "checkpoints" / "last").epoch == 1


def test_restoring_an_unrelated_checkpoint_is_refused(tmp_path):
    Trainer(make_job({"epochs": 1}), tmp_path).run()
    other = Trainer(make_job({"epochs": 1}, width=32))
    with pytest.raises(CheckpointError, match="do not match"):
        other.restore(load_checkpoint(tmp_path / "checkpoints" / "last"))


def test_reading_a_folder_that_is_not_a_checkpoint_names_it(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint folder"):
        load_checkpoint(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="not a checkpoint folder"):
        load_checkpoint(tmp_path / "empty")


def test_a_pickle_with_code_in_trainer_state_is_refused(tmp_path):
    Trainer(make_job({"epochs": 1}), tmp_path).run()
    last = tmp_path / "checkpoints" / "last"
    torch.save({"epoch": 1, "step": 1, "evil": print}, last / "trainer_state.pt")
    with pytest.raises(CheckpointError, match="unreadable"):
        load_checkpoint(last)


def test_a_trainer_state_missing_parts_is_refused_with_the_folder_named(tmp_path):
    Trainer(make_job({"epochs": 1}), tmp_path).run()
    last = tmp_path / "checkpoints" / "last"
    state = torch.load(last / "trainer_state.pt", weights_only=True)
    del state["shuffle"]
    torch.save(state, last / "trainer_state.pt")
    with pytest.raises(CheckpointError, match="its trainer state does not fit"):
        Trainer(make_job({"epochs": 2})).restore(load_checkpoint(last))
