"""The self-organising map layer: an h×w grid of prototypes that the `som` recipe trains by competition."""

from __future__ import annotations

from nnstudio.layers.builtin.common import require_float
from nnstudio.layers.params import choice_param, int_param
from nnstudio.layers.spec import Construct, Inputs, LayerSpec, ShapeError, TensorType

MODULE = "nnstudio.layers.som_module.SOM"
TOPOLOGIES = ("rectangular", "hexagonal")  # grid_positions in som_module lays out both
SOM_INITS = ("random", "pca", "sample")
SOM_OUTPUTS = ("distances", "bmu")


def _infer_som(params, inputs: Inputs) -> TensorType:
    x = inputs.one()
    require_float(x)
    if not x.shape:
        raise ShapeError(f"expects at least one feature dimension, got {x}", "in")
    width = params["height"] * params["width"] if params["output"] == "distances" else 2
    return TensorType((*x.shape[:-1], width))


def _build_som(params, types: Inputs) -> Construct:
    kwargs = {"in_features": types.one().shape[-1], "height": params["height"], "width": params["width"]}
    for name, default in (("topology", "rectangular"), ("prototype_init", "random"), ("output", "distances")):
        if params[name] != default:
            kwargs[name] = params[name]
    return Construct(MODULE, kwargs)


def _check_som(params) -> list[tuple[str, str]]:
    if params["height"] * params["width"] < 2:
        return [("width", "a map needs at least 2 units (height × width), or every sample has the same best "
                          "match and nothing organises")]
    return []


SPECS = [
    LayerSpec(
        type="SOM",
        category="Competitive",
        title="Self-organising map",
        summary="An h×w grid of prototypes; similar inputs land on nearby units.",
        explanation=(
            "Kohonen's self-organising map: a grid of units, each holding a prototype vector of the input's "
            "size. The unit whose prototype is nearest an input is its best-matching unit (BMU). Trained with "
            "the 'som' recipe (training.recipe), each BMU and its grid neighbours move towards the inputs they "
            "win, so nearby units end up with similar prototypes and the grid becomes a 2-D map of the data. "
            "No gradients are involved: the prototypes are saved and exported with the weights, but no "
            "optimizer moves them. Output 'distances' gives the distance to every unit, row by row; 'bmu' "
            "gives the (row, column) of the best-matching unit. Acts on the last dimension. Prototypes start "
            "as N(0, 1) draws, on the plane of the data's first two principal components ('pca'), or on "
            "training samples drawn at random ('sample'); the recipe places the last two when it starts."
        ),
        formula="dₖ(x) = ‖x − wₖ‖,  BMU(x) = argminₖ dₖ(x),  k = 1 … h·w",
        infer=_infer_som,
        build=_build_som,
        check=_check_som,
        params=(
            int_param("height", 8, "Rows of the grid.", minimum=1, maximum=256),
            int_param("width", 8, "Columns of the grid.", minimum=1, maximum=256),
            choice_param("topology", "rectangular", TOPOLOGIES, "How units touch: 4 neighbours on a "
                         "rectangular grid, 6 on a hexagonal one (odd rows shifted by half a unit)."),
            choice_param("prototype_init", "random", SOM_INITS, "Where prototypes start: N(0, 1) draws, the "
                         "plane of the training data's two main principal axes, or random training samples (the "
                         "som recipe places the last two when training starts)."),
            choice_param("output", "distances", SOM_OUTPUTS, "What the layer returns: the distance to every "
                         "unit [.., h·w], or the best-matching unit's (row, column) [.., 2]."),
        ),
        glyph="▦",
        key_params=("height", "width", "topology"),
    ),
]
