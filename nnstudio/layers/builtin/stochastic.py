"""Blocks that objectives need besides losses: sampling, training-time noise, splitting, relabelling.

A VAE's encoder ends in one tensor that Split cuts into mu and logvar, GaussianSample draws the code, and
GaussianKLLoss regularises it. A denoising autoencoder corrupts its input with GaussianNoise, which is only
active while training. ClassMap derives a second target from the first (digit → even/odd) for multi-task nets.
"""

from __future__ import annotations

from nnstudio.layers.builtin.common import axis, require_float, require_int, torch_dim
from nnstudio.layers.params import ParamKind, ParamSpec, bool_param, float_param, int_param
from nnstudio.layers.spec import Construct, Inputs, LayerSpec, PortSpec, ShapeError, TensorType

MODULES = "nnstudio.layers.objective_modules."


def _infer_sample(params, inputs: Inputs) -> TensorType:
    mu, logvar = inputs.one("mu"), inputs.one("logvar")
    require_float(mu, "mu")
    require_float(logvar, "logvar")
    if mu.shape != logvar.shape:
        raise ShapeError(f"mu is {mu} but logvar is {logvar}; their shapes must match", "logvar")
    return mu


def _emit_sample(ctx, params, values: Inputs, types: Inputs):
    kwargs = {"sample_in_eval": True} if params["sample_in_eval"] else {}
    return ctx.module(Construct(MODULES + "GaussianSample", kwargs), values.one("mu"), values.one("logvar"))


def _infer_noise(params, inputs: Inputs) -> TensorType:
    x = inputs.one()
    require_float(x)
    return x


def _build_noise(params, types: Inputs) -> Construct:
    return Construct(MODULES + "GaussianNoise", {"std": params["std"]})


def _split_sizes(params, x: TensorType) -> tuple[int, int, int]:
    """(axis into the non-batch shape, size of the first part, size of the second part)."""
    if not x.shape:
        raise ShapeError(f"has nothing to split in {x}", "in")
    index = axis(params["dim"], len(x.shape))
    total = x.shape[index]
    first = params["first"] if params["first"] is not None else total // 2
    if not 1 <= first < total:
        what = f"first={first}" if params["first"] is not None else "halves"
        raise ShapeError(f"cannot split dim {params['dim']} of {x} (size {total}) into {what}: each part needs at "
                         "least one entry", "in")
    return index, first, total - first


def _infer_split(params, inputs: Inputs) -> tuple[TensorType, TensorType]:
    x = inputs.one()
    index, first, second = _split_sizes(params, x)
    shape = list(x.shape)
    parts = []
    for size in (first, second):
        shape[index] = size
        parts.append(TensorType(tuple(shape), x.dtype))
    return parts[0], parts[1]


def _emit_split(ctx, params, values: Inputs, types: Inputs):
    x = types.one()
    index, first, second = _split_sizes(params, x)
    parts = ctx.function("torch.split", values.one(), [first, second], dim=torch_dim(index, len(x.shape)))
    return ctx.function("operator.getitem", parts, 0), ctx.function("operator.getitem", parts, 1)


def _infer_class_map(params, inputs: Inputs) -> TensorType:
    y = inputs.one()
    require_int(y)
    return y


def _build_class_map(params, types: Inputs) -> Construct:
    return Construct(MODULES + "ClassMap", {"table": list(params["table"])})


SPECS = [
    LayerSpec(
        type="GaussianSample",
        category="Stochastic",
        title="Gaussian sample",
        summary="Draws z = mu + σ · ε: the reparameterisation trick.",
        explanation=(
            "Samples a code from N(mu, exp(logvar)) in a way gradients can flow through: the randomness is in ε, "
            "not in the parameters. The heart of a variational autoencoder. In eval mode (validation, export) it "
            "returns mu, the most likely code, unless 'sample in eval' is on."
        ),
        formula="z = mu + exp(logvar / 2) · ε,  ε ~ N(0, I)",
        infer=_infer_sample,
        emit=_emit_sample,
        params=(bool_param("sample_in_eval", False, "Draw samples in eval mode too, instead of returning mu."),),
        inputs=(PortSpec("mu", "The mean of the code."), PortSpec("logvar", "Its log-variance, of the same shape.")),
        glyph="ε",
    ),
    LayerSpec(
        type="GaussianNoise",
        category="Stochastic",
        title="Gaussian noise",
        summary="Adds N(0, std²) noise while training only.",
        explanation=(
            "Corrupts its input during training and passes it through unchanged in eval mode. Placed after the "
            "Input of an autoencoder whose target is the clean input, it makes a denoising autoencoder; elsewhere "
            "it is a regulariser, like dropout."
        ),
        formula="y = x + std · ε while training, y = x in eval",
        infer=_infer_noise,
        build=_build_noise,
        params=(float_param("std", 0.3, "Standard deviation of the added noise.", 0.0),),
        key_params=("std",),
        glyph="~",
    ),
    LayerSpec(
        type="Split",
        category="Shape",
        title="Split",
        summary="Cuts a tensor in two along one dim.",
        explanation=(
            "Gives the first `first` entries of a dim on one port and the rest on the other; with `first` empty it "
            "cuts in halves. A VAE encoder ends in 2·D units that Split turns into mu and logvar. `dim` counts "
            "the dims after the batch (0 is the first of them, -1 the last)."
        ),
        formula="first, second = x[..., :k], x[..., k:]",
        infer=_infer_split,
        emit=_emit_split,
        params=(int_param("dim", -1, "The dim to split, counted without the batch."),
                int_param("first", None, "Size of the first part; empty for half.", 1, optional=True)),
        outputs=(PortSpec("first", "The first part."), PortSpec("second", "The rest.")),
        key_params=("dim",),
        glyph="÷",
    ),
    LayerSpec(
        type="ClassMap",
        category="Shape",
        title="Class map",
        summary="Relabels class indices through a table: table[y].",
        explanation=(
            "Derives a new class target from an existing one, for multi-task nets: a table of 0, 1, 0, 1, … turns "
            "digit labels into even/odd labels. Entry i is the new class of old class i."
        ),
        formula="y' = table[y]",
        infer=_infer_class_map,
        build=_build_class_map,
        params=(ParamSpec("table", ParamKind.INT_LIST, [0, 1, 0, 1, 0, 1, 0, 1, 0, 1],
                          "New class of each old class, in order (the default: even or odd digit).", minimum=0),),
        key_params=("table",),
        glyph="↦",
    ),
]
