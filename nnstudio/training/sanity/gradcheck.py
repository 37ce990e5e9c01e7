"""Gradient check: does each layer's backward pass agree with finite differences of its forward pass?

`torch.autograd.gradcheck` in double precision, per node: each node's module alone (a copy, so the model is
untouched), fed random double inputs of the shapes the node really receives, recorded from one forward
pass of a `gradcheck_batch`-sample (2) training batch. The gradients are checked with respect to the
inputs and the node's own parameters, in gradcheck's fast mode (random projections of the Jacobian), so a
large layer costs a few forward passes, not one per element.

Skipped, and listed as such: nodes whose forward is random (two calls on the same input differ: dropout,
sampling), whose inputs are integers (Embedding indices) or whose output does not depend differentiably on
its inputs (argmax, comparisons). A failing node is usually a custom layer or block with a hand-written
backward, or an operation that is not differentiable where it is used.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn
from torch.func import functional_call

from nnstudio.metrics.layers import node_modules
from nnstudio.training.sanity.context import SanityContext
from nnstudio.training.sanity.result import FAIL, INFO, PASS, CheckOptions, CheckResult

NAME = "gradcheck"
ATOL, RTOL, EPS = 1e-5, 1e-3, 1e-6  # gradcheck's defaults, stated so the docs can quote them


def record_inputs(ctx: SanityContext, size: int) -> dict[str, tuple[list[nn.Module], tuple]]:
    """node id -> (its modules, the positional inputs its first module got) from one small batch."""
    seen: dict[str, tuple[list[nn.Module], tuple]] = {}
    handles = []
    for node_id, modules in node_modules(ctx.job.compiled).items():

        def hook(_module, args, node_id=node_id, modules=modules):
            seen.setdefault(node_id, (modules, tuple(a.detach() if torch.is_tensor(a) else a for a in args)))

        handles.append(modules[0].register_forward_pre_hook(hook))
    try:
        with torch.no_grad():
            ctx.measure(*ctx.batch(size))
    finally:
        for handle in handles:
            handle.remove()
    return seen


def _as_one(modules: list[nn.Module]) -> nn.Module:
    """A node built from several modules runs them in order (how the compiler chains them)."""
    return modules[0] if len(modules) == 1 else nn.Sequential(*modules)


def _first_tensor(value):
    if torch.is_tensor(value):
        return value
    if isinstance(value, Sequence) and value:
        return _first_tensor(value[0])
    return None


def check_module(module: nn.Module, args: tuple, seed: int = 0) -> tuple[str, str]:
    """(status, reason) for one module: pass, fail (with gradcheck's complaint) or skip (why)."""
    if not any(torch.is_tensor(a) for a in args):
        return "skip", "no tensor input"
    if any(torch.is_tensor(a) and not a.is_floating_point() for a in args):
        return "skip", "integer inputs (indices), not differentiable"
    module = copy.deepcopy(module).double()
    generator = torch.Generator().manual_seed(seed)
    inputs = [
        torch.randn(a.shape, generator=generator, dtype=torch.float64).to(a.device) if torch.is_tensor(a) else a
        for a in args
    ]
    names = [n for n, p in module.named_parameters() if p.requires_grad]
    params = {n: p.detach().clone().requires_grad_(True) for n, p in module.named_parameters() if n in names}
    frozen = {n: t for n, t in [*module.named_parameters(), *module.named_buffers()] if n not in params}
    positions = [i for i, a in enumerate(inputs) if torch.is_tensor(a)]

    def call(*tensors, seed: int = seed):
        values = list(inputs)
        for i, tensor in zip(positions, tensors[: len(positions)]):
            values[i] = tensor
        state = {**frozen, **dict(zip(names, tensors[len(positions) :]))}
        rng = torch.random.get_rng_state()
        torch.manual_seed(seed)  # same randomness each call, so the randomness test below is fair
        try:
            return _first_tensor(functional_call(module, state, tuple(values)))
        finally:
            torch.random.set_rng_state(rng)

    leaves = [inputs[i].clone().requires_grad_(True) for i in positions] + list(params.values())
    return _verdict(call, leaves, seed)


def _random(call, leaves: list[torch.Tensor], seed: int) -> bool:
    """Whether two calls on the same input differ when the random generator differs (dropout, sampling)."""
    with torch.no_grad():
        first = call(*leaves, seed=seed + 1)
        second = call(*leaves, seed=seed + 2)
    return not torch.equal(first, second)


def _verdict(call, leaves: list[torch.Tensor], seed: int) -> tuple[str, str]:
    out = call(*leaves)
    if out is None or not out.is_floating_point() or not out.requires_grad:
        return "skip", "its output is not differentiable"
    if _random(call, leaves, seed):
        return "skip", "random behaviour (dropout, sampling)"
    try:
        ok = torch.autograd.gradcheck(
            call, tuple(leaves), eps=EPS, atol=ATOL, rtol=RTOL, fast_mode=True, raise_exception=True
        )
    except RuntimeError as exc:  # gradcheck's own report: its first line says which Jacobian disagrees
        return "fail", str(exc).strip().splitlines()[0]
    return ("pass", "") if ok else ("fail", "gradients disagree with finite differences")


def _checked(module: nn.Module, args: tuple, seed: int) -> tuple[str, str]:
    """check_module, with a module that cannot run on its own (keyword inputs, state shared with another
    node) skipped and said so, rather than ending the whole report."""
    try:
        return check_module(module, args, seed)
    except Exception as exc:
        return "skip", f"could not be run alone ({type(exc).__name__}: {exc})"


def run(ctx: SanityContext, options: CheckOptions) -> CheckResult:
    ctx.fresh()
    size = min(options.gradcheck_batch, ctx.trainer.x.shape[0])
    recorded = record_inputs(ctx, size)
    verdicts = {node: _checked(_as_one(modules), args, options.seed) for node, (modules, args) in recorded.items()}
    ctx.fresh()
    name = ctx.names.get
    failed = [f"{name(n, n)}: {why}" for n, (status, why) in verdicts.items() if status == "fail"]
    skipped = [f"{name(n, n)} skipped: {why}" for n, (status, why) in verdicts.items() if status == "skip"]
    passed = [name(n, n) for n, (status, _) in verdicts.items() if status == "pass"]
    figures = {
        "checked": len(passed) + len(failed),
        "failed": [d.split(":")[0] for d in failed],
        "skipped": len(skipped),
        "batch": size,
    }
    details = [f"FAIL  {line}" for line in failed] + [f"SKIP  {line}" for line in skipped]
    if failed:
        line = f"{len(failed)} of {len(passed) + len(failed)} layer(s) fail: {', '.join(figures['failed'])}"
        return CheckResult(NAME, "", FAIL, line, figures, details)
    if not passed:
        return CheckResult(NAME, "", INFO, f"no layer could be checked ({len(skipped)} skipped)", figures, details)
    more = f"; {len(skipped)} skipped" if skipped else ""
    return CheckResult(
        NAME,
        "",
        PASS,
        f"{len(passed)} layer(s) agree with finite differences (float64, {size} samples){more}",
        figures,
        details,
    )
