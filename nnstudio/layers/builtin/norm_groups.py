"""Normalisation over each sample's own channels: GroupNorm and InstanceNorm (1-D and 2-D).

Unlike BatchNorm they never look across the batch, so they behave the same for batch size 1, in training
and in evaluation; style transfer, detection and small-batch training use them. norm.py lists them.
"""

from __future__ import annotations

from nnstudio.layers.builtin.common import LAYOUT, require_float, require_rank, trimmed
from nnstudio.layers.params import bool_param, float_param, int_param
from nnstudio.layers.spec import Construct, Inputs, LayerSpec, ShapeError, TensorType

_EPS = float_param("eps", 1e-5, "Small constant added to the variance so that it never divides by zero.",
                   minimum=0.0)


def _infer_group(params, inputs: Inputs) -> TensorType:
    x = inputs.one()
    require_float(x)
    if not x.shape:
        raise ShapeError(f"expects [N, channels, …], got {x}", "in")
    if x.shape[0] % params["num_groups"]:
        raise ShapeError(f"has {x.shape[0]} channels, which num_groups={params['num_groups']} does not divide",
                         "in")
    return x


def _build_group(params, types: Inputs) -> Construct:
    kwargs = {"num_groups": params["num_groups"], "num_channels": types.one().shape[0], "eps": params["eps"],
              "affine": params["affine"]}
    return Construct("torch.nn.GroupNorm", trimmed(kwargs, {"eps": 1e-5, "affine": True}))


_INSTANCE_DEFAULTS = {"eps": 1e-5, "momentum": 0.1, "affine": False, "track_running_stats": False}


def _infer_instance(dims: int):
    def infer(params, inputs: Inputs) -> TensorType:
        x = inputs.one()
        require_float(x)
        require_rank(x, (dims + 1,), LAYOUT[dims])
        positions = TensorType(x.shape[1:]).numel
        if positions < 2:
            raise ShapeError(f"needs more than one position per channel to normalise, got {x}", "in")
        return x

    return infer


def _build_instance(target: str):
    def build(params, types: Inputs) -> Construct:
        return Construct(target, trimmed({"num_features": types.one().shape[0], **params}, _INSTANCE_DEFAULTS))

    return build


def _instance(dims: int, explanation: str) -> LayerSpec:
    return LayerSpec(
        type=f"InstanceNorm{dims}d",
        category="Normalisation",
        title=f"InstanceNorm{dims}d",
        summary=f"Normalises each channel of each sample over its {'length' if dims == 1 else 'positions'}.",
        explanation=explanation,
        formula="y[n, c] = γ[c] · (x[n, c] − μ[n, c]) / √(σ²[n, c] + eps) + β[c], μ and σ² over positions",
        infer=_infer_instance(dims),
        build=_build_instance(f"torch.nn.InstanceNorm{dims}d"),
        params=(
            _EPS,
            float_param("momentum", 0.1, "Weight of the newest batch in the running statistics (if tracked).",
                        minimum=0.0, maximum=1.0),
            bool_param("affine", False, "Learn a per-channel scale γ and shift β after normalising."),
            bool_param("track_running_stats", False, "Keep running statistics and use them in evaluation "
                       "instead of each sample's own."),
        ),
        glyph="β",
        has_weights=True,
    )


GROUP_SPECS = [
    LayerSpec(
        type="GroupNorm",
        category="Normalisation",
        title="GroupNorm",
        summary="Normalises groups of channels within each sample; independent of the batch size.",
        explanation=(
            "Splits the channels into num_groups groups and standardises each group of each sample over its "
            "channels and positions, then applies a learned per-channel scale and shift. It works like "
            "BatchNorm where batches are small (detection, segmentation, large images), because it never "
            "averages over the batch. One group is LayerNorm over channels and positions; one group per "
            "channel is InstanceNorm."
        ),
        formula="y = γ · (x − μ_g) / √(σ²_g + eps) + β,  μ_g and σ²_g over the channels of group g and all "
                "positions of one sample",
        infer=_infer_group,
        build=_build_group,
        params=(
            int_param("num_groups", 4, "Number of channel groups; must divide the channels.", minimum=1),
            _EPS,
            bool_param("affine", True, "Learn a per-channel scale γ and shift β after normalising."),
        ),
        glyph="β",
        key_params=("num_groups",),
        has_weights=True,
    ),
    _instance(1, "Standardises every channel of every sequence [C, L] on its own, over its steps, so "
                 "the overall level and spread of a signal are removed. Useful where those vary from sample "
                 "to sample and carry no meaning (recording volume, sensor gain)."),
    _instance(2, "Standardises every channel of every image [C, H, W] on its own, over its height and width. "
                 "It removes per-image contrast, which is why style transfer and image generators use it "
                 "where BatchNorm would mix images of a batch."),
]
