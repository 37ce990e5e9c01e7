"""The embedding projector's numbers: any node's output over a split, flattened per sample, projected to 2-D.

A forward hook on the node's last module (the one that produces the node's output, as the activation
probes use) records its output batch by batch; each sample's output is flattened to one row. At most
MAX_SAMPLES rows are kept (an evenly spread, seeded subset: t-SNE is quadratic in the sample count). PCA
(scikit-learn) projects the rows to two dimensions; t-SNE first reduces them to PCA_BEFORE_TSNE dimensions,
as its authors advise for wide features, then embeds those. Qt-free: the app runs this off the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from nnstudio.metrics.classification_report import SKLEARN_HINT, MissingScikitLearn
from nnstudio.metrics.layers import _first_tensor, node_modules
from nnstudio.training.factories import decision_threshold

METHODS = {"pca": "PCA", "tsne": "t-SNE"}  # the projections offered, by key and by display name
MAX_SAMPLES = 2000
PCA_BEFORE_TSNE = 50
BATCH = 256


@dataclass
class Embedding:
    node: str
    node_name: str
    method: str
    points: np.ndarray  # [n, 2]
    indices: np.ndarray  # each point's position in the split
    truth: np.ndarray | None  # class indices, for colouring (None for a task without classes)
    predicted: np.ndarray | None
    features: int  # the width of the node's flattened output
    explained: list[float] | None = None  # PCA: the share of variance each axis explains

    def describe(self) -> str:
        text = (
            f"{METHODS[self.method]} of '{self.node_name}' ({self.features} values per sample), "
            f"{len(self.points)} samples"
        )
        if self.explained:
            text += f"; the axes explain {sum(self.explained):.0%} of the variance"
        return text


def embedding_nodes(job) -> list[tuple[str, str]]:
    """(node id, node name) of every node whose output can be projected, in the graph's order."""
    return [(node_id, job.names.get(node_id, node_id)) for node_id in node_modules(job.compiled)]


def subset(count: int, limit: int = MAX_SAMPLES, seed: int = 0) -> np.ndarray:
    """Sorted positions of at most `limit` of `count` samples, the same for the same seed."""
    if count <= limit:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).choice(count, size=limit, replace=False))


@torch.no_grad()
def node_outputs(
    module: nn.Module, target: nn.Module, x: torch.Tensor, node_name: str
) -> tuple[np.ndarray, torch.Tensor]:
    """The node's output flattened per sample, [n, features], and the model's outputs, over `x`."""
    rows: list[torch.Tensor] = []
    outputs: list[torch.Tensor] = []

    def record(_module: nn.Module, _args: object, output: object) -> None:
        tensor = _first_tensor(output)
        if tensor is not None:
            rows.append(tensor.detach().float().reshape(tensor.shape[0], -1).cpu() if tensor.dim() else tensor)

    handle = target.register_forward_hook(record)
    was_training = module.training
    module.eval()
    try:
        for start in range(0, len(x), BATCH):
            count = len(rows)
            xb = x[start : start + BATCH]
            out = module(xb)
            outputs.append(out[0] if isinstance(out, tuple) else out)
            if len(rows) != count + 1 or rows[-1].dim() != 2 or rows[-1].shape[0] != len(xb):
                raise ValueError(f"node '{node_name}': its output has no per-sample first axis to project")
    finally:
        handle.remove()
        module.train(was_training)
    return torch.cat(rows).numpy().astype(np.float64), torch.cat(outputs).float()


def project(rows: np.ndarray, method: str = "pca", seed: int = 0) -> tuple[np.ndarray, list[float] | None]:
    """[n, 2] coordinates of the rows, and for PCA the variance share of each axis."""
    if method not in METHODS:
        raise ValueError(f"projection '{method}': choose one of {', '.join(METHODS)}")
    try:
        from sklearn.decomposition import PCA
        from sklearn.manifold import TSNE
    except ImportError:
        raise MissingScikitLearn(SKLEARN_HINT.replace("per-class metrics", "the projector")) from None
    n, width = rows.shape
    if n < 3:
        raise ValueError(f"{n} samples: the projector needs at least 3")
    components = min(2 if method == "pca" else PCA_BEFORE_TSNE, n, width)
    pca = PCA(n_components=components, random_state=seed)
    reduced = pca.fit_transform(rows)
    explained = pca.explained_variance_ratio_.tolist() if method == "pca" else None
    if method == "tsne":
        perplexity = float(min(30, (n - 1) / 3))  # scikit-learn demands perplexity < n
        reduced = TSNE(
            n_components=2, perplexity=perplexity, init="pca" if components >= 2 else "random", random_state=seed
        ).fit_transform(reduced)
    if reduced.shape[1] < 2:  # one feature: the points lie on a line
        reduced = np.column_stack([reduced, np.zeros(n)])
    return reduced[:, :2], explained


def node_embedding(
    job,
    node_id: str,
    x: torch.Tensor,
    y: torch.Tensor | None = None,
    method: str = "pca",
    max_samples: int = MAX_SAMPLES,
    seed: int = 0,
) -> Embedding:
    """Project node `node_id`'s output over the samples `x` (their labels `y` colour the points)."""
    modules = node_modules(job.compiled)
    name = job.names.get(node_id, node_id)
    if node_id not in modules:
        raise ValueError(f"node '{name}': it has no layer whose output can be projected")
    if method not in METHODS:
        raise ValueError(f"projection '{method}': choose one of {', '.join(METHODS)}")
    indices = subset(len(x), max_samples, seed)
    module = job.compiled.module.cpu()
    rows, outputs = node_outputs(module, modules[node_id][-1], x[indices].cpu(), name)
    points, explained = project(rows, method, seed)
    truth = predicted = None
    if job.task == "classification" and y is not None:
        truth = y[indices].reshape(len(indices), -1)[:, 0].numpy().astype(np.int64)
        if outputs.dim() == 2:
            predicted = outputs.argmax(-1).numpy()
    elif job.task == "binary" and y is not None:
        truth = (y[indices].reshape(len(indices), -1)[:, 0] > 0.5).numpy().astype(np.int64)
        predicted = outputs.reshape(len(indices), -1)[:, 0] > decision_threshold(job.settings.loss, job.task)
        predicted = predicted.numpy().astype(np.int64)
    return Embedding(node_id, name, method, points, indices, truth, predicted, rows.shape[1], explained)
