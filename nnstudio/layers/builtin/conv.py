"""Convolutions over sequences ([C, L]), images ([C, H, W]) and volumes ([C, D, H, W]), plus the transposed
(upsampling) kind."""

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
from nnstudio.layers.params import ParamSpec, bool_param, choice_param, int_param
from nnstudio.layers.spec import Construct, Inputs, LayerSpec, ShapeError, TensorType

_TORCH_DEFAULTS = {"stride": 1, "padding": 0, "output_padding": 0, "dilation": 1, "groups": 1, "bias": True,
                   "padding_mode": "zeros"}


def _conv_params(dims: int, transposed: bool) -> tuple[ParamSpec, ...]:
    params = [
        int_param("out_channels", 16, "Number of filters, i.e. channels of the output.", minimum=1),
        window_param("kernel_size", 3, "Size of each filter's window.", dims, 1),
        window_param("stride", 1, "Step between neighbouring windows; 2 halves the size.", dims, 1),
        window_param("padding", 0, "Zeros added on each side before sliding the window.", dims, 0),
    ]
    if transposed:
        params.append(window_param("output_padding", 0, "Extra rows/columns added on one side of the output "
                                   "to pick between the sizes a stride can produce.", dims, 0))
    params += [
        window_param("dilation", 1, "Spacing between kernel taps; > 1 widens the view for free.", dims, 1),
        int_param("groups", 1, "Split channels into this many independent groups (channels = depthwise).",
                  minimum=1),
        bool_param("bias", True, "Learn one additive bias per output channel."),
    ]
    if not transposed:
        params.append(choice_param("padding_mode", "zeros", ("zeros", "reflect", "replicate", "circular"),
                                   "What the padding contains: zeros, a mirror image, the edge value, "
                                   "or the opposite edge."))
    return tuple(params)


def _check_conv(dims: int):
    def check(params) -> list[tuple[str, str]]:
        problems = []
        if params["out_channels"] % params["groups"]:
            problems.append(("groups", f"must divide out_channels ({params['out_channels']}), "
                                       f"got {params['groups']}"))
        if "output_padding" in params:
            for extra, step, dilation in zip(*(expand(params[n], dims)
                                               for n in ("output_padding", "stride", "dilation"))):
                if extra >= max(step, dilation):
                    problems.append(("output_padding", f"must be smaller than stride or dilation, "
                                                       f"got {params['output_padding']}"))
                    break
        return problems

    return check


def _conv_infer(dims: int, transposed: bool):
    def infer(params, inputs: Inputs) -> TensorType:
        x = inputs.one()
        require_float(x)
        require_rank(x, (dims + 1,), LAYOUT[dims])
        channels, spatial = x.shape[0], x.shape[1:]
        if channels % params["groups"]:
            raise ShapeError(f"has {channels} input channels, which groups={params['groups']} does not divide",
                             "in")
        kernel, stride, padding, dilation = (expand(params[n], dims)
                                             for n in ("kernel_size", "stride", "padding", "dilation"))
        if transposed:
            extra = expand(params["output_padding"], dims)
            out = tuple((size - 1) * s - 2 * p + d * (k - 1) + e + 1
                        for size, k, s, p, d, e in zip(spatial, kernel, stride, padding, dilation, extra))
        else:
            _check_padding_mode(params["padding_mode"], spatial, padding, x)
            out = tuple(window_size(size, k, s, p, d)
                        for size, k, s, p, d in zip(spatial, kernel, stride, padding, dilation))
        hint = f"kernel {params['kernel_size']}, dilation {params['dilation']} and padding {params['padding']}"
        check_positive_dims(out, DIM_NAMES[dims], x, hint)
        return TensorType((params["out_channels"], *out))

    return infer


def _check_padding_mode(mode: str, spatial: tuple[int, ...], padding: tuple[int, ...], x: TensorType) -> None:
    limit = {"reflect": 0, "circular": 1}.get(mode)
    if limit is None:
        return
    for size, pad in zip(spatial, padding):
        if pad >= size + limit:
            raise ShapeError(f"cannot use {mode} padding of {pad} on {x}: each padded dim must be larger "
                             f"than {pad - limit}", "in")


