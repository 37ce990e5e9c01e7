"""Leftovers of dead writers: who is alive, and removing only our names whose writer is gone."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from nnstudio.util.leftovers import find_leftovers, is_stale, pid_alive, remove_stale

PATTERN = re.compile(r"\.(?P<target>[a-z]+)\.tmp-(?P<pid>[0-9]+)")


def dead_pid() -> int:
    """The id of a process that has exited and been reaped."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_pid_alive_knows_this_process_a_reaped_one_and_impossible_ids():
    assert pid_alive(os.getpid())
    assert pid_alive(os.getppid())
    assert not pid_alive(dead_pid())
    for impossible in (0, -1, 10**30):  # 0 and -1 would address process groups if passed to kill()
        assert not pid_alive(impossible)


def test_only_stale_names_of_the_pattern_are_removed(tmp_path):
    dead, me = dead_pid(), os.getpid()
    (tmp_path / f".last.tmp-{dead}").mkdir()
    (tmp_path / f".last.tmp-{dead}" / "model.safetensors").write_text("x")
    (tmp_path / f".best.tmp-{dead}").write_text("a file leftover")
    (tmp_path / f".last.tmp-{os.getppid()}").mkdir()  # a live writer's: never touched
    (tmp_path / f".last.tmp-{me}").mkdir()
    (tmp_path / f"last.tmp-{dead}").mkdir()  # not our name (no leading dot): a user's folder
    (tmp_path / f".last.tmp-{dead}.keep").mkdir()  # only whole-name matches count
    removed = remove_stale(tmp_path, PATTERN)
    assert sorted(p.name for p in removed) == [f".best.tmp-{dead}", f".last.tmp-{dead}"]
    # without `busy`, this process's own names count as in progress; with it, only those listed do
    assert (tmp_path / f".last.tmp-{me}").exists()
    busy = {tmp_path / f".last.tmp-{me}"}
    assert remove_stale(tmp_path, PATTERN, busy) == []
    assert remove_stale(tmp_path, PATTERN, set()) == [tmp_path / f".last.tmp-{me}"]
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([f".last.tmp-{dead}.keep", f".last.tmp-{os.getppid()}", f"last.tmp-{dead}"])


def test_a_link_named_like_a_leftover_is_unlinked_not_followed(tmp_path):
    target = tmp_path / "precious"
    target.mkdir()
    (target / "data").write_text("keep me")
    (tmp_path / f".run.tmp-{dead_pid()}").symlink_to(target, target_is_directory=True)
    assert len(remove_stale(tmp_path, PATTERN)) == 1
    assert (target / "data").read_text() == "keep me"


def test_find_leftovers_names_the_owner_and_groups(tmp_path):
    (tmp_path / ".last.tmp-42").mkdir()
    [found] = find_leftovers(tmp_path, PATTERN)
    assert found.pid == 42 and found.match["target"] == "last"
    assert find_leftovers(tmp_path / "missing", PATTERN) == []
    assert is_stale(found) is (not pid_alive(42))
