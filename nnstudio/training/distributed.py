"""Data-parallel training on several processes or machines with torch.distributed, launched by torchrun.

Every process (rank) loads the same project and data, compiles the same graph with the same init seed and
wraps it in DistributedDataParallel (which also broadcasts rank 0's weights). Each epoch, rank r trains on the
shard `torch.utils.data.DistributedSampler(shuffle=True, seed=seed)` gives it after `set_epoch(epoch - 1)`.
`training.batch_size` is the GLOBAL batch: each rank takes batch_size / world_size samples per step, and DDP
averages the gradients, so a step computes the same update as one process on the whole global batch.

Agreement is what keeps ranks from hanging: everything that decides what the ranks do next (the epoch's
metrics, a sampled loss that may be non-finite, a stop request) is reduced over all ranks first, so every rank
takes the same branch. Rank 0 alone writes checkpoints (with plain, un-wrapped weights) and logs. A rank that
stops answering is noticed after the session's timeout and named by every survivor (training.rank_watch).

A graph with loss nodes trains the same way: DDP wraps its objective (which holds every trained part), the
epoch's loss sum is the vector [total, term …] and is reduced like the scalar one, and validation adds the
objective's sums (total, terms, every head's metrics) over all ranks.
"""

from __future__ import annotations

import contextlib
import datetime
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from nnstudio.compile.objective import ObjectivePlan
from nnstudio.metrics.history import MetricHistory
from nnstudio.metrics.scores import TaskScores
from nnstudio.training.checkpoint import Checkpoint, Writer
from nnstudio.training.dist_timeout import DEFAULT_TIMEOUT
from nnstudio.training.distributed_steps import DistributedObjectiveStepRunner, DistributedStepRunner
from nnstudio.training.engine import Trainer
from nnstudio.training.evaluation import score
from nnstudio.training.events import Control, Status
from nnstudio.training.factories import decision_threshold
from nnstudio.training.job import TrainingJob
from nnstudio.training.loop_state import RunResult
from nnstudio.training.objective import ObjectiveScores, field_args, score_objective
from nnstudio.training.rank_watch import watch

ENV_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
LAUNCH_HINT = "torchrun --nproc_per_node=N -m nnstudio train FILE --distributed"
RANKS_FILE = "distributed.pt"  # per-rank RNG states and loss sums, for an exact resume on as many ranks
STOP_CHECK_EVERY = 8  # step boundaries between two agreements on a stop request (each costs one all_reduce)


class LaunchError(Exception):
    """The process was not started by torchrun, or cannot join its process group."""


@dataclass(frozen=True)
class LaunchEnv:
    rank: int
    world_size: int
    local_rank: int


def launch_env(environ: Mapping[str, str] | None = None) -> LaunchEnv:
    """The rank layout torchrun put in the environment; LaunchError says how to launch when it is missing."""
    environ = os.environ if environ is None else environ
    missing = [name for name in ENV_VARS if not environ.get(name)]
    if missing:
        raise LaunchError(f"--distributed needs the environment torchrun sets up ({', '.join(missing)} "
                          f"missing); launch it with: {LAUNCH_HINT}")
    try:
        env = LaunchEnv(int(environ["RANK"]), int(environ["WORLD_SIZE"]), int(environ["LOCAL_RANK"]))
    except ValueError:
        raise LaunchError("RANK, WORLD_SIZE and LOCAL_RANK must be integers; launch with torchrun") from None
    if env.world_size < 1 or not 0 <= env.rank < env.world_size or env.local_rank < 0:
        raise LaunchError(f"inconsistent torchrun environment: RANK={env.rank}, WORLD_SIZE={env.world_size}, "
                          f"LOCAL_RANK={env.local_rank}")
    return env


def shard_order(count: int, world_size: int, rank: int, seed: int, epoch: int) -> torch.Tensor:
    """Exactly the indices DistributedSampler(range(count), world_size, rank, shuffle=True, seed=seed,
    drop_last=False) yields after set_epoch(epoch): one shuffle shared by all ranks, padded by repeating its
    start so every rank gets ceil(count / world_size) samples, then dealt out round-robin."""
    generator = torch.Generator()
    generator.manual_seed(seed + epoch)
    indices = torch.randperm(count, generator=generator)
    total = math.ceil(count / world_size) * world_size
    padding = total - count
    if padding:
        indices = torch.cat([indices, indices.repeat(math.ceil(padding / count))[:padding]])
    return indices[rank:total:world_size]


