"""Data-dependent initialisation: RBF centres placed on k-means clusters of the training data, before step one.

An RBF layer with `centre_init: kmeans` wants its centres where the data that reaches it lies. That data is the
training set run through the graph up to the RBF node (a forward pre-hook catches the node's input and stops the
pass there), on a seeded sample of at most KMEANS_SAMPLES rows. scikit-learn's KMeans, seeded with the run's
seed, finds the clusters, so two runs with one seed start from the same centres. Layers are done in the order
the graph computes them, so an RBF node after another sees the first one's centres already in place.

Nothing here draws from torch's global generator (the sample comes from a generator of its own and the pass
runs in eval mode, under fork_rng), so a run's shuffling and dropout are those it would have without this step.
Centres loaded from `init.weights` are kept, and without scikit-learn the centres stay random; prepare() warns.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
from torch import nn

from nnstudio.analysis.diagnostics import Diagnostic, warning
from nnstudio.compile.builder import CompiledModel
from nnstudio.layers.block_modules import RBF
from nnstudio.training.objective import field_args

if TYPE_CHECKING:
    from nnstudio.training.init_weights import MatchReport

KMEANS_SAMPLES = 5000  # rows of the training set k-means sees at most; plenty for a few hundred centres
KMEANS_RUNS = 4  # k-means restarts from different seeds; the best (lowest inertia) wins
BATCH = 1024
SKLEARN_MISSING = ("k-means needs scikit-learn, which is not installed, so its centres start at random; install "
                   'the extra with: pip install "nnstudio[datasets]"')


@dataclass
class DataInitReport:
    """Which nodes got data-dependent centres and which kept theirs (and why)."""

    initialised: dict[str, int] = field(default_factory=dict)  # node id -> samples k-means saw
    kept: dict[str, str] = field(default_factory=dict)  # node id -> why its centres were left alone


class _Reached(Exception):
    """Raised by the capture hook: the pass got to the node, the rest of the graph need not run."""


def kmeans_nodes(compiled: CompiledModel) -> list[tuple[str, RBF]]:
    """(node id, module) of every RBF layer that asks for k-means centres, in the order the graph computes them."""
    found = []
    for node_id in compiled.analysis.structure.order:
        for attribute in compiled.modules_of.get(node_id, []):
            module = compiled.network.get_submodule(attribute)
            if isinstance(module, RBF) and module.centre_init == "kmeans":
                found.append((node_id, module))
    return found


def sklearn_available() -> bool:
    try:
        import sklearn.cluster  # noqa: F401
    except ImportError:
        return False
    return True


def data_init_warnings(compiled: CompiledModel, names: dict[str, str]) -> list[Diagnostic]:
    """What prepare() warns about before training: k-means asked for where scikit-learn is missing."""
    if sklearn_available():
        return []
    return [warning("kmeans-unavailable", f"node '{names.get(node_id, node_id)}': {SKLEARN_MISSING}",
                    node_id=node_id, param="centre_init") for node_id, _ in kmeans_nodes(compiled)]


def init_from_data(compiled: CompiledModel, x: torch.Tensor, y: torch.Tensor, seed: int,
                   loaded: MatchReport | None = None) -> DataInitReport:
    """Set every k-means RBF node's centres from the training split (x, y), already on the model's device."""
    report = DataInitReport()
    wanted = kmeans_nodes(compiled)
    if not wanted:
        return report
    if not sklearn_available():
        report.kept.update({node_id: "scikit-learn is not installed" for node_id, _ in wanted})
        return report
    from_file = _loaded_nodes(loaded)
    rows = _sample_rows(len(x), seed, x.device)
    xs, ys = x[rows], y[rows]
    for node_id, module in wanted:
        if node_id in from_file:
            report.kept[node_id] = "its centres came from init.weights"
            continue
        points = _inputs_reaching(compiled, module, xs, ys)
        centres = module.centres.shape[0]
        if points is None:
            report.kept[node_id] = "the training pass does not compute it"
            continue
        if points.shape[0] < centres:
            report.kept[node_id] = f"k-means needs at least {centres} samples, got {points.shape[0]}"
            continue
        with torch.no_grad():
            module.centres.copy_(_kmeans(points, centres, seed).to(module.centres))
        report.initialised[node_id] = points.shape[0]
    return report


def _loaded_nodes(loaded: MatchReport | None) -> set[str]:
    """Nodes whose centres init.weights supplied."""
    if loaded is None:
        return set()
    return {loaded.nodes[label] for label, keys in loaded.matched.items()
            if loaded.nodes.get(label) and any(key.endswith(".centres") or key == "centres" for key in keys)}


def _sample_rows(count: int, seed: int, device: torch.device) -> torch.Tensor:
    if count <= KMEANS_SAMPLES:
        return torch.arange(count, device=device)
    generator = torch.Generator().manual_seed(seed)
    return torch.randperm(count, generator=generator)[:KMEANS_SAMPLES].sort().values.to(device)


def _runner(compiled: CompiledModel) -> Callable[[torch.Tensor, torch.Tensor], object]:
    """One forward pass over a batch: the objective when the graph has one (the node may feed only a loss)."""
    if compiled.objective is not None and compiled.plan is not None:
        plan, objective = compiled.plan, compiled.objective
        return lambda xb, yb: objective(*field_args(plan, xb, yb))
    return lambda xb, yb: compiled.module(xb)


def _inputs_reaching(compiled: CompiledModel, module: nn.Module, x: torch.Tensor,
                     y: torch.Tensor) -> torch.Tensor | None:
    """What arrives at `module` for each sample, flattened to [rows, features]; None if nothing reaches it."""
    captured: list[torch.Tensor] = []

    def capture(_module: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        captured.append(args[0].detach())
        raise _Reached

    network, run = compiled.network, _runner(compiled)
    was_training = network.training
    handle = module.register_forward_pre_hook(capture)
    network.eval()
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            for start in range(0, x.shape[0], BATCH):
                with contextlib.suppress(_Reached):
                    run(x[start:start + BATCH], y[start:start + BATCH])
    finally:
        handle.remove()
        network.train(was_training)
    if not captured:
        return None
    points = torch.cat(captured)
    return points.reshape(-1, points.shape[-1])


def _kmeans(points: torch.Tensor, clusters: int, seed: int) -> torch.Tensor:
    from sklearn.cluster import KMeans

    data = points.double().cpu().numpy()
    fitted = KMeans(n_clusters=clusters, n_init=KMEANS_RUNS, random_state=seed % 2**32).fit(data)
    return torch.from_numpy(fitted.cluster_centers_)
