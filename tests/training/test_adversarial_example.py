"""adversarial_digits: adversarial training makes the digits CNN measurably more robust to the same attack."""

from __future__ import annotations

import pytest
import torch

from nnstudio.examples import example_path
from nnstudio.io.project_file import load
from nnstudio.training.attacks import Attack, robust_accuracy
from nnstudio.training.job import prepare, with_overrides
from nnstudio.training.recipes import create_trainer

EPOCHS = 6  # the shipped 8, cut for the test's time; the gap was already clear at 6 in measured runs


def _trained(recipe: bool):
    project = load(example_path("adversarial_digits"))
    project.training = with_overrides(project.training, epochs=EPOCHS)
    if not recipe:
        project.training.pop("recipe")
    job = prepare(project)
    trainer = create_trainer(job)
    assert trainer.run().ok
    return job, trainer


@pytest.mark.slow
def test_robust_accuracy_beats_the_plain_cnn_under_the_same_attack() -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        robust_job, robust = _trained(recipe=True)
        _, plain = _trained(recipe=False)
    finally:
        torch.set_num_threads(threads)
    test = robust_job.data.test
    for method in ("fgsm", "pgd"):
        attack = Attack(method, 0.2, low=0.0, high=1.0)
        hardened = robust_accuracy(robust.module, robust.criterion, test.x, test.y, attack)
        baseline = robust_accuracy(plain.module, plain.criterion, test.x, test.y, attack)
        # Measured at 8 epochs: FGSM 0.38 against 0.09, PGD 0.42 against 0.14. A margin of 0.15 leaves room for
        # the shorter run and for seeds, and is still far beyond what noise between runs moves (about 0.03).
        assert hardened >= baseline + 0.15, (method, hardened, baseline)
    clean = robust.evaluate(test.x, test.y)["accuracy"]
    assert clean >= 0.8  # measured 0.89: robustness costs some clean accuracy, not most of it
