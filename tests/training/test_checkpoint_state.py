"""What a checkpoint may steer: the loop position's ranges, the history, the resume's epoch count, and a new
learning rate put into a restored optimizer and schedule."""

from __future__ import annotations

import json
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nnstudio.training import CheckpointError, Event, Status, Trainer, load_checkpoint
from nnstudio.training.checkpoint import MAX_EPOCHS, POSITION, position_problem
from nnstudio.training.loop_state import check_resume, lr_override_problem, override_lr
from tests.training.helpers import make_job


@pytest.fixture(scope="module")
def last(tmp_path_factory):
    """A real checkpoint after 2 epochs (3 steps each)."""
    out = tmp_path_factory.mktemp("run")
    assert Trainer(make_job({"epochs": 2}), out).run().status is Status.FINISHED
    return out / "checkpoints" / "last"


def crafted(last, tmp_path, **changes):
    """A copy of `last` whose trainer state has `changes`."""
    folder = tmp_path / "crafted"
    folder.mkdir()
    for path in last.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    state = torch.load(folder / "trainer_state.pt", weights_only=True)
    state.update(changes)
    torch.save(state, folder / "trainer_state.pt")
    return folder


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"epoch": 10**6 + 1, "step": -5}, f"epoch: expected an integer from 0 to {MAX_EPOCHS}, got 1000001"),
        ({"step": -5}, f"step: expected an integer from 0 to {POSITION['step'][1]}, got -5"),
        ({"epoch": 2.0}, "epoch: expected an integer from 0 to"),
        ({"batch": True}, "batch: expected an integer from 0 to"),
        ({"epoch": 5, "step": 4}, "step: 4 is fewer than the 5 completed epoch(s) and 0 batch(es)"),
        ({"train_seconds": math.inf}, "train_seconds: expected a finite number >= 0, got inf"),
        ({"loss_sum": math.nan}, "loss_sum: expected a finite number or a list of them, got nan"),
        ({"loss_sum": [1.0, "x"]}, "loss_sum: expected a finite number or a list of them"),
    ],
)
def test_a_crafted_loop_position_is_refused_naming_the_file_and_the_field(last, tmp_path, changes, message):
    folder = crafted(last, tmp_path, **changes)
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(folder)
    assert str(caught.value).startswith(f"{folder / 'trainer_state.pt'}: {message}")
    assert "\n" not in str(caught.value)


numbers = st.one_of(
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
    st.lists(st.floats(), max_size=3),
)


