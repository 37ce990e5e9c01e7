"""Pruning with torch.nn.utils.prune: global magnitude (unstructured) or per-layer by output neuron/channel.

The masks are applied with `prune.remove` before anything is written, so the weights themselves hold the zeros
and the state dict has the graph's own keys: the result loads into the project's compiled network and exports
like any checkpoint. Fine-tuning runs before the removal, with the masks in place, so pruned weights stay zero.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable

import torch
from torch import nn
from torch.nn.utils import prune

from nnstudio.training.compress.methods import CompressError

PRUNABLE = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def prunable_layers(network: nn.Module) -> list[tuple[str, nn.Module]]:
    """Every Linear/Conv layer with a weight, in the order the network defines them."""
    return [
        (name, m)
        for name, m in network.named_modules()
        if isinstance(m, PRUNABLE) and isinstance(getattr(m, "weight", None), nn.Parameter)
    ]


def output_layer(layers: list[tuple[str, nn.Module]], module: nn.Module) -> str | None:
    """The prunable layer the inference graph calls last: structured pruning leaves it whole, since each of its
    output neurons is one of the model's outputs (a class score)."""
    graph = getattr(module, "graph", None)
    names = {name for name, _ in layers}
    called = [n.target for n in graph.nodes if n.op == "call_module"] if graph is not None else []
    last = [t for t in called if t in names]
    return last[-1] if last else (layers[-1][0] if layers else None)


def apply_masks(network: nn.Module, module: nn.Module, amount: float, structured: bool) -> list[str]:
    """Attach pruning masks to the network's layers; returns notes on what was left alone."""
    layers = prunable_layers(network)
    if not layers:
        raise CompressError("nothing to prune: the model has no Linear or convolution layer with weights")
    if not structured:
        prune.global_unstructured(
            [(m, "weight") for _, m in layers], pruning_method=prune.L1Unstructured, amount=amount
        )
        return []
    keep = output_layer(layers, module)
    chosen = [(n, m) for n, m in layers if n != keep]
    if not chosen:
        raise CompressError(f"nothing to prune by neuron: the only layer, {keep}, is the output layer")
    for _, layer in chosen:
        prune.ln_structured(layer, "weight", amount=amount, n=2, dim=0)
    return [f"{keep} (the output layer) keeps all its outputs"]


def remove_masks(network: nn.Module) -> None:
    """Make the zeros permanent: `weight` becomes a plain parameter again, under its usual state-dict key."""
    for _, layer in prunable_layers_with_masks(network):
        prune.remove(layer, "weight")


def prunable_layers_with_masks(network: nn.Module) -> list[tuple[str, nn.Module]]:
    return [(n, m) for n, m in network.named_modules() if prune.is_pruned(m) and hasattr(m, "weight_mask")]


def parameter_counts(network: nn.Module) -> tuple[int, int, float]:
    """(total parameters, non-zero parameters, fraction of prunable weights that are zero)."""
    params = list(network.parameters())
    total = sum(p.numel() for p in params)
    nonzero = sum(int(torch.count_nonzero(p.detach())) for p in params)
    weights = [m.weight.detach() for _, m in prunable_layers(network)]
    size = sum(w.numel() for w in weights)
    zeros = sum(int((w == 0).sum()) for w in weights)
    return total, nonzero, zeros / size if size else 0.0


def finetune(job, epochs: int) -> str:
    """Train the masked network for `epochs` with the project's own settings and Trainer (early stopping off,
    no checkpoints written); returns a note on what ran. Gradients reach only unpruned weights, through the mask."""
    from nnstudio.training.events import Status
    from nnstudio.training.recipes import create_trainer

    settings = job.settings
    stopping = dataclasses.replace(settings.early_stopping, enabled=False)
    tuned = copy.copy(job)
    tuned.settings = dataclasses.replace(settings, epochs=epochs, early_stopping=stopping)
    result = create_trainer(tuned, None).run()
    if result.status is Status.FAILED:
        raise CompressError(f"fine-tuning failed: {result.message}")
    job.compiled.network.to("cpu")
    return (
        f"fine-tuned {epochs} epoch(s) after pruning with the project's Trainer and settings "
        f"({settings.optimizer.name}, lr {settings.optimizer.lr:g}, batch {settings.batch_size}), masks kept"
    )


def prune_network(
    job, amount: float, structured: bool, epochs: int, evaluate: Callable[[], dict[str, float]]
) -> tuple[dict[str, float], list[str]]:
    """Prune the job's network in place (masks applied and removed), fine-tune if asked, and score it."""
    notes = apply_masks(job.compiled.network, job.compiled.module, amount, structured)
    if epochs:
        notes.append(finetune(job, epochs))
    remove_masks(job.compiled.network)
    return evaluate(), notes
