"""Input, Target and Output: where data enters the graph and where predictions leave it.

A dataset yields named fields: `x`, the samples, and `y`, the targets (for an autoencoder the target is the
input itself, so a Target bound to `x` serves). An Input binds to a field and is an argument of the exported
model; a Target binds to a field too but only feeds loss nodes, so export leaves it out.
"""

from __future__ import annotations

from nnstudio.layers.params import ParamKind, ParamSpec, choice_param
from nnstudio.layers.spec import DTYPES, Inputs, LayerSpec, PortSpec, TensorType

# What every dataset yields, the samples and their targets, plus `noise`: N(0, I) of the node's shape, drawn
# per batch by the recipes that need it (a GAN's generator input).
FIELDS = ("x", "y", "noise")


def _infer_input(params, inputs: Inputs) -> TensorType:
    return TensorType(tuple(params["shape"]), params["dtype"])


def _infer_output(params, inputs: Inputs) -> TensorType:
    return inputs.one()


SPECS = [
    LayerSpec(
        type="Input",
        category="Input / Output",
        title="Input",
        summary="Where a batch of samples enters the network.",
        explanation=(
            "Declares the shape of one sample, without the batch dimension: [2] for points in the plane, "
            "[1, 28, 28] for a greyscale image, [T, F] for a sequence of T steps with F features. "
            "Use int64 for token ids that feed an Embedding."
        ),
        formula="x ∈ ℝ^(N × shape)",
        infer=_infer_input,
        params=(
            ParamSpec("shape", ParamKind.SHAPE, [2], "Shape of one sample, batch dimension excluded."),
            choice_param("dtype", "float32", DTYPES, "Element type of the tensor."),
            choice_param("field", "x", FIELDS,
                         "The field it reads: x (the samples), y (the targets), or noise (drawn by the GAN recipe)."),
        ),
        inputs=(),
        glyph="⇥",
        key_params=("shape",),
        role="input",
    ),
    LayerSpec(
        type="Target",
        category="Input / Output",
        title="Target",
        summary="Brings the dataset's targets into the graph, for loss nodes.",
        explanation=(
            "What a loss compares the prediction with. Bound to field y it gives the labels: class indices "
            "(shape empty, int64) for classification, values (float32) for regression. Bound to field x it gives "
            "the clean input, the target of an autoencoder. Targets only feed losses, never the exported model."
        ),
        formula="y ∈ ℝ^(N × shape)",
        infer=_infer_input,
        params=(
            ParamSpec("shape", ParamKind.SHAPE, [], "Shape of one target, batch excluded; empty for a class index.",
                      min_length=0),
            choice_param("dtype", "int64", DTYPES, "int64 for class indices, float32 for values."),
            choice_param("field", "y", FIELDS[:2], "The field it reads: y (the targets) or x (the samples)."),
        ),
        inputs=(),
        glyph="◎",
        key_params=("field", "shape"),
        role="target",
    ),
    LayerSpec(
        type="Output",
        category="Input / Output",
        title="Output",
        summary="Marks a tensor as a prediction of the network.",
        explanation=(
            "Whatever reaches this node is returned by the compiled model's forward(). "
            "Losses compare it with the target, so classifiers usually end in raw logits here."
        ),
        formula="ŷ = f(x)",
        infer=_infer_output,
        inputs=(PortSpec("in", "The prediction."),),
        outputs=(),
        glyph="⇤",
        role="output",
    ),
]
