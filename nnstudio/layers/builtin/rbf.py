"""The radial basis function layer: a feature per centre, high near it and fading with distance."""

from __future__ import annotations

from nnstudio.layers.builtin.common import require_float
from nnstudio.layers.params import bool_param, choice_param, float_param, int_param
from nnstudio.layers.spec import Construct, Inputs, LayerSpec, ShapeError, TensorType

MODULES = "nnstudio.layers.block_modules."
CENTRE_INITS = ("random", "kmeans")


def _infer_rbf(params, inputs: Inputs) -> TensorType:
    x = inputs.one()
    require_float(x)
    if not x.shape:
        raise ShapeError(f"expects at least one feature dimension, got {x}", "in")
    return TensorType((*x.shape[:-1], params["centres"]))


def _build_rbf(params, types: Inputs) -> Construct:
    kwargs = {"in_features": types.one().shape[-1], "centres": params["centres"], "width": params["width"]}
    if not params["learn_widths"]:
        kwargs["learn_widths"] = False
    if params["centre_init"] != "random":
        kwargs["centre_init"] = params["centre_init"]
    return Construct(MODULES + "RBF", kwargs)


SPECS = [
    LayerSpec(
        type="RBF",
        category="Dense",
        title="Radial basis functions",
        summary="One Gaussian bump per centre: near a centre its feature is 1, far away 0.",
        explanation=(
            "Measures how close the input is to each of K learned centres, through a Gaussian of learned width. "
            "A linear layer on top makes an RBF network, a universal approximator whose every unit answers to "
            "one region of the input space. Centres start as N(0, 1) draws, or, with 'kmeans', on the k-means "
            "clusters of what reaches this node from the training set (computed when training starts; seeded). "
            "Acts on the last dimension."
        ),
        formula="φₖ(x) = exp(−‖x − cₖ‖² / 2σₖ²),  k = 1 … K",
        infer=_infer_rbf,
        build=_build_rbf,
        params=(
            int_param("centres", 16, "Number of centres K: the width of the output.", minimum=1),
            float_param("width", 1.0, "Starting width σ of every Gaussian, in input units.", 1e-6),
            bool_param("learn_widths", True, "Train each width with the centres; off keeps them at `width`."),
            choice_param("centre_init", "random", CENTRE_INITS, "Where centres start: N(0, 1) draws, or the "
                         "k-means clusters of the training data at this node (needs scikit-learn)."),
        ),
        glyph="◍",
        key_params=("centres", "centre_init"),
        has_weights=True,
    ),
]
