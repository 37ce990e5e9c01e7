"""Adversarial training: the supervised engine, with each batch partly replaced by its attacked version.

The attack runs in eval mode (so it neither updates batch-norm statistics nor draws dropout masks) against the
weights of the moment, and only asks autograd for the input's gradient, so the step's own zero_grad, backward and
update are those of the plain step. PGD's random start draws from torch's global generator, which checkpoints
capture, so a resumed run attacks with the same noise and stays bitwise equal.
"""

from __future__ import annotations

import torch

from nnstudio.training.attacks import Attack, perturb, robust_accuracy
from nnstudio.training.engine import Trainer
from nnstudio.training.step import StepRunner


def attack_of(params: dict, method: str | None = None) -> Attack:
    return Attack(method or params["attack"], params["epsilon"], params["steps"], params["step_size"],
                  params["random_start"], params["clamp_low"], params["clamp_high"])


class AdversarialStepRunner(StepRunner):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        params = self.trainer.job.recipe_params
        self.attack = attack_of(params)
        self.fraction = params["adversarial_fraction"]

    def _forward(self, xb: torch.Tensor, yb: torch.Tensor):
        count = round(self.fraction * xb.shape[0])
        if count:
            module = self.trainer.module
            module.eval()
            try:
                attacked = perturb(self.trainer.forward_module, self.trainer.criterion, xb[:count], yb[:count],
                                   self.attack)
            finally:
                module.train()
            xb = torch.cat([attacked, xb[count:]]) if count < xb.shape[0] else attacked
        return super()._forward(xb, yb)


class AdversarialTrainer(Trainer):
    runner_class = AdversarialStepRunner

    def evaluate(self, x: torch.Tensor, y: torch.Tensor, confusion: bool = False) -> dict[str, float]:
        metrics = super().evaluate(x, y, confusion)
        every = self.job.recipe_params["robust_every"]
        epoch = self.state.epoch_in_progress if self._ready else 0
        final = epoch >= self.settings.epochs or self.status.value != "running"
        if (every and epoch % every == 0) or final:
            for method in ("fgsm", "pgd"):
                metrics[f"robust_{method}_accuracy"] = robust_accuracy(
                    self.module, self.criterion, x, y, attack_of(self.job.recipe_params, method),
                    seed=self.settings.seed)
        return metrics
