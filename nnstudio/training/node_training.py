"""Frozen nodes and per-node learning rates, applied to a compiled network before its optimizer is built.

A frozen node's parameters get `requires_grad = False` and stay out of the optimizer; its batch-norm layers
also stop updating their running statistics (a forward pre-hook keeps them in eval mode whatever `train()`
says), unless the node's `update_stats` asks for the usual behaviour. A learning-rate scale puts the node's
parameters in a param group of their own with `lr = base lr · scale`; schedules then scale every group alike.
With no node customised, the optimizer gets the very same flat parameter list as before, so plain projects
train bitwise as they always did.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from nnstudio.compile.builder import CompiledModel
from nnstudio.compile.summary import count_parameters as count_parameters  # Summary's rule, re-exported
from nnstudio.compile.summary import node_modules
from nnstudio.model.graph import Graph, NodeTraining


@dataclass
class NodeTrainingPlan:
    """What the optimizer gets and which hooks to remove when the run ends."""

    params: list[nn.Parameter] | list[dict[str, Any]]
    trainable: int = 0  # parameter counts
    frozen: int = 0
    hooks: list[Any] = field(default_factory=list)

    def remove_hooks(self) -> None:
        for handle in self.hooks:
            handle.remove()
        self.hooks.clear()


def _keep_eval(module: nn.Module, args: Any) -> None:
    module.training = False


def customised(graph: Graph) -> dict[str, NodeTraining]:
    return {node_id: node.training for node_id, node in graph.nodes.items() if not node.training.is_default}


def apply_node_training(compiled: CompiledModel, graph: Graph, base_lr: float) -> NodeTrainingPlan:
    """Freeze, hook and group the network's parameters as the graph's nodes ask."""
    network = compiled.network
    wanted = customised(graph)
    if not wanted:
        params = [p for p in network.parameters() if p.requires_grad]
        return NodeTrainingPlan(params, trainable=sum(p.numel() for p in params))
    owned = node_modules(compiled)
    scale_of: dict[int, float] = {}
    plan = NodeTrainingPlan([])
    for node_id, settings in wanted.items():
        for module in owned.get(node_id, []):
            if settings.frozen:
                module.requires_grad_(False)
                if not settings.update_stats:
                    plan.hooks += _freeze_statistics(module, _keep_eval)
            for p in module.parameters():
                scale_of[id(p)] = settings.lr_scale
    groups: dict[float, list[nn.Parameter]] = {}
    for p in network.parameters():
        if not p.requires_grad:
            plan.frozen += p.numel()
            continue
        plan.trainable += p.numel()
        groups.setdefault(scale_of.get(id(p), 1.0), []).append(p)
    plan.params = _param_groups(groups, base_lr)
    return plan


def _freeze_statistics(module: nn.Module, hook: Callable[[nn.Module, Any], None]) -> list[Any]:
    return [m.register_forward_pre_hook(hook) for m in module.modules() if isinstance(m, _BatchNorm)]


def _param_groups(groups: dict[float, list[nn.Parameter]], base_lr: float) -> list[dict[str, Any]]:
    """The default group first (its lr is what the logs show), then one group per learning-rate scale."""
    ordered = sorted(groups.items(), key=lambda item: item[0] != 1.0)
    return [{"params": params, "lr": base_lr * scale, "lr_scale": scale} for scale, params in ordered]


def nothing_to_train(compiled: CompiledModel, graph: Graph) -> str | None:
    """Why a gradient step would have nothing to update (every weight frozen, or no weights), else None.

    torch's optimizers refuse an empty parameter list with "optimizer got an empty parameter list" deep in
    setup; this says it in the graph's terms before anything starts.
    """
    frozen = {node_id for node_id, settings in customised(graph).items() if settings.frozen}
    owned = node_modules(compiled)
    frozen_ids = {id(p) for node_id in frozen for module in owned.get(node_id, []) for p in module.parameters()}
    if any(p.requires_grad and id(p) not in frozen_ids for p in compiled.network.parameters()):
        return None
    if frozen_ids:
        weighted = [n for n in frozen if any(True for m in owned.get(n, []) for _ in m.parameters())]
        names = ", ".join(sorted(graph.nodes[n].name for n in weighted if n in graph.nodes))
        return f"every node with weights is frozen ({names}): nothing would train; unfreeze at least one"
    return "the graph has no weights to train: add a layer with parameters (e.g. Linear) before the Output"
