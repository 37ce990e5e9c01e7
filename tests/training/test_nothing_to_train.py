"""A project whose every weight is frozen is refused before training, naming the frozen nodes."""

from __future__ import annotations

import pytest

from nnstudio.model.graph import NodeTraining
from nnstudio.training.job import TrainingInputError, prepare
from tests.helpers import mlp


def _frozen_mlp():
    built = mlp(width=8, classes=2)
    project = built.project
    for node_id in list(project.graph.nodes):
        project.graph.set_node_training(node_id, NodeTraining(frozen=True))
    project.dataset = {"name": "spirals", "params": {"samples": 100}}
    project.training = {"epochs": 1}
    return project


def test_every_weight_frozen_is_refused_naming_the_weighted_nodes():
    with pytest.raises(TrainingInputError, match="every node with weights is frozen") as caught:
        prepare(_frozen_mlp())
    message = str(caught.value)
    assert "nothing would train" in message
    assert "relu" not in message.lower()


def test_one_unfrozen_node_is_enough():
    project = _frozen_mlp()
    last = [n for n in project.graph.nodes.values() if n.type == "Linear"][-1]
    project.graph.set_node_training(last.id, NodeTraining())
    assert prepare(project).compiled is not None
