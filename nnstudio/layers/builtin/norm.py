"""Normalisation (BatchNorm, LayerNorm; GroupNorm and InstanceNorm in norm_groups) and regularisation (Dropout,
and the channel-wise Dropout1d and Dropout2d)."""

from __future__ import annotations

from nnstudio.layers.builtin.common import LAYOUT, require_float, require_rank, trimmed
from nnstudio.layers.builtin.norm_groups import GROUP_SPECS
from nnstudio.layers.params import bool_param, float_param, int_param
from nnstudio.layers.spec import Construct, Inputs, LayerSpec, ShapeError, TensorType

_BN_DEFAULTS = {"eps": 1e-5, "momentum": 0.1, "affine": True, "track_running_stats": True}

_BN_PARAMS = (
    float_param("eps", 1e-5, "Small constant added to the variance so that it never divides by zero.",
                minimum=0.0),
    float_param("momentum", 0.1, "Weight of the newest batch in the running mean and variance.",
                minimum=0.0, maximum=1.0),
    bool_param("affine", True, "Learn a per-channel scale γ and shift β after normalising."),
    bool_param("track_running_stats", True, "Keep running statistics for evaluation; off means batch "
               "statistics are used in evaluation too."),
)


def _bn_infer(ranks: tuple[int, ...], layout: str):
    def infer(params, inputs: Inputs) -> TensorType:
        x = inputs.one()
        require_float(x)
        require_rank(x, ranks, layout)
        return x

    return infer


def _bn_build(target: str):
    def build(params, types: Inputs) -> Construct:
        kwargs = {"num_features": types.one().shape[0], **params}
        return Construct(target, trimmed(kwargs, _BN_DEFAULTS))

    return build


def _batchnorm(type_name: str, ranks: tuple[int, ...], layout: str, summary: str, explanation: str) -> LayerSpec:
    return LayerSpec(
        type=type_name,
        category="Normalisation",
        title=type_name,
        summary=summary,
        explanation=explanation,
        formula="y = γ · (x − μ_batch) / √(σ²_batch + eps) + β, per channel",
        infer=_bn_infer(ranks, layout),
        build=_bn_build(f"torch.nn.{type_name}"),
        params=_BN_PARAMS,
        glyph="β",
        has_weights=True,
    )


def _infer_layernorm(params, inputs: Inputs) -> TensorType:
    x = inputs.one()
    require_float(x)
    if params["dims"] > len(x.shape):
        raise ShapeError(f"cannot normalise the last {params['dims']} dims of {x}: it has only "
                         f"{len(x.shape)} besides the batch", "in")
    return x


def _build_layernorm(params, types: Inputs) -> Construct:
    shape = types.one().shape[len(types.one().shape) - params["dims"]:]
    kwargs = {"normalized_shape": list(shape) if len(shape) > 1 else shape[0], "eps": params["eps"],
              "elementwise_affine": params["elementwise_affine"]}
    return Construct("torch.nn.LayerNorm", trimmed(kwargs, {"eps": 1e-5, "elementwise_affine": True}))


def _infer_dropout(params, inputs: Inputs) -> TensorType:
    x = inputs.one()
    require_float(x)
    return x


def _build_dropout(target: str):
    def build(params, types: Inputs) -> Construct:
        return Construct(target, {"p": params["p"]})

    return build


def _infer_channel_dropout(dims: int):
    def infer(params, inputs: Inputs) -> TensorType:
        x = inputs.one()
        require_float(x)
        require_rank(x, (dims + 1,), LAYOUT[dims])
        return x

    return infer


def _check_dropout(params) -> list[tuple[str, str]]:
    if params["p"] >= 1.0:
        return [("p", "must be below 1: dropping every unit leaves nothing to learn from")]
    return []


_P = float_param("p", 0.5, "Probability of zeroing each value (0 ≤ p < 1).", minimum=0.0, maximum=1.0)