def batch_problem(batch_size: int, world_size: int) -> str | None:
    """Why a global batch cannot be split evenly over the ranks, or None."""
    if batch_size % world_size == 0:
        return None
    fit = max(world_size, batch_size // world_size * world_size)
    return (f"training.batch_size: {batch_size} does not split evenly over {world_size} processes; with "
            f"--distributed it is the global batch (each process takes batch_size / {world_size}), so use a "
            f"multiple of {world_size}, e.g. {fit}")


def pick_device(choice: str, env: LaunchEnv) -> torch.device:
    """cuda:LOCAL_RANK when CUDA is used, else the CPU; Apple's mps has no distributed backend."""
    if choice == "mps":
        raise LaunchError("training.device: 'mps' cannot train distributed (no torch.distributed backend); "
                          "use 'cpu'")
    if choice == "cpu" or not torch.cuda.is_available():
        if choice == "cuda":
            raise LaunchError("training.device: 'cuda' is not available on this machine")
        return torch.device("cpu")
    if env.local_rank >= torch.cuda.device_count():
        raise LaunchError(f"LOCAL_RANK {env.local_rank} has no GPU of its own: this machine shows "
                          f"{torch.cuda.device_count()}; start at most that many processes per node")
    return torch.device("cuda", env.local_rank)


@dataclass
class Session:
    env: LaunchEnv
    device: torch.device
    backend: str
    control_group: Any  # a gloo group for small CPU-side agreements (None: the default group is gloo)
    timeout: float = DEFAULT_TIMEOUT  # seconds any collective may wait for the other ranks
    store: Any = None  # the rendezvous store (torchrun's agent keeps it), where ranks check in after a timeout

    @property
    def rank(self) -> int:
        return self.env.rank

    @property
    def world_size(self) -> int:
        return self.env.world_size


@contextlib.contextmanager
def session(env: LaunchEnv, device_choice: str, timeout: float = DEFAULT_TIMEOUT) -> Iterator[Session]:
    """Join the process group (nccl on CUDA, gloo on CPU) and always leave it, on success, error or Ctrl-C.

    `timeout` (seconds) bounds the rendezvous and every collective. The rendezvous is done here, as
    init_process_group would do it, to keep the store for rank_watch's check-in."""
    device = pick_device(device_choice, env)
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    limit = datetime.timedelta(seconds=timeout)
    try:
        store, _, _ = next(dist.rendezvous("env://", timeout=limit))
        store.set_timeout(limit)
        dist.init_process_group(backend, store=dist.PrefixStore("default_pg", store), rank=env.rank,
                                world_size=env.world_size, timeout=limit,
                                device_id=device if device.type == "cuda" else None)
    except (RuntimeError, ValueError, TimeoutError) as exc:
        raise LaunchError(f"could not join the {backend} process group: {str(exc).splitlines()[0]}") from None
    try:
        control = dist.new_group(backend="gloo", timeout=limit) if backend != "gloo" else None
        yield Session(env, device, backend, control, timeout, store)
    finally:
        dist.destroy_process_group()


class AgreedControl(Control):
    """Stop requests that all ranks honour at the same step boundary.

    The loop reads `pending` at every step boundary, in the same order on every rank; every
    STOP_CHECK_EVERY-th read all-reduces the local request flags (MAX), so all ranks see the same answer.
    A rank that stopped alone would leave the others waiting in their next collective. Pausing is refused:
    the other ranks would wait on the paused one.
    """

    def __init__(self, group: Any, every: int = STOP_CHECK_EVERY) -> None:
        self._group, self._every = group, every
        self._requested = self._agreed = False
        self._reads = 0
        super().__init__()

    @property
    def pending(self) -> bool:  # type: ignore[override]
        if self._agreed:
            return True
        self._reads += 1
        if self._reads % self._every:
            return False
        flag = torch.tensor([int(self._requested)], dtype=torch.int32)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX, group=self._group)
        self._agreed = bool(flag.item())
        return self._agreed

    @pending.setter
    def pending(self, value: bool) -> None:  # Control's request methods set this on the requesting rank
        self._requested = bool(value)

    @property
    def stop_requested(self) -> bool:
        return self._agreed

    @property
    def pause_requested(self) -> bool:
        return False

    def pause(self) -> None:
        raise RuntimeError("a distributed run cannot pause; stop it and resume from its checkpoint")


