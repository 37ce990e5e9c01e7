"""Pooling: shrink feature maps by summarising windows (max or mean), or whole maps at once."""

from __future__ import annotations

from typing import Any

from nnstudio.layers.builtin.common import (
    DIM_NAMES,
    LAYOUT,
    check_positive_dims,
    expand,
    require_float,
    require_rank,
    trimmed,
    window_param,
    window_size,
)
from nnstudio.layers.builtin.resize import UPSAMPLE
from nnstudio.layers.params import ParamSpec, bool_param, pair_param
from nnstudio.layers.spec import Construct, Inputs, LayerSpec, TensorType

_TORCH_DEFAULTS = {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False, "count_include_pad": True}


def _pool_params(dims: int, is_max: bool) -> tuple[ParamSpec, ...]:
    params = [
        window_param("kernel_size", 2, "Size of the window each output summarises.", dims, 1),
        window_param("stride", None, "Step between windows; empty means the kernel size (no overlap).", dims, 1,
                     optional=True),
        window_param("padding", 0, "Implicit border added on each side; at most half the kernel.", dims, 0),
    ]
    if is_max:
        params.append(window_param("dilation", 1, "Spacing between the positions a window reads.", dims, 1))
    params.append(bool_param("ceil_mode", False, "Round the output size up, so a partial last window counts."))
    if not is_max:
        params.append(bool_param("count_include_pad", True, "Count padded zeros when averaging border windows."))
    return tuple(params)


def _check_pool(dims: int):
    def check(params) -> list[tuple[str, str]]:
        kernel, padding = expand(params["kernel_size"], dims), expand(params["padding"], dims)
        dilation = expand(params.get("dilation", 1), dims)
        for k, p, d in zip(kernel, padding, dilation):
            if p > (d * (k - 1) + 1) // 2:
                return [("padding", f"must be at most half the window ({params['kernel_size']}), "
                                    f"got {params['padding']}")]
        return []

    return check


def _pool_infer(dims: int):
    def infer(params, inputs: Inputs) -> TensorType:
        x = inputs.one()
        require_float(x)
        require_rank(x, (dims + 1,), LAYOUT[dims])
        kernel = expand(params["kernel_size"], dims)
        stride = kernel if params["stride"] is None else expand(params["stride"], dims)
        padding = expand(params["padding"], dims)
        dilation = expand(params.get("dilation", 1), dims)
        out = tuple(window_size(size, k, s, p, d, params["ceil_mode"])
                    for size, k, s, p, d in zip(x.shape[1:], kernel, stride, padding, dilation))
        check_positive_dims(out, DIM_NAMES[dims], x, f"a pooling window of {params['kernel_size']}")
        return TensorType((x.shape[0], *out))

    return infer


def _pool_build(target: str):
    def build(params, types: Inputs) -> Construct:
        kwargs: dict[str, Any] = {"kernel_size": params["kernel_size"]}
        kwargs.update({name: value for name, value in params.items() if name != "kernel_size"})
        return Construct(target, trimmed(kwargs, _TORCH_DEFAULTS))

    return build


def _pool(type_name: str, dims: int, is_max: bool, summary: str, explanation: str, formula: str) -> LayerSpec:
    return LayerSpec(
        type=type_name,
        category="Pooling",
        title=type_name,
        summary=summary,
        explanation=explanation,
        formula=formula,
        infer=_pool_infer(dims),
        build=_pool_build(f"torch.nn.{type_name}"),
        params=_pool_params(dims, is_max),
        glyph="▼" if is_max else "▽",
        key_params=("kernel_size", "stride"),
        check=_check_pool(dims),
    )


def _infer_adaptive(params, inputs: Inputs) -> TensorType:
    x = inputs.one()
    require_float(x)
    require_rank(x, (3,), LAYOUT[2])
    return TensorType((x.shape[0], *expand(params["output_size"], 2)))


def _build_adaptive(params, types: Inputs) -> Construct:
    return Construct("torch.nn.AdaptiveAvgPool2d", trimmed({"output_size": params["output_size"]}, {}))


def _infer_global(params, inputs: Inputs) -> TensorType:
    x = inputs.one()
    require_float(x)
    require_rank(x, (2, 3), f"{LAYOUT[1]} or {LAYOUT[2]}")
    return TensorType((x.shape[0],))


