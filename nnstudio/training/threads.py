"""How many threads torch may use, decided on purpose so the GUI thread stays responsive.

On a small machine torch's intra-op pool takes every core, and busy-waiting OpenMP workers keep them
taken between operations; the GUI thread then stutters while a model trains. So:
  * `configure_environment()` sets OMP_WAIT_POLICY=PASSIVE (idle workers sleep). OpenMP reads it once, when
    torch is first imported, so the app calls this before importing torch.
  * `configure_torch()` leaves one core to the GUI: 1 intra-op thread on 1-2 cores, cores - 1 above that
    (capped at 8: the small models nnstudio trains gain little beyond that), and one inter-op thread.
  * `preload_lazy_modules()` imports torch._dynamo up front. torch.optim imports it lazily (about 2 s while
    holding the GIL) the first time an optimizer is built, which would freeze the GUI mid-start of a run.
This module imports torch only inside functions, so importing it costs nothing.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

MAX_THREADS = 8


@dataclass(frozen=True)
class ThreadPlan:
    cores: int
    intra_op: int
    inter_op: int


def available_cores() -> int:
    """Cores this process may run on (respects CPU affinity and container limits where visible)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def configure_environment() -> None:
    """Call before torch is imported. Existing settings win, so a user can still override them."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def plan_threads(cores: int | None = None, leave_for_gui: bool = True) -> ThreadPlan:
    cores = cores or available_cores()
    if not leave_for_gui:
        return ThreadPlan(cores, max(1, min(cores, MAX_THREADS)), 1)
    intra = 1 if cores <= 2 else min(cores - 1, MAX_THREADS)
    return ThreadPlan(cores, intra, 1)


def configure_torch(threads: int | None = None, leave_for_gui: bool = True) -> ThreadPlan:
    """Apply a thread plan to torch (an explicit `threads` wins) and preload lazy modules."""
    import torch

    plan = plan_threads(leave_for_gui=leave_for_gui)
    if threads is not None:
        plan = ThreadPlan(plan.cores, max(1, threads), plan.inter_op)
    torch.set_num_threads(plan.intra_op)
    # only settable before the first inter-op parallel work; whatever was set then stays
    with contextlib.suppress(RuntimeError):
        torch.set_num_interop_threads(plan.inter_op)
    preload_lazy_modules()
    return plan


def preload_lazy_modules() -> None:
    """Import what torch would otherwise import on first use, at a moment the caller chooses."""
    import torch._dynamo
    import torch.optim  # noqa: F401
