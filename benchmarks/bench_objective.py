"""The multi-loss path: a graph that declares its own objective against the same objective written by hand.

The graph: digits → a conv trunk → two heads, the digit (cross-entropy) and whether it is even (cross-entropy on
a ClassMap of the label, weight 0.5). The peer computes exactly that objective from the compiled inference
model's two outputs:

    digit, even = model(x); loss = ce(digit, y) + 0.5 * ce(even, parity[y]); loss.backward(); opt.step()

over a seeded DataLoader (the engine draws the same batches), and a second peer slices pre-shuffled tensors.
Reports ms/step for each, the engine's overhead per step (instrumentation off) against max(1 %, 0.5 ms), the
throughput ratio with default instrumentation (which also fetches every term on sampled steps), and whether the
final weights are bitwise equal to the DataLoader loop's. Prints figures; asserts nothing.

Run: python benchmarks/bench_objective.py [--reps N] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from benchmarks.bench_training import Clock, same_weights
from nnstudio.compile import build_module
from nnstudio.model.builder import GraphBuilder
from nnstudio.training import Status, Trainer, prepare
from nnstudio.training.data import load_dataset

EPOCHS, BATCH, LR = 4, 64, 1e-3
PARITY = [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]
DATASET = {"name": "digits", "val_fraction": 0.0, "test_fraction": 0.0}


def two_head_project(instrumentation: dict):
    b = GraphBuilder(name="two heads")
    trunk = b.sequential(("Input", {"shape": [1, 8, 8]}), ("Conv2d", {"out_channels": 16, "padding": 1}), "ReLU",
                         ("MaxPool2d", {"kernel_size": 2}), "Flatten", ("Linear", {"out_features": 64}), "ReLU")
    digit, even = b.add("Linear", "digit_logits", out_features=10), b.add("Linear", "even_logits", out_features=2)
    b.chain(trunk[-1], digit, b.add("Output", "digit"))
    b.chain(trunk[-1], even, b.add("Output", "even"))
    y, parity = b.add("Target", "y"), b.add("ClassMap", "parity", table=PARITY)
    b.link(y, parity)
    for logits, target, name, weight in ((digit, y, "digit_loss", 1.0), (even, parity, "even_loss", 0.5)):
        loss = b.add("CrossEntropyLoss", name, weight=weight)
        b.link(logits, loss, "input")
        b.link(target, loss, "target")
    b.project.dataset = DATASET
    b.project.training = {"epochs": EPOCHS, "batch_size": BATCH, "seed": 0, "device": "cpu",
                          "optimizer": {"name": "adam", "lr": LR}, "instrumentation": instrumentation}
    return b.project


def objective(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    digit, even = model(x)
    return F.cross_entropy(digit, y) + F.cross_entropy(even, table[y]) * 0.5


def run_engine(project, data) -> tuple[Clock, torch.nn.Module, int]:
    trainer = Trainer(prepare(project, data=data))
    with Clock() as clock:
        result = trainer.run()
    assert result.status is Status.FINISHED, result.message
    return clock, trainer.module, result.step


def run_loop(project, data, slicing: bool) -> tuple[Clock, torch.nn.Module]:
    model = build_module(project).module
    table = torch.tensor(PARITY)
    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    model.train()
    with Clock() as clock:
        for x, y in batches(data, slicing):
            opt.zero_grad()
            objective(model, x, y, table).backward()
            opt.step()
    return clock, model


def batches(data, slicing: bool):
    if not slicing:
        loader = DataLoader(TensorDataset(data.train.x, data.train.y), batch_size=BATCH, shuffle=True,
                            generator=torch.Generator().manual_seed(0))
        for _ in range(EPOCHS):
            yield from loader
        return
    g = torch.Generator().manual_seed(0)
    for _ in range(EPOCHS):
        perm = torch.randperm(len(data.train), generator=g)
        for i in range(0, len(data.train), BATCH):
            index = perm[i:i + BATCH]
            yield data.train.x[index], data.train.y[index]


def bench(reps: int) -> None:
    off, default = two_head_project({"enabled": False}), two_head_project({})
    data = load_dataset(DATASET, 0)
    clocks: dict[str, list[Clock]] = {"off": [], "default": [], "loader": [], "slicing": []}
    bitwise, steps = True, 0
    run_engine(off, data)
    run_loop(off, data, slicing=False)
    for _ in range(reps):
        c_off, engine_model, steps = run_engine(off, data)
        c_loader, loader_model = run_loop(off, data, slicing=False)
        c_default, _, _ = run_engine(default, data)
        c_slicing, _ = run_loop(off, data, slicing=True)
        bitwise &= same_weights(engine_model, loader_model)
        for key, value in zip(("off", "loader", "default", "slicing"), (c_off, c_loader, c_default, c_slicing)):
            clocks[key].append(value)
    print(f"-- two-head digits objective (2 cross-entropy terms): {len(data.train)} samples, batch {BATCH}, "
          f"{EPOCHS} epochs = {steps} steps, {reps} alternating reps, {torch.get_num_threads()} thread(s)")
    for key, label in (("loader", "hand objective, DataLoader"), ("slicing", "hand objective, slicing"),
                       ("off", "engine, instrumentation off"), ("default", "engine, default instrumentation")):
        wall = statistics.median(c.wall for c in clocks[key]) / steps * 1000
        cpu = statistics.median(c.cpu for c in clocks[key]) / steps * 1000
        print(f"   {label:<33} wall {wall:7.3f} ms/step   cpu {cpu:7.3f} ms/step")
    for peer, name in (("loader", "DataLoader loop"), ("slicing", "slicing loop")):
        step = statistics.median(c.cpu for c in clocks[peer]) / steps * 1000
        overhead = statistics.median(e.cpu - p.cpu for e, p in zip(clocks["off"], clocks[peer])) / steps * 1000
        ratio = statistics.median(p.cpu / d.cpu for p, d in zip(clocks[peer], clocks["default"]))
        allowed = max(0.01 * step, 0.5)
        print(f"   [cpu] vs {name:<16} off: overhead {overhead:+7.3f} ms/step (allowed {allowed:.3f}) "
              f"{'ok' if overhead <= allowed else 'OVER TARGET'};  default: throughput ratio {ratio:.3f}")
    print(f"   final weights, instrumentation off vs DataLoader loop: {'bitwise equal' if bitwise else 'DIFFERENT'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    bench(args.reps)


if __name__ == "__main__":
    main()
