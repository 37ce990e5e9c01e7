"""Launching torchrun from tests without leaving processes behind, the one-process reference run, and a small
graph with several loss terms for the distributed and exported-train.py tests.

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
from nnstudio.model.builder import GraphBuilder
from nnstudio.model.project import Project
from nnstudio.training.job import TrainingJob
from nnstudio.training.objective import field_args

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


def objective_project(training: dict | None = None) -> Project:
    """Spirals (as write_project) trained on three loss terms: cross-entropy + 0.5 · distillation from a teacher
    branch + 0.01 · an L1 penalty on the hidden activity. The teacher is trainable but reached only through the
    distillation term, which detaches it, so it gets no gradient at all: DDP has unused parameters to find.
    Nothing is random (no dropout, no sampling), so two ranks can match one process."""
    b = GraphBuilder(name="spirals distilled")
    points = b.add("Input", "points", shape=[2])
    fc1 = b.add("Linear", "fc1", out_features=16)
    act = b.add("ReLU", "act")
    logits = b.add("Linear", "logits", out_features=2)
    out = b.add("Output", "label_out")
    teacher = b.add("Linear", "teacher", out_features=2)
    label = b.add("Target", "label", field="y", shape=[], dtype="int64")
    ce = b.add("CrossEntropyLoss", "ce")
    distill = b.add("DistillationLoss", "distill", weight=0.5, temperature=2.0)
    sparse = b.add("ActivityL1Loss", "sparse", weight=0.01)
    b.chain(points, fc1, act, logits, out)
    b.link(points, teacher)
    b.link(logits, ce, "input")
    b.link(label, ce, "target")
    b.link(logits, distill, "student")
    b.link(teacher, distill, "teacher")
    b.link(act, sparse)
    b.project.dataset = {"name": "spirals", "params": {"samples": 240}, "val_fraction": 0.2, "test_fraction": 0.1}
    b.project.training = {"epochs": 3, "batch_size": 16, "optimizer": SGD,
                          "instrumentation": {"loss_every": 2, "grads_every": 0, "activations_every": 0},
                          **(training or {})}
    return b.project


@dataclass
class Reference:
    state: dict[str, torch.Tensor]  # the model's; with loss nodes, the whole network's (teacher included)
    step_losses: list[float] = field(default_factory=list)  # per global step, over the global batch
    step_accuracies: list[float] = field(default_factory=list)
    epoch_losses: list[float] = field(default_factory=list)  # mean of the epoch's step losses
    model: torch.nn.Module | None = None
    step_terms: list[list[float]] = field(default_factory=list)  # with loss nodes: each step's terms
    epoch_terms: list[list[float]] = field(default_factory=list)  # and their means per epoch
    network: torch.nn.Module | None = None  # with loss nodes: the objective, which holds every part


def reference_run(job: TrainingJob, world: int, epochs: int, lr: float, momentum: float) -> Reference:
    """One process, SGD with momentum, the global batches a `world`-rank DDP run sees. The loss is cross-entropy,
    or, for a graph with loss nodes, the compiled objective's total (the app's own objective graph)."""
    compiled = build_module(job.project)
    model, network, plan = compiled.module, compiled.network, compiled.plan
    s = job.settings
    x, y = job.data.train.x, job.data.train.y
    local = s.batch_size // world
    samplers = [DistributedSampler(range(len(x)), world, rank, shuffle=True, seed=s.seed) for rank in range(world)]
    optimizer = torch.optim.SGD(network.parameters(), lr=lr, momentum=momentum)
    criterion = torch.nn.CrossEntropyLoss()
    result = Reference({}, model=model, network=network if plan is not None else None)
    network.train()
    for epoch in range(epochs):
        orders = []
        for sampler in samplers:
            sampler.set_epoch(epoch)
            orders.append(list(sampler))
        steps = -(-len(orders[0]) // local)
        losses, terms = [], []
        for k in range(steps):
            index = torch.tensor([i for order in orders for i in order[k * local:(k + 1) * local]])
            optimizer.zero_grad()
            if plan is None:
                output = model(x[index])
                loss = criterion(output, y[index])
            else:
                loss, parts, predictions, _ = network(*field_args(plan, x[index], y[index]))
                output = predictions[0]
                terms.append([float(t.detach()) for t in parts])
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
            result.step_accuracies.append(float((output.argmax(-1) == y[index]).float().mean()))
        result.step_losses += losses
        result.epoch_losses.append(sum(losses) / len(losses))
        result.step_terms += terms
        if terms:
            result.epoch_terms.append([sum(column) / len(column) for column in zip(*terms)])
    result.state = {k: v.detach().clone() for k, v in network.state_dict().items()}
    return result
