"""A checkpoint swap never loses `last`: an error or a crash at any point between its renames leaves the old or
the new checkpoint for --resume, and what dead writers left behind is recovered or removed by the next save."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from torch import nn

from nnstudio.metrics.history import MetricHistory
from nnstudio.training import load_checkpoint
from nnstudio.training.checkpoint import save_checkpoint

RENAMES = 3  # staging -> .new, last -> .old, .new -> last


def save(folder: Path, epoch: int) -> Path:
    """A small but complete checkpoint at `folder/last` whose weights and state say `epoch`."""
    module = nn.Linear(2, 2)
    with torch.no_grad():
        module.weight.fill_(float(epoch))
    state = {"epoch": epoch, "step": 3 * epoch, "batch": 0, "loss_sum": 0.0}
    return save_checkpoint(
        folder / "last", module, state, MetricHistory([{"kind": "epoch", "epoch": epoch}]), {"epoch": epoch}
    )


def epoch_of(folder: Path) -> int:
    return load_checkpoint(folder / "last").epoch


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def crash_at(monkeypatch, rename: int, after: bool = False, kind: type[BaseException] = OSError) -> None:
    """Make the `rename`-th Path.rename fail (before it renames, or just after when `after`)."""
    calls = {"n": 0}
    real = Path.rename

    def failing(self, target):
        calls["n"] += 1
        if calls["n"] == rename and not after:
            raise kind("simulated failure")
        result = real(self, target)
        if calls["n"] == rename:
            raise kind("simulated failure")
        return result

    monkeypatch.setattr(Path, "rename", failing)


@pytest.mark.parametrize("after", [False, True])
@pytest.mark.parametrize("rename", range(1, RENAMES + 1))
def test_an_error_at_any_rename_keeps_the_old_or_the_new_last(tmp_path, monkeypatch, rename, after):
    save(tmp_path, 1)
    with monkeypatch.context() as patch:
        crash_at(patch, rename, after, KeyboardInterrupt)
        with pytest.raises(KeyboardInterrupt):
            save(tmp_path, 2)
    assert epoch_of(tmp_path) == (2 if after and rename == RENAMES else 1)
    save(tmp_path, 3)
    assert epoch_of(tmp_path) == 3 and leftovers(tmp_path) == []


def crash_in_a_child(folder: Path, rename: int, after: bool) -> None:
    """Save epoch 2 in a forked child that dies at the `rename`-th rename (before or after it) with os._exit,
    which, like kill -9, runs no handler and no cleanup."""
    pid = os.fork()
    if pid == 0:
        try:
            calls = {"n": 0}
            real = Path.rename

            def dying(self, target):
                calls["n"] += 1
                if calls["n"] == rename and not after:
                    os._exit(0)
                real(self, target)
                if calls["n"] == rename:
                    os._exit(0)

            Path.rename = dying
            save(folder, 2)
        finally:
            os._exit(1)  # the crash did not happen
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the child saved without crashing"


def test_a_crash_at_every_point_of_a_swap_is_recovered_on_load_and_tidied_by_the_next_save(tmp_path):
    for rename in range(1, RENAMES + 1):
        for after in (False, True):
            folder = tmp_path / f"{rename}-{after}"
            save(folder, 1)
            crash_in_a_child(folder, rename, after)
            assert leftovers(folder), "the crash left nothing: it did not happen mid-swap"
            checkpoint = load_checkpoint(folder / "last")
            # between the two middle renames there is no `last`: the complete new copy is renamed back
            gap = (rename == 2 and after) or (rename == 3 and not after)
            assert checkpoint.epoch == (2 if gap or (rename == 3 and after) else 1), (rename, after)
            if gap:
                [note] = checkpoint.notes
                assert note.startswith(f"{folder / 'last'}: recovered from .last.new-")
                assert "the checkpoint being saved" in note and "interrupted" in note
            else:
                assert checkpoint.notes == []
            save(folder, 3)
            assert epoch_of(folder) == 3 and leftovers(folder) == [], (rename, after)


def test_a_copy_whose_folder_is_missing_is_recovered_by_the_next_save_of_another_folder(tmp_path):
    """The first save of a new run may be `best`: it must not throw away the only copy of `last`."""
    save(tmp_path, 1)
    (tmp_path / "last").rename(tmp_path / ".last.old-999999999")  # a dead writer's previous copy, no `last`
    module = nn.Linear(2, 2)
    save_checkpoint(tmp_path / "best", module, {"epoch": 1, "step": 3}, MetricHistory(), {})
    assert epoch_of(tmp_path) == 1 and leftovers(tmp_path) == []


def test_a_live_writers_staging_is_left_alone(tmp_path):
    save(tmp_path, 1)
    parent_pid = os.getppid()  # alive for the whole test
    live = tmp_path / f".last.tmp-{parent_pid}"
    live.mkdir()
    dead_staging = tmp_path / ".last.tmp-999999999"  # beyond any pid_max: its writer is surely gone
    dead_staging.mkdir()
    (dead_staging / "model.safetensors").write_bytes(b"half a checkpoint")
    save(tmp_path, 2)
    assert live.is_dir() and not dead_staging.exists()
    assert epoch_of(tmp_path) == 2
