"""The adversarial-training recipe's declaration: attack every batch, then learn from the mix.

FGSM or PGD examples (nnstudio.training.attacks, shared with the robustness evaluation) are made inside each
training step against the current weights and replace a chosen share of the batch. Each epoch also reports the
validation accuracy under both attacks, so robustness is measured beside clean accuracy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nnstudio.analysis.diagnostics import Diagnostic, error
from nnstudio.analysis.validate import Analysis
from nnstudio.layers.params import ParamKind, ParamSpec, bool_param, choice_param, float_param, int_param
from nnstudio.model.project import Project
from nnstudio.training.recipes.spec import RecipeSpec

PARAMS = (
    choice_param("attack", "fgsm", ("fgsm", "pgd"), "The attack used while training: FGSM (one signed-gradient "
                 "step) or PGD (several projected steps)."),
    float_param("epsilon", 0.1, "The largest change per input value (the L∞ radius of the attack).", 0.0),
    int_param("steps", 7, "PGD steps per attack.", 1, 1000),
    float_param("step_size", 0.025, "PGD step size α.", 1e-9),
    float_param("adversarial_fraction", 0.5, "Share of each batch replaced by its adversarial version.", 0.0, 1.0),
    ParamSpec("clamp_low", ParamKind.FLOAT, None, "Lowest legal input value (e.g. 0 for pixels); empty for none.",
              optional=True),
    ParamSpec("clamp_high", ParamKind.FLOAT, None, "Highest legal input value (e.g. 1 for pixels); empty for none.",
              optional=True),
    int_param("robust_every", 1, "Measure robust validation accuracy every this many epochs (0: only at the end).",
              0),
    bool_param("random_start", True, "PGD starts from a random point in the ε-ball."),
)


def _check(project: Project, analysis: Analysis, params: Mapping[str, Any], data: Any) -> list[Diagnostic]:
    structure = analysis.structure
    roles = [spec.role for spec in structure.specs.values()]
    if "loss" in roles:
        return [error("recipe-graph", "training.recipe: the adversarial recipe attacks a classifier trained with "
                      "training.loss; remove the graph's loss nodes or use the supervised recipe",
                      param="training.recipe.name")]
    inputs = [n for n in structure.order if structure.specs[n].role == "input"]
    if inputs and analysis.shapes.of(inputs[0]) is not None and analysis.shapes.of(inputs[0]).dtype != "float32":
        return [error("recipe-graph", f"{project.graph.nodes[inputs[0]].name}: the adversarial recipe perturbs the "
                      "input, so it needs float inputs; token ids cannot be nudged by ε", node_id=inputs[0])]
    if data is not None and data.task != "classification":
        return [error("training-setting", f"training.recipe.name: the adversarial recipe measures robust accuracy of "
                      f"a classifier; this dataset's task is {data.task}", param="training.recipe.name")]
    low, high = params["clamp_low"], params["clamp_high"]
    if low is not None and high is not None and low >= high:
        return [error("training-setting", f"training.recipe.params.clamp_low: {low} is not below clamp_high "
                      f"{high}", param="training.recipe.params.clamp_low")]
    return []


SPEC = RecipeSpec(
    name="adversarial",
    title="Adversarial training",
    summary="Trains on FGSM or PGD attacks of each batch, for robustness.",
    explanation=(
        "Before each update the recipe attacks the batch: FGSM moves every input by ε in the direction that raises "
        "the loss most, x' = x + ε · sign(∇ₓL); PGD takes several smaller steps and stays within ε of x. The chosen "
        "share of the batch is replaced by these adversarial examples, so the model learns to classify them too. "
        "Beside the clean accuracy, each epoch reports the validation accuracy under FGSM and under PGD at the same "
        "ε: a robust model keeps it high. The Evaluation tab shows adversarial examples beside their originals."
    ),
    trainer="nnstudio.training.recipes.adversarial_trainer.AdversarialTrainer",
    params=PARAMS,
    logs=("robust_fgsm_accuracy", "robust_pgd_accuracy"),
    live_views=("loss", "metrics", "robustness"),
    evaluation_views=("metrics", "adversarial_examples"),
    exports="the trained classifier",
    distributed="the adversarial recipe does not run under --distributed yet; train it on one process",
    check=_check,
)
