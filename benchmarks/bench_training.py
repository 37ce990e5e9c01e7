"""The training engine against a hand-written PyTorch loop, on CPU, in one process, runs alternating.

Same model (the shipped example graph, same init), same data, batch size and seed. The peer is the loop
from issue 3:

    for x, y in loader: opt.zero_grad(); loss = crit(model(x), y); loss.backward(); opt.step()

with `loader = DataLoader(TensorDataset(x, y), batch_size, shuffle=True, generator=seeded)`. A second peer
slices pre-shuffled tensors instead (what a careful author would write) to show the engine's own cost.

Targets (issue 3):
  * instrumentation off: overhead per step <= max(1% of the step time, 0.5 ms), and final weights
    bitwise-equal to the DataLoader loop;
  * default instrumentation: throughput >= 0.97x the hand-written loop.
No validation split is used, so every run does the same training work. Prints figures; asserts nothing.

Run: python benchmarks/bench_training.py [--reps N] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
from torch.utils.data import DataLoader, TensorDataset

from nnstudio.compile import build_module
from nnstudio.examples import example_path
from nnstudio.io import load
from nnstudio.training import Status, Trainer, prepare
from nnstudio.training.data import load_dataset

CASES = {  # example -> (dataset section, epochs, batch size)
    "spirals": ({"name": "spirals", "params": {"samples": 2000}, "val_fraction": 0.0, "test_fraction": 0.0}, 8, 64),
    "digits_cnn": ({"name": "digits", "val_fraction": 0.0, "test_fraction": 0.0}, 4, 64),
}
LR = 1e-3


class Clock:
    """Wall time and this process's CPU time. With one torch thread all work is on this thread, so CPU time
    is what the work costs even when other processes compete for the cores (it leaves out waiting)."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def project_for(example: str, instrumentation: dict) -> tuple:
    dataset, epochs, batch = CASES[example]
    project = load(example_path(example))
    project.dataset = dataset
    project.training = {"epochs": epochs, "batch_size": batch, "seed": 0, "device": "cpu",
                        "optimizer": {"name": "adam", "lr": LR}, "loss": {"name": "cross_entropy"},
                        "instrumentation": instrumentation}
    return project, epochs, batch


def run_engine(project, data) -> tuple[Clock, torch.nn.Module, int]:
    job = prepare(project, data=data)
    trainer = Trainer(job)
    with Clock() as clock:
        result = trainer.run()
    assert result.status is Status.FINISHED, result.message
    return clock, trainer.module, result.step


def run_dataloader_loop(project, data, epochs: int, batch: int) -> tuple[Clock, torch.nn.Module]:
    model = build_module(project).module
    with Clock() as clock:
        dataloader_loop(model, data, epochs, batch)
    return clock, model


def dataloader_loop(model: torch.nn.Module, data, epochs: int, batch: int) -> None:
    torch.manual_seed(0)
    loader = DataLoader(TensorDataset(data.train.x, data.train.y), batch_size=batch, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    crit = torch.nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            opt.zero_grad()
            loss = crit(model(x), y)
            loss.backward()
            opt.step()


def run_slicing_loop(project, data, epochs: int, batch: int) -> Clock:
    model = build_module(project).module
    with Clock() as clock:
        slicing_loop(model, data, epochs, batch)
    return clock


def slicing_loop(model: torch.nn.Module, data, epochs: int, batch: int) -> None:
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x_all, y_all = data.train.x, data.train.y
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    crit = torch.nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(x_all.shape[0], generator=g)
        for i in range(0, x_all.shape[0], batch):
            index = perm[i:i + batch]
            x, y = x_all[index], y_all[index]
            opt.zero_grad()
            loss = crit(model(x), y)
            loss.backward()
            opt.step()


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def bench(example: str, reps: int) -> None:
    off, epochs, batch = project_for(example, {"enabled": False})
    default, _, _ = project_for(example, {})
    data = load_dataset(off.dataset, 0)
    clocks: dict[str, list[Clock]] = {"off": [], "default": [], "loader": [], "slicing": []}
    bitwise = True
    steps = 0
    run_engine(off, data)  # warm-up: first-call costs (allocator, kernels) land outside the figures
    run_dataloader_loop(off, data, epochs, batch)
    for _ in range(reps):
        c_off, engine_model, steps = run_engine(off, data)
        c_loader, loader_model = run_dataloader_loop(off, data, epochs, batch)
        c_default, _, _ = run_engine(default, data)
        c_slicing = run_slicing_loop(off, data, epochs, batch)
        bitwise &= same_weights(engine_model, loader_model)
        for key, value in zip(("off", "loader", "default", "slicing"), (c_off, c_loader, c_default, c_slicing)):
            clocks[key].append(value)
    print(f"-- {example}: {len(data.train)} samples, batch {batch}, {epochs} epochs = {steps} steps, "
          f"{reps} alternating reps, {torch.get_num_threads()} thread(s)")
    for key, label in (("loader", "hand loop, DataLoader"), ("slicing", "hand loop, tensor slicing"),
                       ("off", "engine, instrumentation off"), ("default", "engine, default instrumentation")):
        wall = statistics.median(c.wall for c in clocks[key]) / steps * 1000
        cpu = statistics.median(c.cpu for c in clocks[key]) / steps * 1000
        print(f"   {label:<33} wall {wall:7.3f} ms/step   cpu {cpu:7.3f} ms/step")
    for measure in ("wall", "cpu"):
        print(f"   [{measure} time; medians of per-rep pairs]")
        for peer, name in (("loader", "DataLoader loop"), ("slicing", "slicing loop")):
            step = statistics.median(getattr(c, measure) for c in clocks[peer]) / steps * 1000
            overhead = statistics.median(getattr(e, measure) - getattr(p, measure)
                                         for e, p in zip(clocks["off"], clocks[peer])) / steps * 1000
            allowed = max(0.01 * step, 0.5)
            ratio = statistics.median(getattr(p, measure) / getattr(d, measure)
                                      for p, d in zip(clocks[peer], clocks["default"]))
            print(f"   vs {name:<16} off: overhead {overhead:+7.3f} ms/step (allowed {allowed:.3f}) "
                  f"{'ok' if overhead <= allowed else 'OVER TARGET'};  default: throughput ratio {ratio:.3f} "
                  f"(target >= 0.97) {'ok' if ratio >= 0.97 else 'UNDER TARGET'}")
    print(f"   final weights, instrumentation off vs DataLoader loop: "
          f"{'bitwise equal' if bitwise else 'DIFFERENT'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (1 keeps figures stable)")
    parser.add_argument("--only", choices=tuple(CASES), help="run one case")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for example in CASES:
        if args.only in (None, example):
            bench(example, args.reps)


if __name__ == "__main__":
    main()
