"""LearnedTensor: a trained tensor that is not computed from the input (learned positions, a class token)."""

from __future__ import annotations

from nnstudio.layers.params import ParamKind, ParamSpec, choice_param
from nnstudio.layers.spec import Construct, Inputs, LayerSpec, PortSpec, TensorType

INITS = ("normal", "zeros")  # the module (nnstudio.layers.tensor_module) reads them from here


def _infer(params, inputs: Inputs) -> TensorType:
    return TensorType(tuple(params["shape"]))


def _build(params, types: Inputs) -> Construct:
    return Construct(
        "nnstudio.layers.tensor_module.LearnedTensor", {"shape": list(params["shape"]), "init": params["init"]}
    )


SPECS = [
    LayerSpec(
        type="LearnedTensor",
        category="Dense",
        title="Learned tensor",
        summary="A trained tensor of a fixed shape, the same for every sample: learned positions, a class token.",
        explanation=(
            "Holds one tensor of weights that training adjusts like any other, but that no input computes. "
            "Add it to a sequence [T, E] as learned positions, or concatenate it as a class token. Its input is "
            "only read for the batch size, so each sample gets its own copy; wire it from the Input."
        ),
        formula="y[n] = W for every sample n of the batch",
        infer=_infer,
        build=_build,
        params=(
            ParamSpec("shape", ParamKind.SHAPE, [16], "Shape of the tensor, batch dimension excluded."),
            choice_param("init", "normal", INITS, "Starting values: small random numbers (std 0.02) or zeros."),
        ),
        inputs=(PortSpec("in", "Any tensor; only its batch size is read."),),
        glyph="W",
        key_params=("shape",),
        has_weights=True,
    ),
]
