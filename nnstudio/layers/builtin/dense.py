"""Fully connected layers."""

from __future__ import annotations

from nnstudio.layers.builtin.common import require_float, require_rank
from nnstudio.layers.params import bool_param, int_param
from nnstudio.layers.spec import Construct, Inputs, LayerSpec, PortSpec, ShapeError, TensorType


def _infer_linear(params, inputs: Inputs) -> TensorType:
    x = inputs.one()
    require_float(x)
    if not x.shape:
        raise ShapeError(f"expects at least one feature dimension, got {x}", "in")
    return TensorType((*x.shape[:-1], params["out_features"]))


def _build_linear(params, types: Inputs) -> Construct:
    return Construct(
        "torch.nn.Linear",
        {"in_features": types.one().shape[-1], "out_features": params["out_features"], "bias": params["bias"]},
    )


def _infer_bilinear(params, inputs: Inputs) -> TensorType:
    a, b = inputs.one("in1"), inputs.one("in2")
    for port, x in (("in1", a), ("in2", b)):
        require_float(x, port)
        require_rank(x, (1,), "[N, features]", port)
    return TensorType((params["out_features"],))


def _build_bilinear(params, types: Inputs) -> Construct:
    return Construct(
        "torch.nn.Bilinear",
        {
            "in1_features": types.one("in1").shape[-1],
            "in2_features": types.one("in2").shape[-1],
            "out_features": params["out_features"],
            "bias": params["bias"],
        },
    )


def _emit_bilinear(ctx, params, values: Inputs, types: Inputs):
    return ctx.module(_build_bilinear(params, types), values.one("in1"), values.one("in2"))


_BIAS = bool_param("bias", True, "Learn an additive bias b.")

SPECS = [
    LayerSpec(
        type="Linear",
        category="Dense",
        title="Linear (Dense)",
        summary="Every output is a weighted sum of every input feature.",
        explanation=(
            "A learned affine map over the last dimension. The number of inputs is read from the "
            "incoming shape, so only the output width is set here. Applied to [N, T, F] it acts on each step."
        ),
        formula="y = x·Wᵀ + b,  W ∈ ℝ^(out × in)",
        infer=_infer_linear,
        build=_build_linear,
        params=(int_param("out_features", 64, "Width of the output (number of units).", minimum=1), _BIAS),
        glyph="▦",
        key_params=("out_features",),
        has_weights=True,
    ),
    LayerSpec(
        type="Bilinear",
        category="Dense",
        title="Bilinear",
        summary="Mixes two feature vectors through a learned bilinear form.",
        explanation="Each output unit k computes x₁ᵀ·A_k·x₂ + b_k, capturing pairwise interactions.",
        formula="y_k = x₁ᵀ A_k x₂ + b_k",
        infer=_infer_bilinear,
        build=_build_bilinear,
        emit=_emit_bilinear,
        params=(int_param("out_features", 16, "Width of the output.", minimum=1), _BIAS),
        inputs=(PortSpec("in1", "First vector."), PortSpec("in2", "Second vector.")),
        glyph="⊗",
        key_params=("out_features",),
        has_weights=True,
    ),
]
