"""Element-wise non-linearities, plus Softmax and LogSoftmax over one dimension."""

from __future__ import annotations

from nnstudio.layers.builtin.common import require_float, torch_dim
from nnstudio.layers.params import ParamSpec, choice_param, float_param, int_param
from nnstudio.layers.spec import Construct, Inputs, LayerSpec, TensorType


def _same(params, inputs: Inputs) -> TensorType:
    x = inputs.one()
    require_float(x)
    return x


def _same_with_dim(params, inputs: Inputs) -> TensorType:
    x = _same(params, inputs)
    torch_dim(params["dim"], len(x.shape))
    return x


def _activation(type_name: str, target: str, summary: str, explanation: str, formula: str,
                params: tuple[ParamSpec, ...] = (), glyph: str = "∿") -> LayerSpec:
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
    )


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
]