@settings(max_examples=50, deadline=None)
@given(
    st.fixed_dictionaries(
        {"epoch": numbers, "step": numbers}, optional={"batch": numbers, "loss_sum": numbers, "train_seconds": numbers}
    )
)
def test_any_loop_position_is_either_in_range_or_refused_with_one_line(state):
    problem = position_problem(state)
    if problem is None:
        batch = state.get("batch", 0)
        assert 0 <= state["epoch"] <= MAX_EPOCHS and state["step"] >= state["epoch"] + batch >= 0
        assert math.isfinite(state.get("train_seconds", 0.0))
    else:
        assert problem.split(":")[0] in {*POSITION, "loss_sum", "train_seconds", "step"} and "\n" not in problem


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "unreadable (Expecting property name"),
        ("[" * 100_000 + "]" * 100_000, "unreadable"),
        ('{"format": "nnstudio.history", "records": 3}', "not an nnstudio metric history"),
        ('{"format": "nnstudio.history", "records": [1, 2]}', "not an nnstudio metric history"),
        ('{"records": []}', "not an nnstudio metric history"),
        (None, "missing"),
    ],
)
def test_a_damaged_history_is_refused_not_replaced_by_an_empty_one(last, tmp_path, text, message):
    folder = crafted(last, tmp_path)
    if text is None:
        (folder / "history.json").unlink()
    else:
        (folder / "history.json").write_text(text)
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(folder)
    assert str(caught.value).startswith(f"{folder / 'history.json'}: {message}")
    assert "train anew" in str(caught.value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def scratch(last, tmp_path_factory):
    return crafted(last, tmp_path_factory.mktemp("fuzz"))


@settings(max_examples=50, deadline=None)
@given(records=st.lists(json_values, max_size=4), wrapped=st.booleans())
def test_any_history_either_loads_or_is_refused_naming_the_file(scratch, records, wrapped):
    data = {"format": "nnstudio.history", "version": 1, "records": records} if wrapped else records
    (scratch / "history.json").write_text(json.dumps(data))
    try:
        history = load_checkpoint(scratch).history
    except CheckpointError as exc:
        assert str(exc).startswith(f"{scratch / 'history.json'}: ") and "\n" not in str(exc)
    else:
        assert wrapped and len(history.records()) == len(records)


def test_the_intact_history_comes_back(last):
    history = load_checkpoint(last).history
    assert [r["epoch"] for r in history.records("epoch")] == [1, 2]
    assert json.loads((last / "history.json").read_text())["format"] == "nnstudio.history"


def test_a_checkpoint_past_the_configured_epochs_is_refused(last):
    checkpoint = load_checkpoint(last)
    check_resume(checkpoint, 2)  # resuming a finished run to its own end is fine
    with pytest.raises(
        CheckpointError,
        match=r"trainer_state.pt: epoch: 2 is past the 1 epoch\(s\) this run is "
        r"set to \(training.epochs\); resume with --epochs 2 or more",
    ):
        check_resume(checkpoint, 1)


def cosine(lr: float, epochs: int = 3) -> dict:
    return {"epochs": epochs, "optimizer": {"name": "sgd", "lr": lr, "momentum": 0.9}, "schedule": {"name": "cosine"}}


@pytest.mark.parametrize("schedule", ["cosine", "one_cycle", "step", "warmup_cosine"])
def test_a_new_learning_rate_follows_the_schedule_from_where_it_was(tmp_path, schedule):
    """Resuming at lr 0.05 a run saved at 0.01 continues the schedule as a 0.05 run would be at that point."""
    training = {
        "epochs": 3,
        "optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.9},
        "schedule": {"name": schedule, "step_size": 1, "warmup_epochs": 1},
    }
    first = Trainer(make_job(training), tmp_path)
    first.on(Event.EPOCH_ENDED, lambda info: first.request_stop() if info.epoch == 1 else None)
    assert first.run().status is Status.STOPPED
    checkpoint = load_checkpoint(tmp_path / "checkpoints" / "last")
    faster = {**training, "optimizer": {**training["optimizer"], "lr": 0.05}}
    at_one = Trainer(make_job(faster))
    at_one.on(Event.EPOCH_ENDED, lambda info: at_one.request_stop() if info.epoch == 1 else None)
    at_one.run()
    whole = Trainer(make_job(faster))
    whole.run()

    resumed = Trainer(make_job(faster))
    resumed.restore(checkpoint)
    assert resumed.optimizer.param_groups[0]["lr"] == pytest.approx(first.optimizer.param_groups[0]["lr"])
    assert lr_override_problem(resumed) is None
    assert override_lr(resumed, 0.05, checkpoint) == "learning rate overridden: 0.05 (checkpoint had 0.01)"
    assert resumed.optimizer.param_groups[0]["lr"] == pytest.approx(at_one.optimizer.param_groups[0]["lr"], rel=1e-6)
    assert resumed.run().status is Status.FINISHED
    assert resumed.optimizer.param_groups[0]["lr"] == pytest.approx(
        whole.optimizer.param_groups[0]["lr"], rel=1e-6, abs=1e-12
    )


def test_the_same_rate_is_no_override(tmp_path):
    Trainer(make_job(cosine(0.01, epochs=1)), tmp_path).run()
    checkpoint = load_checkpoint(tmp_path / "checkpoints" / "last")
    again = Trainer(make_job(cosine(0.01)))
    again.restore(checkpoint)
    assert override_lr(again, 0.01, checkpoint) is None
