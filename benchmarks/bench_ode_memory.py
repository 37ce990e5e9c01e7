"""Training memory of a neural-ODE block against a stack of residual layers of the same depth.

A residual stack h ← h + f_l(h) stores every layer's activations for backpropagation, so its memory grows with
depth. A neural ODE backpropagated through its solver stores every evaluation of f the same way: rk4 with S steps
is 4·S evaluations, as much as a 4·S-layer stack with 1/(4·S) of the weights. With the adjoint option the forward
solve stores nothing; the backward pass solves the adjoint ODE and holds one evaluation's graph at a time, so
memory stays flat in the number of steps, for about twice the compute.

What is measured: the peak bytes of tensors saved for backward that are alive at once, over one forward and
backward pass (torch.autograd.graph.saved_tensors_hooks, each storage counted once, parameters excluded). That is
the activation memory a device must hold, on any device; this script runs on the CPU. Also ms per
forward + backward (median of --reps) and, for dopri5, the number of f evaluations its adaptive steps took.
Prints figures; asserts nothing.

Run: python benchmarks/bench_ode_memory.py [--batch N] [--features N] [--hidden N] [--reps N] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import weakref
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
from torch import nn

from nnstudio.layers.block_modules import NeuralODE


class _Box:
    """What the pack hook stores in place of a tensor; when the graph drops it, its bytes are freed."""

    __slots__ = ("__weakref__", "tensor")

    def __init__(self, tensor: torch.Tensor) -> None:
        # detached: a saved output keeps its grad_fn, and node → box → tensor → node would be a cycle that no
        # collector frees (autograd's own unpacking re-attaches what it needs, as with tensors saved to disk)
        self.tensor = tensor.detach()


class SavedMemory:
    """Peak bytes of live saved-for-backward storages while active (a context manager)."""

    def __init__(self, exclude: set[int]) -> None:
        self.exclude = exclude  # storage pointers of parameters: weights, not activations
        self.live = 0
        self.peak = 0
        self._refs: dict[int, int] = {}
        self._hooks = torch.autograd.graph.saved_tensors_hooks(self._pack, self._unpack)

    def _pack(self, tensor: torch.Tensor) -> _Box:
        box = _Box(tensor)
        storage = tensor.untyped_storage()
        key, size = storage.data_ptr(), storage.nbytes()
        if key not in self.exclude:
            if self._refs.get(key, 0) == 0:
                self.live += size
                self.peak = max(self.peak, self.live)
            self._refs[key] = self._refs.get(key, 0) + 1
            weakref.finalize(box, self._release, key, size)
        return box

    @staticmethod
    def _unpack(box: _Box) -> torch.Tensor:
        return box.tensor

    def _release(self, key: int, size: int) -> None:
        self._refs[key] -= 1
        if self._refs[key] == 0:
            del self._refs[key]
            self.live -= size

    def __enter__(self) -> SavedMemory:
        self._hooks.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._hooks.__exit__(*exc)


def mlp(features: int, hidden: int) -> nn.Sequential:
    """The f of both contenders: features → hidden → hidden → features, tanh between."""
    return nn.Sequential(nn.Linear(features, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                         nn.Linear(hidden, features))


class ResidualStack(nn.Module):
    def __init__(self, depth: int, features: int, hidden: int) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(mlp(features, hidden) for _ in range(depth))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            h = h + block(h) / len(self.blocks)  # one Euler step of length 1/depth: the ODE's discrete cousin
        return h


def measure(model: nn.Module, x: torch.Tensor, reps: int) -> tuple[int, float]:
    """(peak saved bytes of one forward + backward, median ms of forward + backward)."""
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    with SavedMemory(params) as memory:
        model(x).square().mean().backward()
    times = []
    for _ in range(reps):
        model.zero_grad(set_to_none=True)
        start = time.perf_counter()
        model(x).square().mean().backward()
        times.append((time.perf_counter() - start) * 1000)
    return memory.peak, statistics.median(times)


def contenders(features: int, hidden: int) -> list[tuple[str, Callable[[], nn.Module]]]:
    ode = {"features": features, "hidden": hidden, "layers": 2, "time_input": False}
    rows: list[tuple[str, Callable[[], nn.Module]]] = []
    for steps in (1, 4, 16):
        evaluations = 4 * steps
        plural = "s" if steps > 1 else ""
        rows.append((f"residual stack, {evaluations} layers", lambda d=evaluations: ResidualStack(d, features, hidden)))
        rows.append((f"ODE rk4, {steps} step{plural}, backprop",
                     lambda s=steps: NeuralODE(**ode, solver="rk4", steps=s)))
        rows.append((f"ODE rk4, {steps} step{plural}, adjoint",
                     lambda s=steps: NeuralODE(**ode, solver="rk4", steps=s, adjoint=True)))
    rows.append(("ODE dopri5 1e-5, backprop", lambda: NeuralODE(**ode, rtol=1e-5, atol=1e-6)))
    rows.append(("ODE dopri5 1e-5, adjoint", lambda: NeuralODE(**ode, rtol=1e-5, atol=1e-6, adjoint=True)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--features", type=int, default=16)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.randn(args.batch, args.features)
    print(f"batch {args.batch}, state {args.features}, f = MLP({args.features}→{args.hidden}→{args.hidden}→"
          f"{args.features}, tanh), torch {torch.__version__}, {args.threads} thread(s)")
    print(f"{'contender':34} {'params':>8} {'f evals':>8} {'saved KiB':>10} {'ms fwd+bwd':>11}")
    print("(f evals: forward and backward together; saved KiB: peak activations held for backward)")
    for name, make in contenders(args.features, args.hidden):
        torch.manual_seed(0)
        model = make()
        peak, ms = measure(model, x, args.reps)
        evaluations = model.func.evaluations if isinstance(model, NeuralODE) else len(model.blocks)
        params = sum(p.numel() for p in model.parameters())
        print(f"{name:34} {params:>8} {evaluations:>8} {peak / 1024:>10.1f} {ms:>11.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
