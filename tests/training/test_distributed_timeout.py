"""A rank that stops answering: after --dist-timeout every surviving rank fails with one line naming it, instead
of waiting forever. Two real gloo ranks, forked from this process (which has torch and nnstudio loaded already,
so they start at once); rank 1 freezes after its second step."""

from __future__ import annotations

import os
import socket
import time

import pytest
import torch._dynamo  # noqa: F401 - DDP imports it on first use; loaded here, the forked ranks share it

from nnstudio.training import Event, Status
from nnstudio.training.dist_timeout import DEFAULT_TIMEOUT, TIMEOUT_ENV, dist_timeout
from nnstudio.training.distributed import DistributedTrainer, launch_env, session
from nnstudio.training.rank_watch import is_collective_failure, silent_ranks, stalled_message
from tests.training.helpers import blobs, make_job

TIMEOUT = 2.0
FROZEN = 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rank_main(rank: int, port: int, job, report: int) -> None:
    """One rank in a forked child: train, and write the run's status and message to the pipe `report`."""
    os.environ.update(
        {
            "RANK": str(rank),
            "WORLD_SIZE": "2",
            "LOCAL_RANK": str(rank),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
            "OMP_NUM_THREADS": "1",
        }
    )
    with session(launch_env(), "cpu", TIMEOUT) as joined:
        trainer = DistributedTrainer(job, joined)
        if rank == FROZEN:
            trainer.on(Event.STEP, lambda info: time.sleep(120) if info.step == 2 else None)
        result = trainer.run()
    os.write(report, f"{result.status.value}\n{result.message}".encode())


def test_a_frozen_rank_is_named_by_the_survivor_within_the_timeout():
    job = make_job(
        {"epochs": 50, "batch_size": 16, "instrumentation": {"enabled": True, "loss_every": 1}}, data=blobs(n=88)
    )
    port, children = free_port(), {}
    reads = {}
    started = time.monotonic()
    try:
        for rank in (0, 1):
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:
                try:
                    os.close(read)
                    rank_main(rank, port, job, write)
                finally:
                    os._exit(0)
            os.close(write)
            children[rank], reads[rank] = pid, read
        os.waitpid(children[0], 0)  # the survivor ends by itself; the frozen rank is still asleep
        elapsed = time.monotonic() - started
        with os.fdopen(reads.pop(0)) as stream:
            status, message = stream.read().split("\n", 1)
    finally:
        for rank, pid in children.items():
            if rank == FROZEN:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
        for read in reads.values():
            os.close(read)
    assert status == Status.FAILED.value
    assert (
        message
        == stalled_message([FROZEN], TIMEOUT)
        == ("rank 1 stopped answering: no reply within 2 s (--dist-timeout), so every other rank stops too")
    )
    assert elapsed < TIMEOUT * 1.5 + 10, elapsed  # the timeout and the check-in grace, plus the start


class Store:
    """A rendezvous store's check-in keys, as TCPStore answers them."""

    def __init__(self, present: set[str], reachable: bool = True) -> None:
        self.present, self.reachable = present, reachable

    def set(self, key: str, value: str) -> None:
        if not self.reachable:
            raise RuntimeError("Broken pipe")
        self.present.add(key)

    def wait(self, keys, timeout) -> None:
        if not set(keys) <= self.present:
            raise RuntimeError("wait timeout after 10ms")

    def check(self, keys) -> bool:
        return set(keys) <= self.present


def test_silent_ranks_are_those_that_never_check_in():
    assert silent_ranks(Store({"nnstudio/answered/1"}), 0, 3, 0.01) == [2]
    assert silent_ranks(Store({"nnstudio/answered/1"}), 0, 2, 0.01) == []
    assert silent_ranks(Store(set(), reachable=False), 0, 2, 0.01) is None
    assert stalled_message([1, 3], 300.0).startswith("ranks 1, 3 stopped answering: no reply within 300 s")


def test_only_gloo_s_timeouts_and_closed_connections_count_as_a_silent_rank():
    assert is_collective_failure(
        RuntimeError(
            "[gloo/transport/tcp/unbound_buffer.cc:78] Timed out waiting 3000ms for recv operation to complete"
        )
    )
    assert is_collective_failure(RuntimeError("[gloo/transport/tcp/pair.cc:553] Connection closed by peer"))
    assert not is_collective_failure(RuntimeError("mat1 and mat2 shapes cannot be multiplied"))
    assert not is_collective_failure(ValueError("timed out"))


@pytest.mark.parametrize(
    ("flag", "env", "expected"),
    [(None, None, DEFAULT_TIMEOUT), ("3", None, 3.0), (None, "45.5", 45.5), ("2", "45", 2.0), (None, " ", 300.0)],
)
def test_the_timeout_comes_from_the_flag_then_the_environment(flag, env, expected):
    environ = {} if env is None else {TIMEOUT_ENV: env}
    assert dist_timeout(flag, environ) == expected


@pytest.mark.parametrize(
    ("flag", "env", "expected"),
    [
        ("0", None, "--dist-timeout: expected a number of seconds > 0, got '0'"),
        ("-3", None, "--dist-timeout: expected a number of seconds > 0, got '-3'"),
        ("nan", None, "--dist-timeout: expected a number of seconds > 0, got 'nan'"),
        (None, "soon", f"{TIMEOUT_ENV}: expected a number of seconds > 0, got 'soon'"),
    ],
)
def test_a_bad_timeout_is_named(flag, env, expected):
    with pytest.raises(ValueError) as caught:
        dist_timeout(flag, {} if env is None else {TIMEOUT_ENV: env})
    assert str(caught.value) == expected
