"""Upsample: resize feature maps by a fixed factor or to a fixed size, without weights.

Declared apart from pooling (which lists it in its SPECS, so it sits in the Pooling group next to its
opposite) because its shape rule depends on the mode: nearest works on 1, 2 or 3 spatial dims, the linear
modes each on one number of them.
"""

from __future__ import annotations

import math
from typing import Any

from nnstudio.layers.builtin.common import DIM_NAMES, LAYOUT, check_positive_dims, require_float, require_rank
from nnstudio.layers.params import ParamKind, ParamSpec, bool_param, choice_param
from nnstudio.layers.spec import Construct, Inputs, LayerSpec, ShapeError, TensorType

# mode -> the numbers of spatial dims it works on
MODES: dict[str, tuple[int, ...]] = {"nearest": (1, 2, 3), "linear": (1,), "bilinear": (2,), "trilinear": (3,)}


def _check(params) -> list[tuple[str, str]]:
    problems = []
    if (params["scale_factor"] is None) == (params["size"] is None):
        problems.append(("scale_factor", "set either scale_factor or size, not both and not neither"))
    if params["align_corners"] and params["mode"] == "nearest":
        problems.append(("align_corners", "only applies to the linear modes, not to nearest"))
    return problems


def _spatial(params, x: TensorType) -> int:
    dims = MODES[params["mode"]]
    require_float(x)
    require_rank(x, tuple(d + 1 for d in dims), " or ".join(LAYOUT[d] for d in dims))
    return len(x.shape) - 1


def _infer(params, inputs: Inputs) -> TensorType:
    x = inputs.one()
    dims = _spatial(params, x)
    if params["size"] is not None:
        if len(params["size"]) != dims:
            raise ShapeError(f"size {params['size']} gives {len(params['size'])} sizes, but {x} has {dims} "
                             f"spatial dims ({', '.join(DIM_NAMES[dims])})", "in")
        out = tuple(params["size"])
    else:
        out = tuple(math.floor(size * params["scale_factor"]) for size in x.shape[1:])
        check_positive_dims(out, DIM_NAMES[dims], x, f"scale_factor {params['scale_factor']}")
    return TensorType((x.shape[0], *out))


def _build(params, types: Inputs) -> Construct:
    kwargs: dict[str, Any] = {}
    if params["size"] is not None:
        kwargs["size"] = tuple(params["size"]) if len(params["size"]) > 1 else params["size"][0]
    else:
        kwargs["scale_factor"] = params["scale_factor"]
    kwargs["mode"] = params["mode"]
    if params["align_corners"]:
        kwargs["align_corners"] = True
    return Construct("torch.nn.Upsample", kwargs)


UPSAMPLE = LayerSpec(
    type="Upsample",
    category="Pooling",
    title="Upsample",
    summary="Enlarges feature maps by a factor or to a size, without weights: [C, H, W] → [C, s·H, s·W].",
    explanation=(
        "Resizes every channel: nearest copies each value into a block, the linear modes (linear for "
        "sequences, bilinear for images, trilinear for volumes) interpolate smoothly. Decoders and U-Nets "
        "use it followed by a Conv2d as a cheaper alternative to ConvTranspose2d that leaves no checkerboard "
        "artefacts. Set either scale_factor or size."
    ),
    formula="out = ⌊in · scale_factor⌋ per spatial dim (or size);  nearest: y[i] = x[⌊i / scale⌋]",
    infer=_infer,
    build=_build,
    params=(
        ParamSpec("scale_factor", ParamKind.FLOAT, 2.0, "Factor every spatial dim grows by; empty to give a size.",
                  minimum=1e-6, optional=True),
        ParamSpec("size", ParamKind.SHAPE, None, "Output size of each spatial dim, e.g. [32, 32]; empty to "
                  "use scale_factor.", optional=True),
        choice_param("mode", "nearest", tuple(MODES), "How new values are made: copied from the nearest input "
                     "or interpolated (linear: sequences, bilinear: images, trilinear: volumes)."),
        bool_param("align_corners", False, "Linear modes: align the corner pixels of input and output exactly "
                   "(torch's align_corners=True)."),
    ),
    glyph="▲",
    key_params=("scale_factor", "mode"),
    check=_check,
)