def _emit_global(reduction: str):
    def emit(ctx, params, values: Inputs, types: Inputs):
        spatial = tuple(range(2, len(types.one().shape) + 1))
        return ctx.method(reduction, values.one(), dim=spatial[0] if len(spatial) == 1 else spatial)

    return emit


_WINDOW = "out = ⌊(in + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1 (⌈⌉ with ceil_mode)"
_AVG_WINDOW = "out = ⌊(in + 2·padding − kernel) / stride⌋ + 1 (⌈⌉ with ceil_mode)"

SPECS = [
    _pool("MaxPool1d", 1, True, "Keeps the largest value of each window along a sequence.",
          "Downsamples [C, L] by reporting only the strongest response in each window, which makes the "
          "features tolerant to small shifts in time.", f"y[c, t] = max over the window of x[c, ·];  {_WINDOW}"),
    _pool("MaxPool2d", 2, True, "Keeps the largest value of each window: halves H and W by default.",
          "The classic CNN downsampler. Each channel is cut into windows and only the maximum of each window "
          "survives, so what matters is whether a feature fired nearby, not exactly where.",
          f"y[c, i, j] = max over the window of x[c, ·, ·];  {_WINDOW} per dim"),
    _pool("MaxPool3d", 3, True, "Keeps the largest value of each window of a volume: halves D, H and W by default.",
          "MaxPool2d with one more spatial dim, for volumes [C, D, H, W] (scans, video clips): each channel is "
          "cut into cubes and only the maximum of each survives.",
          f"y[c, i, j, k] = max over the window of x[c, ·, ·, ·];  {_WINDOW} per dim"),
    _pool("AvgPool1d", 1, False, "Averages each window along a sequence.",
          "Downsamples [C, L] by replacing each window with its mean: a smoother alternative to max pooling.",
          f"y[c, t] = mean over the window of x[c, ·];  {_AVG_WINDOW}"),
    _pool("AvgPool2d", 2, False, "Averages each window of an image.",
          "Downsamples each channel by taking window means. It keeps more of the overall signal than max "
          "pooling, at the cost of blurring sharp responses.",
          f"y[c, i, j] = mean over the window of x[c, ·, ·];  {_AVG_WINDOW} per dim"),
    _pool("AvgPool3d", 3, False, "Averages each window of a volume.",
          "AvgPool2d with one more spatial dim: each cube of a [C, D, H, W] volume is replaced with its mean, a "
          "smoother downsampler than max pooling.",
          f"y[c, i, j, k] = mean over the window of x[c, ·, ·, ·];  {_AVG_WINDOW} per dim"),
    LayerSpec(
        type="AdaptiveAvgPool2d",
        category="Pooling",
        title="AdaptiveAvgPool2d",
        summary="Averages each channel down to a fixed output size, whatever the input size.",
        explanation=(
            "Chooses the windows itself so that the result always has the requested height and width. Put "
            "it before Flatten to make a CNN's classifier head independent of the image size."
        ),
        formula="y[c, i, j] = mean of x[c] over the (i, j)-th of an even out_h × out_w split",
        infer=_infer_adaptive,
        build=_build_adaptive,
        params=(pair_param("output_size", 1, "Height and width of the output.", minimum=1),),
        glyph="▽",
        key_params=("output_size",),
    ),
    LayerSpec(
        type="GlobalAvgPool",
        category="Pooling",
        title="Global average pool",
        summary="Averages every channel over all positions: [C, H, W] or [C, L] → [C].",
        explanation=(
            "Collapses each feature map to its mean, leaving one number per channel. Modern CNNs use it "
            "instead of a large flattened dense layer: it has no weights and works for any input size."
        ),
        formula="y[c] = mean over all positions p of x[c, p]",
        infer=_infer_global,
        emit=_emit_global("mean"),
        glyph="◎",
    ),
    LayerSpec(
        type="GlobalMaxPool",
        category="Pooling",
        title="Global max pool",
        summary="Keeps each channel's largest value over all positions: [C, H, W] or [C, L] → [C].",
        explanation=(
            "Reports, for every channel, how strongly its feature fired anywhere in the input. Useful when "
            "the presence of a pattern matters more than its frequency."
        ),
        formula="y[c] = max over all positions p of x[c, p]",
        infer=_infer_global,
        emit=_emit_global("amax"),
        glyph="◉",
    ),
    UPSAMPLE,
]
