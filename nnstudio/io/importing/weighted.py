"""Functions that take their weights as arguments: `F.linear(x, self.weight, self.bias)` and the like.

They become the catalogue layer with the same computation, its params read off the weights' shapes,
and the weights copied from the module attributes they name. A weight computed at run time (say
`self.w * 2`) has no layer that could own it, so it is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import fx

from nnstudio.io.importing.functions import Converted, Refused, arg


def _attribute(value: Any, what: str, name: str, optional: bool = False) -> fx.Node | None:
    """The get_attr node of a weight argument (None for an absent optional one)."""
    if value is None and optional:
        return None
    if not (isinstance(value, fx.Node) and value.op == "get_attr"):
        raise Refused(
            f"{what} with a {name} that is not a module attribute (self.{name}); only a tensor the "
            "module holds can become a layer's weights"
        )
    return value


def _shape(node: fx.Node) -> tuple[int, ...]:
    return tuple(int(d) for d in node.meta["tensor_meta"].shape)


def _input(node: fx.Node, what: str) -> fx.Node:
    x = arg(node, 0, "input")
    if not isinstance(x, fx.Node):
        raise Refused(f"{what} of a constant {x!r}")
    return x


def _weights(weight: fx.Node, bias: fx.Node | None) -> dict[str, fx.Node]:
    return {"weight": weight} | ({"bias": bias} if bias is not None else {})


def linear(node: fx.Node) -> Converted:
    what = "F.linear"
    x = _input(node, what)
    weight = _attribute(arg(node, 1, "weight"), what, "weight")
    bias = _attribute(arg(node, 2, "bias"), what, "bias", optional=True)
    out_features = _shape(weight)[0]
    return Converted(
        "Linear", {"out_features": out_features, "bias": bias is not None}, {"in": [x]}, weights=_weights(weight, bias)
    )


def conv(layer: str, dims: int) -> Callable[[fx.Node], Converted]:
    def convert(node: fx.Node) -> Converted:
        what = f"F.conv{dims}d"
        x = _input(node, what)
        weight = _attribute(arg(node, 1, "weight"), what, "weight")
        bias = _attribute(arg(node, 2, "bias"), what, "bias", optional=True)
        shape = _shape(weight)
        params: dict[str, Any] = {
            "out_channels": shape[0],
            "kernel_size": _window(list(shape[2:]), dims),
            "bias": bias is not None,
        }
        for position, (name, default) in enumerate(
            (("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1)), start=3
        ):
            value = arg(node, position, name, default)
            if isinstance(value, str):
                value = _padding_text(value, what)
            if isinstance(value, fx.Node):
                raise Refused(f"{what} with {name} computed at run time")
            params[name] = value if name == "groups" else _window(value, dims)
        return Converted(layer, params, {"in": [x]}, weights=_weights(weight, bias))

    return convert


def _window(value: Any, dims: int) -> Any:
    """torch's int or tuple as the layer's param: an int for 1-d layers, an int or [h, w] for 2-d ones."""
    if isinstance(value, (tuple, list)):
        values = [int(v) for v in value]
        return values[0] if dims == 1 and len(values) == 1 else values
    return value


def _padding_text(value: str, what: str) -> int:
    if value == "valid":
        return 0
    raise Refused(f"{what} with padding={value!r}: give the padding as numbers (the layer has no 'same')")


def layer_norm(node: fx.Node) -> Converted:
    what = "F.layer_norm"
    x = _input(node, what)
    shape = arg(node, 1, "normalized_shape")
    dims = len(shape) if isinstance(shape, (tuple, list)) else 1
    weight = _attribute(arg(node, 2, "weight"), what, "weight", optional=True)
    bias = _attribute(arg(node, 3, "bias"), what, "bias", optional=True)
    if (weight is None) != (bias is None):
        raise Refused(f"{what} with a weight but no bias (or the reverse); LayerNorm learns both or neither")
    eps = arg(node, 4, "eps", 1e-5)
    weights = _weights(weight, bias) if weight is not None else {}
    return Converted(
        "LayerNorm", {"dims": dims, "eps": eps, "elementwise_affine": weight is not None}, {"in": [x]}, weights=weights
    )


def embedding(node: fx.Node) -> Converted:
    what = "F.embedding"
    x = _input(node, what)
    weight = _attribute(arg(node, 1, "weight"), what, "weight")
    count, size = _shape(weight)[:2]
    padding = arg(node, 2, "padding_idx")
    for position, (name, default) in enumerate(
        (("max_norm", None), ("norm_type", 2.0), ("scale_grad_by_freq", False), ("sparse", False)), start=3
    ):
        value = arg(node, position, name, default)
        if value != default:
            raise Refused(f"{what} with {name}={value!r}: the Embedding layer has no param for it")
    if isinstance(padding, int) and padding < 0:
        padding += count
    return Converted(
        "Embedding",
        {"num_embeddings": count, "embedding_dim": size, "padding_idx": padding},
        {"in": [x]},
        weights={"weight": weight},
    )


def conv_transpose1d(node: fx.Node) -> Converted:
    """F.conv_transpose1d: its weight is [in, out / groups, kernel], the layout nn.ConvTranspose1d keeps."""
    what = "F.conv_transpose1d"
    x = _input(node, what)
    weight = _attribute(arg(node, 1, "weight"), what, "weight")
    bias = _attribute(arg(node, 2, "bias"), what, "bias", optional=True)
    params: dict[str, Any] = {"kernel_size": _shape(weight)[2], "bias": bias is not None}
    for position, (name, default) in enumerate(
        (("stride", 1), ("padding", 0), ("output_padding", 0), ("groups", 1), ("dilation", 1)), start=3
    ):
        value = arg(node, position, name, default)
        if isinstance(value, fx.Node):
            raise Refused(f"{what} with {name} computed at run time")
        params[name] = value if name == "groups" else _window(value, 1)
    params["out_channels"] = _shape(weight)[1] * params["groups"]
    return Converted("ConvTranspose1d", params, {"in": [x]}, weights=_weights(weight, bias))


def _affine(node: fx.Node, what: str, layer: str, weight_at: int) -> tuple[fx.Node, dict[str, fx.Node]]:
    """The input and the optional (weight, bias) pair of a normalisation function, both or neither."""
    x = _input(node, what)
    weight = _attribute(arg(node, weight_at, "weight"), what, "weight", optional=True)
    bias = _attribute(arg(node, weight_at + 1, "bias"), what, "bias", optional=True)
    if (weight is None) != (bias is None):
        raise Refused(f"{what} with a weight but no bias (or the reverse); {layer} learns both or neither")
    return x, _weights(weight, bias) if weight is not None else {}


def group_norm(node: fx.Node) -> Converted:
    what = "F.group_norm"
    x, weights = _affine(node, what, "GroupNorm", 2)
    groups = arg(node, 1, "num_groups")
    if not isinstance(groups, int):
        raise Refused(f"{what} with num_groups={groups!r}: a layer param is a constant integer")
    params = {"num_groups": groups, "eps": arg(node, 4, "eps", 1e-5), "affine": bool(weights)}
    return Converted("GroupNorm", params, {"in": [x]}, weights=weights)


def instance_norm(node: fx.Node) -> Converted:
    what = "F.instance_norm"
    x, weights = _affine(node, what, "InstanceNorm", 3)
    if arg(node, 1, "running_mean") is not None or arg(node, 2, "running_var") is not None:
        raise Refused(f"{what} with running statistics: use nn.InstanceNorm with track_running_stats=True")
    if arg(node, 5, "use_input_stats", True) is not True:
        raise Refused(f"{what} with use_input_stats off needs running statistics, which it is not given")
    rank = len(_shape(x)) - 1
    if rank not in (2, 3):
        raise Refused(f"{what} of a tensor with {rank} dims besides the batch; InstanceNorm1d takes "
                      "[N, C, L] and InstanceNorm2d [N, C, H, W]")
    params = {"eps": arg(node, 7, "eps", 1e-5), "affine": bool(weights)}
    return Converted(f"InstanceNorm{rank - 1}d", params, {"in": [x]}, weights=weights)


def prelu(node: fx.Node) -> Converted:
    what = "F.prelu"
    x = _input(node, what)
    weight = _attribute(arg(node, 1, "weight"), what, "weight")
    count = _shape(weight)[0] if _shape(weight) else 1
    channels = _shape(x)[1] if len(_shape(x)) > 1 else 1
    if count not in (1, channels) or len(_shape(weight)) > 1:
        raise Refused(f"{what} with a weight of shape {list(_shape(weight))}: PReLU learns one slope or one "
                      f"per channel ({channels})")
    return Converted("PReLU", {"per_channel": count > 1}, {"in": [x]}, weights={"weight": weight})
