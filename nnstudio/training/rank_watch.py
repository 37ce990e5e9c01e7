"""Noticing a rank of a distributed run that stopped answering, and naming it.

Every collective waits at most the session's timeout (`--dist-timeout`, passed to init_process_group; gloo
honours it for each collective; training.dist_timeout declares it). When one fails that way, the ranks still
alive cannot tell from gloo's error ("Timed out waiting 300000ms for recv operation") who is missing. So each of
them checks in on the rendezvous store, which torchrun's agent keeps (not any rank), and waits a short grace for
the others: the ranks that never check in are the ones that stopped answering, and every survivor fails with the
same one line naming them. A failed collective ends the run, so a session checks in at most once.

On CUDA the NCCL watchdog enforces the same timeout, but it ends the process itself, with NCCL's message.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator
from typing import Any

from nnstudio.training.dist_timeout import FLAG
from nnstudio.training.loop_state import Diverged

# how long the survivors wait for each other's check-in: they failed in the same collective, so they arrive
# within about a step of each other; half the timeout, at most GRACE_LIMIT seconds
GRACE_LIMIT = 10.0
ANSWER_KEY = "nnstudio/answered"
# what gloo's errors say when a peer is gone or silent (lower case): a timeout, or a connection the peer's own
# timeout (or death) closed
COLLECTIVE_FAILURES = ("timed out", "timeout", "connection closed", "connection reset", "broken pipe", "pair closure")


class RankStalled(Diverged):
    """Some rank stopped answering; caught where Diverged is, so the run fails with this one message."""

    def __init__(self, message: str) -> None:
        super().__init__(message, None)


def is_collective_failure(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and any(marker in text for marker in COLLECTIVE_FAILURES)


def silent_ranks(store: Any, rank: int, world_size: int, grace: float) -> list[int] | None:
    """Check in as `rank`, wait up to `grace` seconds for every rank to do the same, and return those that did
    not ([] when all did); None when the store itself cannot be reached."""
    keys = [f"{ANSWER_KEY}/{other}" for other in range(world_size)]
    try:
        store.set(keys[rank], "1")
        with contextlib.suppress(RuntimeError):  # DistStoreError: the wait timed out, someone is missing
            store.wait(keys, datetime.timedelta(seconds=grace))
            return []
        return [other for other, key in enumerate(keys) if not store.check([key])]
    except RuntimeError:  # DistNetworkError: the store is gone with whoever kept it
        return None


def stalled_message(ranks: list[int], timeout: float) -> str:
    who = f"rank {ranks[0]}" if len(ranks) == 1 else "ranks " + ", ".join(map(str, ranks))
    return f"{who} stopped answering: no reply within {timeout:g} s ({FLAG}), so every other rank stops too"


@contextlib.contextmanager
def watch(session: Any) -> Iterator[None]:
    """Turn a collective that failed because a rank went silent into RankStalled naming it; other errors pass.

    `session` is a distributed.Session (its store, rank, world_size and timeout)."""
    try:
        yield
    except RuntimeError as exc:
        if session.store is None or not is_collective_failure(exc):
            raise
        silent = silent_ranks(session.store, session.rank, session.world_size, min(session.timeout / 2, GRACE_LIMIT))
        if not silent:
            raise
        raise RankStalled(stalled_message(silent, session.timeout)) from None