class DistributedTrainer(Trainer):
    """A Trainer for one rank of a torchrun launch; see the module docstring."""

    runner_class = DistributedStepRunner
    objective_runner_class = DistributedObjectiveStepRunner

    def run(self) -> RunResult:
        """Train; after a run that ended well on every rank, wait for all of them before leaving.

        Without the barrier a rank that tore gloo down while rank 0 still wrote its checkpoint was sometimes
        aborted at exit ("terminate called without an active exception"). A failed or stopped run skips it:
        a rank that stopped answering would make it wait the whole timeout.
        """
        result = super().run()
        if result.status == Status.FINISHED:
            dist.barrier()
        return result

    def __init__(self, job: TrainingJob, session: Session, out_dir: str | Path | None = None,
                 writer: Writer | None = None, history: MetricHistory | None = None) -> None:
        self.session = session
        self.rank, self.world_size = session.rank, session.world_size
        self.saves = out_dir is not None  # the same on every rank: checkpoints gather from all of them
        self._rank_states: list[dict[str, Any]] | None = None
        super().__init__(job, out_dir if self.rank == 0 else None, self._rank_writer(writer), history)
        self.device = session.device
        self.control = AgreedControl(session.control_group)

    def setup(self) -> None:
        if self._ready:
            return
        with watch(self.session):  # DDP's constructor and the probe below are collectives
            self._setup_ranks()

    def _epochs(self) -> Status:
        with watch(self.session):
            return super()._epochs()

    def _finish(self, outcome: Status) -> RunResult:
        with watch(self.session):  # the test split is scored by all ranks; a stop writes a checkpoint
            return super()._finish(outcome)

    def _setup_ranks(self) -> None:
        super().setup()
        self.batch_size = self.settings.batch_size // self.world_size
        torch.manual_seed(self.settings.seed + self.rank)  # the weights exist already; dropout differs per rank
        ids = [self.device.index] if self.device.type == "cuda" else None
        # With loss nodes DDP wraps the objective, which holds every trained part; whether it must look for
        # parameters without gradients is probed once (see unused_parameters)
        find = self.objective is not None and self._agree(unused_parameters(
            self.module, self.objective, self.x[:self.batch_size], self.y[:self.batch_size]))
        self.forward_module = DistributedDataParallel(self.module, device_ids=ids, find_unused_parameters=find)

    def _agree(self, flag: bool) -> bool:
        """True on every rank when it is True on any."""
        value = torch.tensor([int(flag)], dtype=torch.int32)
        dist.all_reduce(value, op=dist.ReduceOp.MAX, group=self.session.control_group)
        return bool(value.item())

    def _epoch_order(self, epoch: int) -> torch.Tensor:
        return shard_order(len(self.job.data.train), self.world_size, self.rank, self.settings.seed, epoch - 1)

    def _train_loss(self) -> float:
        """The mean of every rank's batch losses; ranks' batches are equal in size, so it is sample-weighted.
        With loss nodes the loss sum is [total, term …]; the total is what counts here."""
        st = self.state
        total = st.loss_sum if st.loss_sum.dim() == 0 else st.loss_sum[0]
        totals = torch.stack([total.detach().double(),
                              torch.tensor(float(st.batch), dtype=torch.float64, device=st.loss_sum.device)])
        dist.all_reduce(totals)
        loss_sum, batches = totals.tolist()
        return loss_sum / max(1.0, batches)

    def _train_sums(self) -> torch.Tensor:
        """The [total, term …] sums averaged over the ranks: every rank did as many batches, so dividing by
        this rank's batch count (as epoch_term_metrics does) gives each term's mean over all ranks' batches."""
        sums = self.state.loss_sum.detach().double().clone()
        dist.all_reduce(sums)
        return sums / self.world_size

    def evaluate(self, x: torch.Tensor, y: torch.Tensor, confusion: bool = False) -> dict[str, float]:
        """Each rank scores every world_size-th sample; the sums are added up over all ranks.

        Buffers (batch-norm statistics) are first copied from rank 0, so every rank scores exactly the
        model that rank 0 saves. A graph with loss nodes is scored by its objective (total, terms, heads)."""
        for buffer in self.module.buffers():
            dist.broadcast(buffer, src=0)
        r, w = self.rank, self.world_size
        scores: TaskScores | ObjectiveScores
        if self.objective:
            scores = score_objective(self.job.compiled.objective, ObjectiveScores(self.job.compiled, confusion),
                                     x[r::w], y[r::w], precision=self.settings.precision)
        else:
            scores = TaskScores(self.job.task, self.job.data.num_classes,
                                decision_threshold(self.settings.loss, self.job.task), confusion)
            score(self.module, self.criterion, x[r::w], y[r::w], scores, precision=self.settings.precision)
        for tensor in scores.accumulators(self.device):
            dist.all_reduce(tensor)
        return scores.compute()

    # --- checkpoints -----------------------------------------------------------------------
    def _checkpoint(self, kind: str, metrics: dict[str, float]) -> None:
        """All ranks hand rank 0 their RNG states and loss sums; rank 0 writes the folder."""
        if not self.saves:
            return
        mine: dict[str, Any] = {"torch_rng": torch.get_rng_state(), "loss_sum": self.state.loss_sum_value()}
        if self.device.type == "cuda":
            mine["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        gathered: list[Any] = [None] * self.world_size
        dist.all_gather_object(gathered, mine, group=self.session.control_group)
        if self.rank != 0:
            return
        self._rank_states = gathered
        st = self.state
        own = st.loss_sum
        # the mean over ranks, so a one-process resume of a half-done epoch continues the epoch's mean loss (and,
        # with loss nodes, each term's: the sum is then the vector [total, term …])
        sums = torch.tensor([g["loss_sum"] for g in gathered], dtype=torch.float64)
        st.loss_sum = (sums.sum(0) / self.world_size).to(own.dtype).to(own.device)
        try:
            super()._checkpoint(kind, metrics)
        finally:
            st.loss_sum = own

    def _rank_writer(self, writer: Writer | None) -> Writer:
        def write(folder: Path) -> None:
            torch.save({"world_size": self.world_size, "ranks": self._rank_states}, folder / RANKS_FILE)
            if writer is not None:
                writer(folder)

        return write

    def restore(self, checkpoint: Checkpoint) -> None:
        """As Trainer.restore; with as many ranks as the run that saved it, each rank gets its own RNG state
        and loss sum back (an exact resume). Otherwise ranks other than 0 get fresh, distinct dropout seeds."""
        super().restore(checkpoint)
        saved = _read_rank_states(checkpoint.path)
        if saved is not None and saved.get("world_size") == len(saved["ranks"]) == self.world_size:
            mine = saved["ranks"][self.rank]
            torch.set_rng_state(mine["torch_rng"])
            if "cuda_rng" in mine and self.device.type == "cuda":
                torch.cuda.set_rng_state(mine["cuda_rng"], self.device)
            saved_sum = torch.tensor(mine["loss_sum"], dtype=self.state.loss_sum.dtype)
            self.state.loss_sum.copy_(saved_sum.reshape(self.state.loss_sum.shape))
        elif self.rank > 0:
            torch.manual_seed(self.settings.seed + self.rank + self.world_size * (self.state.step + 1))


def unused_parameters(network: torch.nn.Module, plan: ObjectivePlan, x: torch.Tensor, y: torch.Tensor) -> bool:
    """Whether some trainable parameter gets no gradient from the objective's total.

    A teacher reached only through a loss that detaches it, or a head that no loss scores, has such parameters.
    DDP must then search for them after every forward (`find_unused_parameters`), or it waits forever for their
    gradients; anywhere else that search only costs time and prints a warning. So one probe step on a batch
    decides, with the RNG and every buffer (batch-norm statistics) put back: the run itself is unchanged.
    """
    params = [p for p in network.parameters() if p.requires_grad]
    if not params:
        return False
    saved = [buffer.detach().clone() for buffer in network.buffers()]
    devices = [x.device] if x.device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=devices):
            total = network(*field_args(plan, x, y))[0]
            if not total.requires_grad:
                return True
            grads = torch.autograd.grad(total, params, allow_unused=True)
    finally:
        with torch.no_grad():
            for buffer, value in zip(network.buffers(), saved):
                buffer.copy_(value)
    return any(grad is None for grad in grads)


def _read_rank_states(folder: Path) -> dict[str, Any] | None:
    path = Path(folder) / RANKS_FILE
    if not path.exists():
        return None
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # an unreadable extra only costs exactness, never the resume
        return None
    ranks = saved.get("ranks") if isinstance(saved, dict) else None
    return saved if isinstance(ranks, list) and all(isinstance(r, dict) for r in ranks) else None
