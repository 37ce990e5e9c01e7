"""Element-wise non-linearities, plus Softmax and LogSoftmax over one dimension."""

from __future__ import annotations

from nnstudio.layers.builtin.common import require_float, torch_dim, trimmed
from nnstudio.layers.params import ParamSpec, bool_param, choice_param, float_param, int_param
from nnstudio.layers.spec import CheckFn, Construct, Inputs, LayerSpec, ShapeError, TensorType


def _same(params, inputs: Inputs) -> TensorType:
    x = inputs.one()
    require_float(x)
    return x


def _same_with_dim(params, inputs: Inputs) -> TensorType:
    x = _same(params, inputs)
    torch_dim(params["dim"], len(x.shape))
    return x


def _activation(type_name: str, target: str, summary: str, explanation: str, formula: str,
                params: tuple[ParamSpec, ...] = (), glyph: str = "∿", check: CheckFn | None = None) -> LayerSpec:
    names = tuple(p.name for p in params)
    uses_dim = "dim" in names

    def build(values, types: Inputs) -> Construct:
        kwargs = {name: values[name] for name in names}
        if uses_dim:
            kwargs["dim"] = torch_dim(values["dim"], len(types.one().shape))
        return Construct(target, kwargs)

    return LayerSpec(
        type=type_name,
        category="Activation",
        title=type_name,
        summary=summary,
        explanation=explanation,
        formula=formula,
        infer=_same_with_dim if uses_dim else _same,
        build=build,
        params=params,
        glyph=glyph,
        key_params=names[:1],
        check=check,
    )


def _check_hardtanh(params) -> list[tuple[str, str]]:
    if params["min_val"] >= params["max_val"]:
        return [("max_val", f"must be above min_val ({params['min_val']}), got {params['max_val']}")]
    return []


def _infer_prelu(params, inputs: Inputs) -> TensorType:
    x = _same(params, inputs)
    if params["per_channel"] and not x.shape:
        raise ShapeError(f"per_channel needs a channel dim (the first after the batch), got {x}", "in")
    return x


def _build_prelu(params, types: Inputs) -> Construct:
    kwargs = {"num_parameters": types.one().shape[0] if params["per_channel"] else 1, "init": params["slope_init"]}
    return Construct("torch.nn.PReLU", trimmed(kwargs, {"num_parameters": 1, "init": 0.25}))


_DIM = int_param("dim", -1, "Dimension to normalise over, counted without the batch (-1 = last).")

