"""The default recipe: minimise the graph's objective (its loss nodes, or training.loss) with one optimizer."""

from __future__ import annotations

from nnstudio.training.recipes.spec import RecipeSpec

SPEC = RecipeSpec(
    name="supervised",
    title="Supervised",
    summary="Minimise the objective with one optimizer: the usual way to train.",
    explanation=(
        "Each step feeds a batch forward, computes the objective (the graph's loss nodes, or the loss chosen in the "
        "settings), backpropagates and updates every trainable parameter. The live views show the loss and each "
        "loss term, the metrics of each head, gradients, activations and weights."
    ),
    trainer="nnstudio.training.engine.Trainer",
)