def _conv_build(target: str, dims: int):
    def build(params, types: Inputs) -> Construct:
        kwargs: dict[str, Any] = {"in_channels": types.one().shape[0], "out_channels": params["out_channels"],
                                  "kernel_size": params["kernel_size"]}
        kwargs.update({name: value for name, value in params.items() if name not in kwargs})
        return Construct(target, trimmed(kwargs, _TORCH_DEFAULTS))

    return build


def _conv(type_name: str, dims: int, title: str, summary: str, explanation: str, formula: str,
          transposed: bool = False) -> LayerSpec:
    return LayerSpec(
        type=type_name,
        category="Convolution",
        title=title,
        summary=summary,
        explanation=explanation,
        formula=formula,
        infer=_conv_infer(dims, transposed),
        build=_conv_build(f"torch.nn.{type_name}", dims),
        params=_conv_params(dims, transposed),
        glyph={1: "⊟", 2: "⊞", 3: "▣"}[dims],
        key_params=("out_channels", "kernel_size", "stride"),
        has_weights=True,
        check=_check_conv(dims),
    )


_OUT_SIZE = "out = ⌊(in + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1"

SPECS = [
    _conv("Conv1d", 1, "Conv1d", "Slides learned filters along a sequence: [C, L] → [C', L'].",
          "Each filter looks at a short window of consecutive steps across all input channels and is "
          "reused at every position, so it detects a local pattern wherever it occurs. Suits audio, "
          "sensor signals and other series laid out channels-first.",
          f"y[c', t] = b[c'] + Σ_c Σ_k W[c', c, k] · x[c, t·stride + k·dilation − padding];  {_OUT_SIZE}"),
    _conv("Conv2d", 2, "Conv2d", "Slides learned filters over an image: [C, H, W] → [C', H', W'].",
          "The workhorse of image models. Every filter spans a small patch of the image across all input "
          "channels and shares its weights over all positions, which makes it cheap and translation-"
          "equivariant. Stacking them grows the region each output unit sees.",
          f"y[c', i, j] = b[c'] + Σ_c Σ_(u,v) W[c', c, u, v] · x[c, i·s + u·d − p, j·s + v·d − p];  "
          f"{_OUT_SIZE} per dim"),
    _conv("Conv3d", 3, "Conv3d", "Slides learned filters through a volume: [C, D, H, W] → [C', D', H', W'].",
          "Conv2d with one more spatial dim: each filter spans a small cube across all input channels. Suits "
          "volumetric scans (CT, MRI), video read as frames × height × width, and other data on a 3-D grid. "
          "It is costly: the work grows with the cube of the kernel size, so keep kernels small.",
          f"y[c', i, j, k] = b[c'] + Σ_c Σ_(u,v,w) W[c', c, u, v, w] · x[c, i·s + u·d − p, …];  "
          f"{_OUT_SIZE} per dim"),
    _conv("ConvTranspose1d", 1, "ConvTranspose1d", "Learned upsampling of a sequence: the mirror image of a "
          "strided Conv1d.",
          "Spreads every input step over a window of the output, weighted by the filter, and sums the overlaps. "
          "With stride 2 it roughly doubles the length: the decoder half of a 1-D autoencoder, or a vocoder "
          "growing audio from coarse features. output_padding settles the exact length when several fit.",
          "out = (in − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1",
          transposed=True),
    _conv("ConvTranspose2d", 2, "ConvTranspose2d", "Learned upsampling: the mirror image of a strided Conv2d.",
          "Spreads every input pixel over a window of the output, weighted by the filter, and sums the "
          "overlaps. With stride 2 it roughly doubles height and width, which is how decoders, U-Nets and "
          "GAN generators grow images back. output_padding settles the exact size when several fit.",
          "out = (in − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1",
          transposed=True),
]