SPECS = [
    _activation("ReLU", "torch.nn.ReLU", "Keeps positives, zeroes negatives.",
                "The default hidden activation: cheap, and its gradient does not vanish for positive inputs. "
                "Units stuck below zero stop learning ('dead ReLU').", "f(x) = max(0, x)", glyph="⌐"),
    _activation("LeakyReLU", "torch.nn.LeakyReLU", "ReLU with a small slope for negatives.",
                "Lets a little gradient through for negative inputs so that units cannot die.",
                "f(x) = x if x > 0 else α·x",
                (float_param("negative_slope", 0.01, "Slope α for negative inputs.", minimum=0.0),), "⌐"),
    _activation("ELU", "torch.nn.ELU", "Smooth exponential curve for negatives.",
                "Negative outputs push mean activations towards zero, which can speed up learning.",
                "f(x) = x if x > 0 else α·(eˣ − 1)",
                (float_param("alpha", 1.0, "Saturation value α for negative inputs.", minimum=0.0),)),
    _activation("GELU", "torch.nn.GELU", "Gaussian-weighted gate, common in Transformers.",
                "Scales each input by the probability that a standard normal variable is below it.",
                "f(x) = x·Φ(x)",
                (choice_param("approximate", "none", ("none", "tanh"), "Exact erf form or tanh approximation."),)),
    _activation("SiLU", "torch.nn.SiLU", "Swish: the input times its sigmoid.",
                "A smooth, non-monotonic relative of ReLU used in many modern CNNs.", "f(x) = x·σ(x)"),
    _activation("Sigmoid", "torch.nn.Sigmoid", "Squashes to (0, 1).",
                "Turns a score into a probability for binary outputs. In hidden layers it saturates and "
                "gradients vanish.", "σ(x) = 1 / (1 + e⁻ˣ)", glyph="∫"),
    _activation("Tanh", "torch.nn.Tanh", "Squashes to (−1, 1), centred on zero.",
                "Zero-centred relative of the sigmoid; the classic RNN activation.",
                "tanh(x) = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ)", glyph="∫"),
    _activation("Softmax", "torch.nn.Softmax", "Turns scores into a probability distribution.",
                "Exponentiates and normalises so the values along dim sum to 1. For training with "
                "cross-entropy, feed raw logits to the loss instead: it applies log-softmax itself.",
                "softmax(x)ᵢ = eˣⁱ / Σⱼ eˣʲ", (_DIM,), glyph="Σ"),
    _activation("LogSoftmax", "torch.nn.LogSoftmax", "Log-probabilities; pairs with the NLL loss.",
                "A numerically stable log(softmax(x)).", "log_softmax(x)ᵢ = xᵢ − log Σⱼ eˣʲ", (_DIM,),
                glyph="Σ"),
    LayerSpec(
        type="PReLU",
        category="Activation",
        title="PReLU",
        summary="LeakyReLU whose negative slope is learned, shared or one per channel.",
        explanation=(
            "Like LeakyReLU, but the slope a for negative inputs is a weight that training adjusts. One slope "
            "for the whole layer, or one per channel (the first dim after the batch) as in the ResNets that "
            "introduced it. Do not use weight decay on it: that pulls the slope to zero, back to ReLU."
        ),
        formula="f(x) = x if x > 0 else a·x,  a learned (per channel with per_channel)",
        infer=_infer_prelu,
        build=_build_prelu,
        params=(
            bool_param("per_channel", False, "Learn one slope per channel instead of one for the layer."),
            float_param("slope_init", 0.25, "Starting value of the slope.", minimum=0.0),
        ),
        glyph="⌐",
        key_params=("per_channel",),
        has_weights=True,
    ),
    _activation("SELU", "torch.nn.SELU", "Self-normalising ELU: keeps activations near zero mean, unit variance.",
                "A scaled ELU whose constants are chosen so that, in a deep stack of Linear layers with "
                "LeCun-normal weights, activations converge to zero mean and unit variance by themselves: a "
                "plain MLP trains deep without BatchNorm. Pair it with AlphaDropout rather than Dropout.",
                "f(x) = λ·x if x > 0 else λ·α·(eˣ − 1),  λ ≈ 1.0507, α ≈ 1.6733"),
    _activation("Softplus", "torch.nn.Softplus", "A smooth ReLU whose output is always positive.",
                "log(1 + eˣ): close to ReLU far from zero but smooth everywhere, and strictly positive. Use it "
                "where an output must be positive, such as a standard deviation or a rate, or as a smooth "
                "hidden activation (in neural ODEs). Above threshold it returns x, to avoid overflow.",
                "f(x) = (1/β)·log(1 + e^(β·x));  f(x) = x where β·x > threshold",
                (float_param("beta", 1.0, "Sharpness β: larger is closer to ReLU.", minimum=1e-6),
                 float_param("threshold", 20.0, "Above β·x > threshold the layer returns x (for stability).",
                             minimum=0.0))),
    _activation("Mish", "torch.nn.Mish", "x · tanh(softplus(x)): a smooth, non-monotonic ReLU.",
                "A self-gated activation like SiLU, smooth and unbounded above, that lets small negative "
                "values through. Used in YOLOv4 and some other detectors; a drop-in replacement for ReLU.",
                "f(x) = x·tanh(log(1 + eˣ))"),
    _activation("Hardswish", "torch.nn.Hardswish", "A cheap piecewise-linear SiLU, from MobileNetV3.",
                "Approximates x·σ(x) with a clipped line instead of an exponential, which is faster on phones "
                "and quantises well. The activation of MobileNetV3's deeper layers.",
                "f(x) = x · min(max(x + 3, 0), 6) / 6"),
    _activation("Hardtanh", "torch.nn.Hardtanh", "Clips values into [min_val, max_val].",
                "The identity between the bounds and a constant outside: a cheap tanh, or torch.clamp as a "
                "layer (min_val 0, max_val 6 is ReLU6, used in MobileNets). The gradient is zero outside the "
                "bounds.", "f(x) = min(max(x, min_val), max_val)",
                (float_param("min_val", -1.0, "Lower bound."), float_param("max_val", 1.0, "Upper bound.")),
                glyph="⌐", check=_check_hardtanh),
]
