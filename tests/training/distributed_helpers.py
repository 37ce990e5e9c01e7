"""Launching torchrun from tests without leaving processes behind, and the one-process reference run.

The reference is plain PyTorch on ONE process: every step takes the union of what each rank's
torch.utils.data.DistributedSampler hands it for that step (the global batch) and averages the loss over it.
DDP computes the same update: each rank averages over its own equal-sized part and DDP averages the ranks'
gradients, so only the order of float additions differs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils.data import DistributedSampler

from nnstudio.compile import build_module
from nnstudio.io.project_file import load, save
from nnstudio.training.job import TrainingJob

ROOT = Path(__file__).resolve().parents[2]
SGD = {"name": "sgd", "lr": 0.05, "momentum": 0.9}
TORCHRUN_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK", "MASTER_ADDR",
                "MASTER_PORT", "TORCHELASTIC_RUN_ID")


def write_project(folder: Path, training: dict | None = None) -> Path:
    """The spirals example on 240 samples (168 for training: 11 steps of 16 per epoch), SGD, 3 epochs."""
    project = load(ROOT / "nnstudio" / "examples" / "spirals.nnstudio")
    project.dataset = {"name": "spirals", "params": {"samples": 240}, "val_fraction": 0.2, "test_fraction": 0.1}
    project.training = {"epochs": 3, "batch_size": 16, "optimizer": SGD,
                        "instrumentation": {"loss_every": 2, "grads_every": 3, "activations_every": 0},
                        **(training or {})}
    path = folder / "spirals.nnstudio"
    save(project, path)
    return path


def torchrun(args: list[str], cwd: Path, nproc: int = 2) -> subprocess.Popen:
    """Start `torchrun --standalone --nproc_per_node=N ARGS` (a free port is picked by --standalone)."""
    env = {k: v for k, v in os.environ.items() if k not in TORCHRUN_ENV}
    env.update({"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "TORCH_ELASTIC_SHUTDOWN_TIMEOUT": "5"})
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", *args]
    return subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen, timeout: float = 180) -> tuple[int, str, str]:
    """Wait for torchrun; past the timeout, SIGTERM it (it then stops and reaps its workers) and fail."""
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            out, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        raise AssertionError(f"torchrun did not finish within {timeout} s:\n{out}\n{err}") from None
    return process.returncode, out, err


@dataclass
class Reference:
    state: dict[str, torch.Tensor]
    step_losses: list[float] = field(default_factory=list)  # per global step, over the global batch
    step_accuracies: list[float] = field(default_factory=list)
    epoch_losses: list[float] = field(default_factory=list)  # mean of the epoch's step losses
    model: torch.nn.Module | None = None


def reference_run(job: TrainingJob, world: int, epochs: int, lr: float, momentum: float) -> Reference:
    """One process, SGD with momentum, cross-entropy, the global batches a `world`-rank DDP run sees."""
    model = build_module(job.project).module
    s = job.settings
    x, y = job.data.train.x, job.data.train.y
    local = s.batch_size // world
    samplers = [DistributedSampler(range(len(x)), world, rank, shuffle=True, seed=s.seed) for rank in range(world)]
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    criterion = torch.nn.CrossEntropyLoss()
    result = Reference({})
    model.train()
    for epoch in range(epochs):
        orders = []
        for sampler in samplers:
            sampler.set_epoch(epoch)
            orders.append(list(sampler))
        steps = -(-len(orders[0]) // local)
        losses = []
        for k in range(steps):
            index = torch.tensor([i for order in orders for i in order[k * local:(k + 1) * local]])
            optimizer.zero_grad()
            output = model(x[index])
            loss = criterion(output, y[index])
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
            result.step_accuracies.append(float((output.argmax(-1) == y[index]).float().mean()))
        result.step_losses += losses
        result.epoch_losses.append(sum(losses) / len(losses))
    result.state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    result.model = model
    return result