def _channel_dropout(dims: int, summary: str, explanation: str) -> LayerSpec:
    return LayerSpec(
        type=f"Dropout{dims}d",
        category="Normalisation",
        title=f"Dropout{dims}d",
        summary=summary,
        explanation=explanation,
        formula="y[c] = m[c] · x[c] / (1 − p),  m[c] ~ Bernoulli(1 − p) per sample and channel while training",
        infer=_infer_channel_dropout(dims),
        build=_build_dropout(f"torch.nn.Dropout{dims}d"),
        params=(float_param("p", 0.5, "Probability of zeroing each whole channel (0 ≤ p < 1).", minimum=0.0,
                            maximum=1.0),),
        glyph="⁘",
        key_params=("p",),
        check=_check_dropout,
    )


SPECS = [
    _batchnorm("BatchNorm1d", (1, 2), "[N, features] or [N, channels, length]",
               "Normalises each feature (or channel of a sequence) over the batch.",
               "Rescales each feature to zero mean and unit variance using the current batch's statistics, "
               "then applies a learned scale and shift. Training becomes faster and less sensitive to the "
               "learning rate. In evaluation mode the running averages are used instead, so batch size 1 "
               "works there (but not while training)."),
    _batchnorm("BatchNorm2d", (3,), LAYOUT[2],
               "Normalises each channel of an image over the batch and all positions.",
               "The usual partner of Conv2d: every channel is standardised with the mean and variance over the "
               "batch, height and width, then scaled and shifted by learned values. Place it between a "
               "convolution and its activation; the convolution's bias then becomes redundant."),
    LayerSpec(
        type="LayerNorm",
        category="Normalisation",
        title="LayerNorm",
        summary="Normalises each sample over its last dims; independent of the batch.",
        explanation=(
            "Standardises the features of every sample (every time step of a sequence) on its own, so it "
            "behaves the same in training and evaluation and for any batch size. The standard choice in "
            "Transformers and recurrent networks."
        ),
        formula="y = γ · (x − μ) / √(σ² + eps) + β, μ and σ² over the last `dims` dims of each sample",
        infer=_infer_layernorm,
        build=_build_layernorm,
        params=(
            int_param("dims", 1, "How many trailing dims to normalise over together (1 = features only).",
                      minimum=1),
            float_param("eps", 1e-5, "Small constant added to the variance for stability.", minimum=0.0),
            bool_param("elementwise_affine", True, "Learn a scale γ and shift β for every normalised value."),
        ),
        glyph="λ",
        key_params=("dims",),
        has_weights=True,
    ),
    *GROUP_SPECS,
    LayerSpec(
        type="Dropout",
        category="Normalisation",
        title="Dropout",
        summary="Randomly zeroes a fraction p of values while training, to curb overfitting.",
        explanation=(
            "During training every value is dropped with probability p and the survivors are scaled up by "
            "1/(1 − p), so no unit can rely on any single other one. In evaluation it does nothing. Typical "
            "p is 0.1–0.5, placed after activations in the wider layers."
        ),
        formula="y = m ⊙ x / (1 − p),  m ~ Bernoulli(1 − p) while training;  y = x in evaluation",
        infer=_infer_dropout,
        build=_build_dropout("torch.nn.Dropout"),
        params=(_P,),
        glyph="⁘",
        key_params=("p",),
        check=_check_dropout,
    ),
    _channel_dropout(1, "Zeroes whole channels of a sequence at random while training.",
                     "Neighbouring steps of a convolutional feature map are strongly correlated, so dropping "
                     "single values regularises little: the neighbours carry the same information. Dropout1d "
                     "drops an entire channel of [C, L] at once, with probability p, and scales the rest by "
                     "1/(1 − p). Use it between Conv1d layers; it does nothing in evaluation."),
    _channel_dropout(2, "Zeroes whole channels of an image at random while training.",
                     "Spatial dropout: each channel of [C, H, W] is dropped as a whole with probability p, since "
                     "dropping single pixels of a feature map is undone by their correlated neighbours. Use it "
                     "between Conv2d layers; it does nothing in evaluation."),
]
