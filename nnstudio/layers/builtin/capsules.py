"""Capsule networks (Sabour, Frosst and Hinton 2017): vectors instead of scalars, routed by agreement.

A capsule is a small vector whose direction describes a feature (its pose) and whose length, kept below 1 by
the squash non-linearity, says how likely the feature is present. PrimaryCapsules cuts a convolution's channels
into capsules; RoutingCapsules computes one capsule per class by dynamic routing; CapsuleLength turns the class
capsules into the scores [N, classes] that MarginLoss trains and whose argmax is the prediction.
"""

from __future__ import annotations

from nnstudio.layers.builtin.common import (
    check_positive_dims,
    require_float,
    require_rank,
    torch_dim,
    window_size,
)
from nnstudio.layers.params import int_param
from nnstudio.layers.spec import Construct, Inputs, LayerSpec, ShapeError, TensorType

MODULES = "nnstudio.layers.block_modules."
CAPSULES = "[N, capsules, capsule_dim]"


def _infer_primary(params, inputs: Inputs) -> TensorType:
    x = inputs.one()
    require_float(x)
    require_rank(x, (3,), "[N, channels, height, width]")
    kernel, stride, padding = params["kernel_size"], params["stride"], params["padding"]
    out = tuple(window_size(size, kernel, stride, padding) for size in x.shape[1:])
    check_positive_dims(out, ("height", "width"), x, f"kernel_size={kernel}, stride={stride}, padding={padding}")
    return TensorType((params["capsules"] * out[0] * out[1], params["capsule_dim"]))


def _build_primary(params, types: Inputs) -> Construct:
    kwargs = {"in_channels": types.one().shape[0], "capsules": params["capsules"],
              "capsule_dim": params["capsule_dim"], "kernel_size": params["kernel_size"]}
    kwargs.update({name: params[name] for name, default in (("stride", 1), ("padding", 0))
                   if params[name] != default})
    return Construct(MODULES + "PrimaryCapsules", kwargs)


def _infer_routing(params, inputs: Inputs) -> TensorType:
    u = inputs.one()
    require_float(u)
    require_rank(u, (2,), f"capsules {CAPSULES} (from PrimaryCapsules or another RoutingCapsules)")
    return TensorType((params["capsules"], params["capsule_dim"]))


def _build_routing(params, types: Inputs) -> Construct:
    in_capsules, in_dim = types.one().shape
    kwargs = {"in_capsules": in_capsules, "in_dim": in_dim, "capsules": params["capsules"],
              "capsule_dim": params["capsule_dim"]}
    if params["iterations"] != 3:
        kwargs["iterations"] = params["iterations"]
    return Construct(MODULES + "RoutingCapsules", kwargs)


def _infer_squash(params, inputs: Inputs) -> TensorType:
    x = inputs.one()
    require_float(x)
    if not x.shape:
        raise ShapeError(f"expects vectors to squash, got {x}", "in")
    torch_dim(params["dim"], len(x.shape))
    return x


def _build_squash(params, types: Inputs) -> Construct:
    x = types.one()
    dim = torch_dim(params["dim"], len(x.shape))
    return Construct(MODULES + "Squash", {} if dim == -1 or dim == len(x.shape) else {"dim": dim})


def _infer_length(params, inputs: Inputs) -> TensorType:
    v = inputs.one()
    require_float(v)
    require_rank(v, (2, 3, 4), f"capsules {CAPSULES}")
    return TensorType(v.shape[:-1])


def _build_length(params, types: Inputs) -> Construct:
    return Construct(MODULES + "CapsuleLength")


_CAPSULE_COUNT = int_param("capsules", 10, "Number of output capsules: one per class for a classifier.", 1)

SPECS = [
    LayerSpec(
        type="PrimaryCapsules",
        category="Capsules",
        title="Primary capsules",
        summary="A convolution read as capsules: [N, C, H, W] → [N, capsules·H'·W', dim].",
        explanation=(
            "The first capsule layer. A convolution with capsules × capsule_dim filters; at every position of "
            "its output each group of capsule_dim channels is one capsule vector, squashed so its length is "
            "below 1. Feed it the feature maps of a convolution or two."
        ),
        formula="u = squash(reshape(conv(x)))  ∈ ℝ^(capsules·H'·W' × dim)",
        infer=_infer_primary,
        build=_build_primary,
        params=(
            int_param("capsules", 8, "Capsule types (channels of capsules); each has one capsule per position.",
                      1),
            int_param("capsule_dim", 8, "Length of each capsule vector.", 1),
            int_param("kernel_size", 3, "Size of the convolution's square window.", 1),
            int_param("stride", 1, "Step between neighbouring windows; 2 halves the size.", 1),
            int_param("padding", 0, "Zeros added on each side before sliding the window.", 0),
        ),
        glyph="⊡",
        key_params=("capsules", "capsule_dim"),
        has_weights=True,
    ),
    LayerSpec(
        type="RoutingCapsules",
        category="Capsules",
        title="Routing capsules",
        summary="Capsules from capsules by dynamic routing: [N, I, d] → [N, capsules, dim].",
        explanation=(
            "Every input capsule predicts every output capsule through a matrix of its own. Routing by "
            "agreement then decides, in a few iterations, how much each input sends to each output: inputs "
            "whose prediction agrees with the emerging output send it more. Three iterations is what the paper "
            "uses; one iteration shares every input equally among the outputs (no routing). Memory grows with inputs × "
            "outputs × dim."
        ),
        formula="û_{j|i} = W_ij·u_i;  c = softmax_j(b);  v_j = squash(Σ_i c_ij û_{j|i});  b_ij += û_{j|i}·v_j",
        infer=_infer_routing,
        build=_build_routing,
        params=(
            _CAPSULE_COUNT,
            int_param("capsule_dim", 16, "Length of each output capsule vector.", 1),
            int_param("iterations", 3, "Routing iterations; 1 gives uniform coupling.", 1, 10),
        ),
        glyph="⇶",
        key_params=("capsules", "iterations"),
        has_weights=True,
    ),
    LayerSpec(
        type="Squash",
        category="Capsules",
        title="Squash",
        summary="Shrinks vectors to a length below 1, keeping their direction.",
        explanation=(
            "The capsule non-linearity: a short vector shrinks to almost nothing, a long one to almost unit "
            "length, so a vector's length can be read as a probability. `dim` is the vector dim, counted without "
            "the batch (-1, the last, by default)."
        ),
        formula="squash(s) = ‖s‖² / (1 + ‖s‖²) · s / ‖s‖",
        infer=_infer_squash,
        build=_build_squash,
        params=(int_param("dim", -1, "The dim that holds each vector, counted without the batch."),),
        glyph="⤓",
    ),
    LayerSpec(
        type="CapsuleLength",
        category="Capsules",
        title="Capsule length",
        summary="The length of each capsule: [N, capsules, dim] → [N, capsules].",
        explanation=(
            "Turns class capsules into class scores between 0 and 1: a capsule's length is how sure the network "
            "is that its class is present. Feed it to a MarginLoss and to the Output; the prediction is the "
            "longest capsule (the argmax)."
        ),
        formula="‖v_j‖ = √(Σ_d v_jd²)",
        infer=_infer_length,
        build=_build_length,
        glyph="‖v‖",
    ),
]
