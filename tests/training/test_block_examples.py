"""The examples of the primers' blocks train, as shipped, to real results in well under a minute on a CPU.

Runs are seeded, so each figure below is what one platform measures every time; the bars leave room for the
small float differences between CPUs and torch builds, and stay far above what the untrained nets score.
"""

from __future__ import annotations

import pytest

from nnstudio.examples import example_path
from nnstudio.io import load
from nnstudio.training import Status, Trainer, prepare


def train(name: str) -> tuple[Trainer, dict[str, float], dict[str, float]]:
    """Train an example as shipped; also score its validation split with the starting weights."""
    job = prepare(load(example_path(name)))
    trainer = Trainer(job)
    trainer.setup()
    split = job.data.splits()["val"]
    before = trainer.evaluate(split.x, split.y)
    result = trainer.run()
    assert result.status is Status.FINISHED, result.message
    return trainer, result.metrics, before


@pytest.mark.slow
def test_rbf_network_separates_the_spirals():
    # Two balanced classes: chance is 0.5, and the untrained read-out scores 0.49. Measured after the shipped 30
    # epochs: 0.985 (random centres instead of k-means reach 0.995 on this easy set: k-means is there to cover
    # the data from the first step). A bar of 0.95 demands that the Gaussian units carve up the plane.
    pytest.importorskip("sklearn")
    trainer, metrics, before = train("rbf_network")
    assert list(trainer.data_init.initialised.values()) == [800]  # k-means saw all 800 training points
    assert before["accuracy"] < 0.65
    assert metrics["val_accuracy"] >= 0.95


@pytest.mark.slow
def test_capsnet_reads_the_digits_from_capsule_lengths():
    # Ten classes: chance is 0.1 (untrained: 0.15). Measured after the shipped 15 epochs: 0.992 test accuracy
    # (0.98 validation), on a par with the digits CNN (bar 0.95). The head's accuracy is the argmax of the ten
    # capsule lengths, so this also checks that the margin loss makes the right capsule the longest.
    pytest.importorskip("sklearn")
    _, metrics, before = train("capsnet_digits")
    assert before["accuracy"] < 0.3
    assert metrics["test_accuracy"] >= 0.95
    assert metrics["test_loss_margin"] < 0.05  # measured 0.019; untrained it is about 0.8


@pytest.mark.slow
def test_neural_ode_untangles_the_spirals():
    # Two classes, chance 0.5 (untrained: 0.55). Measured after the shipped 40 epochs: 0.99, and 0.985 and 1.0
    # with seeds 1 and 2 (4 RK4 steps, lr 0.005; at lr 0.01 some seeds stall near 0.65, which is why the rate is
    # lower). The bar of 0.93 needs the flow to carry one arm past the other.
    pytest.importorskip("torchdiffeq")
    _, metrics, before = train("neural_ode")
    assert before["accuracy"] < 0.7
    assert metrics["val_accuracy"] >= 0.93
