"""The projector's core: a node's output over a split, flattened per sample and projected to 2-D."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio.model.builder import GraphBuilder
from nnstudio.training import prepare
from nnstudio.training.embedding import embedding_nodes, node_embedding, project, subset


@pytest.fixture(scope="module")
def job():
    b = GraphBuilder(name="iris")
    b.sequential(
        ("Input", {"shape": [4]}), ("Linear", {"out_features": 8}), "ReLU", ("Linear", {"out_features": 3}), "Output"
    )
    b.project.dataset = {"name": "iris", "val_fraction": 0.2, "test_fraction": 0.2}
    return prepare(b.project, None)


def test_every_layer_node_can_be_projected_with_pca_and_t_sne(job):
    nodes = embedding_nodes(job)
    assert [name for _, name in nodes][:3] == [job.names[i] for i, _ in nodes][:3] and len(nodes) >= 3
    split = job.data.splits()["train"]
    hidden = nodes[0][0]
    pca = node_embedding(job, hidden, split.x, split.y, "pca")
    assert pca.points.shape == (len(split.x), 2) and pca.features == 8
    assert pca.truth.tolist() == split.y.reshape(-1).tolist() and pca.predicted.shape == (len(split.x),)
    assert 0.0 < sum(pca.explained) <= 1.0 + 1e-9 and "PCA of" in pca.describe()
    tsne = node_embedding(job, hidden, split.x[:40], split.y[:40], "tsne")
    assert tsne.points.shape == (40, 2) and np.isfinite(tsne.points).all() and tsne.explained is None


def test_the_sample_cap_keeps_a_seeded_spread_subset(job):
    split = job.data.splits()["train"]
    result = node_embedding(job, embedding_nodes(job)[0][0], split.x, split.y, max_samples=25, seed=3)
    assert len(result.points) == 25 and result.indices.tolist() == subset(len(split.x), 25, 3).tolist()
    assert result.truth.tolist() == split.y.reshape(-1)[result.indices].tolist()


def test_pca_separates_what_is_separate():
    rows = np.concatenate([np.zeros((20, 5)), np.full((20, 5), 10.0)]) + np.random.default_rng(0).random((40, 5))
    points, explained = project(rows, "pca")
    assert abs(points[:20, 0].mean() - points[20:, 0].mean()) > 10 and explained[0] > 0.9


def test_bad_choices_are_named(job):
    split = job.data.splits()["train"]
    with pytest.raises(ValueError, match="projection 'umap'"):
        node_embedding(job, embedding_nodes(job)[0][0], split.x, split.y, "umap")
    with pytest.raises(ValueError, match="node 'nope'"):
        node_embedding(job, "nope", split.x, split.y)
    with pytest.raises(ValueError, match="at least 3"):
        project(np.zeros((2, 4)))
