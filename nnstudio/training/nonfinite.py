"""Finding where a run went non-finite: the first layer whose weights, output or gradient is NaN or inf.

The hot loop never checks every tensor. When a sampled loss or gradient norm turns out non-finite, the
engine replays the current batch here through a torch.fx Interpreter, which sees every node of the
compiled graph in execution order, and hooks each intermediate tensor for the backward pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import fx, nn

from nnstudio.compile.builder import CompiledModel
from nnstudio.metrics.layers import node_parameters


@dataclass
class Culprit:
    node_id: str | None
    description: str  # reads after "first non-finite value: "


def _finite(tensor: torch.Tensor) -> bool:
    return bool(torch.isfinite(tensor).all())


def _first_tensor(value: object) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)):
        return next((t for t in map(_first_tensor, value) if t is not None), None)
    return None


class _Watcher(fx.Interpreter):
    """Runs the graph node by node, remembering the first non-finite output and each float tensor."""

    def __init__(self, module: fx.GraphModule) -> None:
        super().__init__(module)
        self.first_bad: tuple[fx.Node, str | None] | None = None
        self.last_module: str | None = None
        self.watched: list[tuple[fx.Node, str | None, torch.Tensor]] = []

    def run_node(self, n: fx.Node) -> object:
        result = super().run_node(n)
        if n.op == "call_module":
            self.last_module = str(n.target)
        tensor = _first_tensor(result)
        if tensor is not None and tensor.is_floating_point():
            self.watched.append((n, self.last_module, tensor))
            if self.first_bad is None and not _finite(tensor):
                self.first_bad = (n, self.last_module)
        return result


class Locator:
    def __init__(self, compiled: CompiledModel, names: dict[str, str], types: dict[str, str]) -> None:
        self.compiled = compiled
        self.names = names
        self.types = types

    def _node(self, attribute: str | None) -> str | None:
        return self.compiled.node_of_module(attribute) if attribute else None

    def _label(self, node_id: str | None) -> str:
        if node_id is None:
            return "the model"
        return f"node '{self.names.get(node_id, node_id)}' ({self.types.get(node_id, '?')})"

    def _describe(self, n: fx.Node, last_module: str | None, what: str) -> Culprit:
        if n.op == "placeholder":
            return Culprit(None, f"the input batch itself ({what})")
        if n.op == "call_module":
            node_id = self._node(str(n.target))
            return Culprit(node_id, f"the {what} of {self._label(node_id)}")
        node_id = self._node(last_module)
        op = getattr(n.target, "__name__", str(n.target))
        after = f" after {self._label(node_id)}" if node_id else ""
        return Culprit(node_id, f"the {what} of the '{op}' operation{after}")

    def locate(self, x: torch.Tensor, y: torch.Tensor,
               criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None) -> Culprit:
        """Replay one batch and report where the first non-finite value appears."""
        for node_id, params in node_parameters(self.compiled).items():
            if not all(_finite(p.detach()) for p in params):
                return Culprit(node_id, f"the weights of {self._label(node_id)}")
        objective, plan = self.compiled.objective, self.compiled.plan
        module = objective if objective is not None else self.compiled.module
        watcher = _Watcher(module)
        with torch.enable_grad():
            if objective is not None and plan is not None:  # the graph computes its own loss: replay all of it
                output = watcher.run(*[x if field == "x" else y for field in plan.fields])
            else:
                output = watcher.run(x)
            if watcher.first_bad is not None:
                return self._describe(*watcher.first_bad, "output")
            loss = output[0] if objective is not None else criterion(output, y)
            if not _finite(loss.detach()):
                return self._loss_culprit(watcher, output)
            return self._backward(module, watcher, loss)

    def _loss_culprit(self, watcher: _Watcher, output: object) -> Culprit:
        """A non-finite loss from finite outputs: blame the layer that produced the outputs."""
        node_id = self._node(watcher.last_module)
        tensor = _first_tensor(output)
        largest = float(tensor.detach().abs().max()) if tensor is not None and tensor.numel() else 0.0
        return Culprit(node_id, f"the loss, computed from finite outputs of {self._label(node_id)} that grew "
                                f"too large (largest magnitude {largest:.3g}) or do not suit the loss")

    def _backward(self, module: nn.Module, watcher: _Watcher, loss: torch.Tensor) -> Culprit:
        found: list[Culprit] = []
        handles = []
        for n, last, tensor in watcher.watched:
            if tensor.requires_grad:
                handles.append(tensor.register_hook(self._grad_hook(n, last, found)))
        module.zero_grad(set_to_none=True)
        try:
            loss.backward()
        finally:
            for handle in handles:
                handle.remove()
        if found:
            return found[0]
        for node_id, params in node_parameters(self.compiled).items():
            if any(p.grad is not None and not _finite(p.grad) for p in params):
                return Culprit(node_id, f"the weight gradients of {self._label(node_id)}")
        return Culprit(None, "nowhere on a replay of the last batch (it may have come from an earlier batch)")

    def _grad_hook(self, n: fx.Node, last: str | None, found: list[Culprit]):
        def check(grad: torch.Tensor) -> None:
            if not found and not _finite(grad):
                found.append(self._describe(n, last, "gradient at the output"))

        return check
