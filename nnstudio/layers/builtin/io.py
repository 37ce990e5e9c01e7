"""Input and Output: where data enters the graph and where predictions leave it."""

from __future__ import annotations

from nnstudio.layers.params import ParamKind, ParamSpec, choice_param
from nnstudio.layers.spec import DTYPES, Inputs, LayerSpec, PortSpec, TensorType


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
        ),
        inputs=(),
        glyph="⇥",
        key_params=("shape",),
        role="input",
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
