"""Per-layer instruments keyed by graph node id: gradient norms, activation statistics, weight histograms.

Every instrument computes on the model's device and returns host numbers through one transfer, so the
cost of sampling is paid only on the steps that sample.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from nnstudio.compile.builder import CompiledModel
from nnstudio.metrics.stats import TensorSummary, rows_to_summaries, summary_row


def node_modules(compiled: CompiledModel) -> dict[str, list[nn.Module]]:
    """The submodules that implement each graph node, in the graph's topological order."""
    result: dict[str, list[nn.Module]] = {}
    structure = compiled.analysis.structure
    for node_id in structure.order:
        names = compiled.modules_of.get(node_id, [])
        if names and structure.specs[node_id].role != "loss":  # a loss's output is its term, plotted already
            result[node_id] = [compiled.network.get_submodule(name) for name in names]
    return result


def node_parameters(compiled: CompiledModel) -> dict[str, list[nn.Parameter]]:
    """Trainable parameters per node; nodes without weights are left out."""
    result = {}
    for node_id, modules in node_modules(compiled).items():
        params = [p for module in modules for p in module.parameters() if p.requires_grad]
        if params:
            result[node_id] = params
    return result


class GradientNorms:
    """The global gradient norm and one norm per node, from a single `torch._foreach_norm` call."""

    def __init__(self, groups: Mapping[str, list[nn.Parameter]]) -> None:
        self.keys = list(groups)
        self.params = [p for key in self.keys for p in groups[key]]
        self._group_of = [index for index, key in enumerate(self.keys) for _ in groups[key]]

    def compute(self) -> torch.Tensor | None:
        """[global, per node...] on the device, or None before any gradient exists."""
        present = [(p.grad, g) for p, g in zip(self.params, self._group_of) if p.grad is not None]
        if not present:
            return None
        grads = [grad for grad, _ in present]
        squares = torch.stack(torch._foreach_norm(grads)).float().square()
        index = torch.tensor([g for _, g in present], device=squares.device)
        per_group = torch.zeros(len(self.keys), device=squares.device).index_add_(0, index, squares)
        return torch.cat([squares.sum().reshape(1), per_group]).sqrt()

    def fetch(self, norms: torch.Tensor) -> tuple[float, dict[str, float]]:
        values = norms.cpu().tolist()
        return values[0], dict(zip(self.keys, values[1:]))


def _first_tensor(value: object) -> torch.Tensor | None:
    """A layer's primary output: the tensor itself, or the first tensor of a tuple (LSTM returns several)."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)):
        for item in value:
            found = _first_tensor(item)
            if found is not None:
                return found
    return None


@dataclass(frozen=True)
class ActivationSummary(TensorSummary):
    """A node output's summary plus the share of its units (the values of one sample, batch dimension aside) that
    are zero for every sample of the batch: dead ReLU units, for the canvas's health badges."""

    dead_fraction: float = 0.0

    def to_json(self) -> dict:
        return {**super().to_json(), "dead_fraction": self.dead_fraction}


def dead_unit_fraction(tensor: torch.Tensor) -> torch.Tensor:
    """The share of units that are zero in every sample, as a device scalar (two ops; no host sync)."""
    flat = tensor.detach().reshape(tensor.shape[0], -1) if tensor.dim() > 1 else tensor.detach().reshape(-1, 1)
    if flat.numel() == 0:
        return torch.zeros((), device=flat.device)
    return 1.0 - (flat != 0).any(0).float().mean()


class ActivationProbe:
    """Forward hooks that summarise each node's output. Attached for one forward pass, then removed."""

    def __init__(self, modules: Mapping[str, list[nn.Module]], bins: int) -> None:
        # the last module of a node produces the node's output
        self.targets = {key: mods[-1] for key, mods in modules.items() if mods}
        self.bins = bins
        self._handles: list[torch.utils.hooks.RemovableHandle] = []
        self._rows: dict[str, torch.Tensor] = {}

    def attach(self) -> None:
        self._rows = {}
        for key, module in self.targets.items():
            self._handles.append(module.register_forward_hook(self._hook(key)))

    def detach(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _hook(self, key: str):
        def record(module: nn.Module, args: object, output: object) -> None:
            tensor = _first_tensor(output)
            if tensor is not None and tensor.is_floating_point():
                row = summary_row(tensor, self.bins)
                self._rows[key] = torch.cat([row, dead_unit_fraction(tensor).reshape(1).to(row.dtype)])

        return record

    def collect(self) -> dict[str, ActivationSummary]:
        """The summaries recorded since attach(), fetched in one transfer."""
        if not self._rows:
            return {}
        keys = list(self._rows)
        rows = torch.stack([self._rows[key] for key in keys]).cpu()
        self._rows = {}
        dead = rows[:, -1].tolist()
        summaries = rows_to_summaries(rows[:, :-1])
        return {key: ActivationSummary(**vars(summary), dead_fraction=fraction)
                for key, summary, fraction in zip(keys, summaries, dead)}


def weight_summaries(groups: Mapping[str, list[nn.Parameter]], bins: int,
                     finite: bool = False) -> dict[str, TensorSummary]:
    """One histogram per node over all of its parameters; `finite` when they are known to be finite."""
    if not groups:
        return {}
    keys = list(groups)
    with torch.no_grad():
        rows = torch.stack([summary_row(torch.cat([p.detach().reshape(-1) for p in groups[key]]), bins, finite)
                            for key in keys])
    return dict(zip(keys, rows_to_summaries(rows)))
