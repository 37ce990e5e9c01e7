"""Convert the functions and tensor methods of a traced model into catalogue layers.

Each converter reads the call's arguments and returns the layer type, its params and the user
nodes feeding each port, or raises Refused with a reason. Dims are translated from torch's
counting (batch included) to nnstudio's (batch excluded); a call that touches the batch dim has no
layer and is refused. Whether the result computes the same thing is checked afterwards, when the
whole imported graph is compared with the original model.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx


class Refused(Exception):
    """This call has no nnstudio layer; the message says why."""


@dataclass
class Converted:
    type: str
    params: dict[str, Any]
    inputs: dict[str, list[fx.Node]]
    helpers: list[fx.Node] = field(default_factory=list)  # batch-size expressions the call used


def arg(node: fx.Node, index: int, name: str, default: Any = None) -> Any:
    """A call's argument by position (counting the tensor as 0 for methods) or by keyword."""
    if index < len(node.args):
        return node.args[index]
    return node.kwargs.get(name, default)


def rank_of(node: Any) -> int:
    """Dims of a tensor value without the batch dim, from the shapes recorded while tracing."""
    meta = node.meta.get("tensor_meta") if isinstance(node, fx.Node) else None
    if meta is None or not hasattr(meta, "shape"):
        raise Refused(f"{node} is not a tensor nnstudio can follow")
    return len(meta.shape) - 1


def shape_of(node: fx.Node) -> tuple[int, ...]:
    return tuple(node.meta["tensor_meta"].shape)


def layer_dim(dim: Any, rank: int, what: str) -> int:
    """torch dim (batch is 0) -> nnstudio dim (batch excluded); refuses the batch dim itself."""
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise Refused(f"{what} along {dim!r}: only a single constant dim can become a layer param")
    full = dim + rank + 1 if dim < 0 else dim
    if full == 0:
        raise Refused(f"{what} along the batch dimension (dim 0), which no nnstudio layer does")
    if not 0 < full <= rank:
        raise Refused(f"{what}: dim {dim} is out of range")
    return dim if dim < 0 else dim - 1


def _tensor(value: Any, what: str) -> fx.Node:
    if not isinstance(value, fx.Node):
        raise Refused(f"{what} with a constant {value!r}; nnstudio layers combine tensors only")
    return value


def is_batch_size(value: Any, helpers: list[fx.Node]) -> bool:
    """x.size(0), x.shape[0] or x.size()[0]: the batch size, recorded as a helper node."""
    if not isinstance(value, fx.Node):
        return False
    if value.op == "call_method" and value.target == "size" and arg(value, 1, "dim") == 0:
        helpers.append(value)
        return True
    if value.op == "call_function" and value.target is operator.getitem and value.args[1] == 0:
        source = value.args[0]
        whole = isinstance(source, fx.Node) and (
            (source.op == "call_function" and source.target is getattr and source.args[1] == "shape")
            or (source.op == "call_method" and source.target == "size" and arg(source, 1, "dim") is None))
        if whole:
            helpers.extend([value, source])
            return True
    return False


def is_helper(node: fx.Node) -> bool:
    """Nodes that compute sizes rather than tensors; they are consumed by the reshape that uses them."""
    if node.op == "call_method" and node.target == "size":
        return True
    if node.op == "call_function" and node.target is getattr and node.args[1] == "shape":
        return True
    return node.op == "call_function" and node.target is operator.getitem and isinstance(node.args[0], fx.Node) \
        and is_helper(node.args[0])


# --- converters ----------------------------------------------------------------------------
def _merge(layer: str, verb: str) -> Callable[[fx.Node], Converted]:
    def convert(node: fx.Node) -> Converted:
        if node.kwargs.get("alpha", 1) != 1:
            raise Refused(f"{verb} with alpha={node.kwargs['alpha']}")
        a, b = (_tensor(v, verb) for v in node.args[:2])
        if shape_of(a) != shape_of(b):
            raise Refused(f"{verb} of tensors with different shapes {list(shape_of(a))} and "
                          f"{list(shape_of(b))} (broadcasting has no layer)")
        return Converted(layer, {}, {"inputs": [a, b]})

    return convert


def _concat(node: fx.Node) -> Converted:
    tensors = arg(node, 0, "tensors")
    if not isinstance(tensors, (list, tuple)) or len(tensors) < 2:
        raise Refused("concatenating fewer than two tensors")
    items = [_tensor(t, "concatenating") for t in tensors]
    dim = layer_dim(arg(node, 1, "dim", 0), rank_of(items[0]), "concatenating")
    return Converted("Concat", {"dim": dim}, {"inputs": items})


def _flatten(node: fx.Node) -> Converted:
    x = _tensor(node.args[0], "flattening")
    rank = rank_of(x)
    start = layer_dim(arg(node, 1, "start_dim", 0), rank, "flattening from")
    end = layer_dim(arg(node, 2, "end_dim", -1), rank, "flattening up to")
    return Converted("Flatten", {"start_dim": start, "end_dim": end}, {"in": [x]})


def _reshape(node: fx.Node) -> Converted:
    x = _tensor(node.args[0], "reshaping")
    sizes = list(node.args[1:]) if node.op == "call_method" else [arg(node, 1, "shape")]
    if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
        sizes = list(sizes[0])
    helpers: list[fx.Node] = []
    if not sizes:
        raise Refused("reshaping without a shape")
    first, rest = sizes[0], sizes[1:]
    keeps_batch = is_batch_size(first, helpers) or (first == -1 and rest and -1 not in rest
                                                     and all(isinstance(s, int) for s in rest))
    if not keeps_batch:
        raise Refused(f"reshaping to {sizes}: the first size must be the batch size "
                      "(x.size(0) or -1), since nnstudio layers keep the batch dimension")
    if any(isinstance(s, fx.Node) for s in rest):
        raise Refused("reshaping to sizes computed at run time; only the batch size may vary")
    return Converted("Reshape", {"shape": list(shape_of(node)[1:])}, {"in": [x]}, helpers)


def _permute(node: fx.Node) -> Converted:
    x = _tensor(node.args[0], "permuting")
    dims = list(node.args[1:]) if node.op == "call_method" else list(arg(node, 1, "dims"))
    if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
        dims = list(dims[0])
    full = rank_of(x) + 1
    dims = [d % full if isinstance(d, int) else d for d in dims]
    if not dims or dims[0] != 0:
        raise Refused(f"permuting with dims {dims}: the batch dim must stay first")
    return Converted("Permute", {"dims": [d - 1 for d in dims[1:]]}, {"in": [x]})


def _transpose(node: fx.Node) -> Converted:
    x = _tensor(node.args[0], "transposing")
    rank = rank_of(x)
    a = layer_dim(arg(node, 1, "dim0"), rank, "transposing")
    b = layer_dim(arg(node, 2, "dim1"), rank, "transposing")
    return Converted("Transpose", {"dim0": a, "dim1": b}, {"in": [x]})


def _reduce(op: str) -> Callable[[fx.Node], Converted]:
    def convert(node: fx.Node) -> Converted:
        x = _tensor(node.args[0], "reducing")
        rank = rank_of(x)
        dim, keepdim = arg(node, 1, "dim"), bool(arg(node, 2, "keepdim", False))
        spatial = tuple(range(2, rank + 1))
        if op in ("mean", "amax") and not keepdim and rank >= 2 and _same_dims(dim, spatial, rank):
            return Converted("GlobalAvgPool" if op == "mean" else "GlobalMaxPool", {}, {"in": [x]})
        if isinstance(dim, (list, tuple)) and len(dim) == 1:
            dim = dim[0]
        if dim is None:
            raise Refused(f"{op} over every dim, batch included")
        return Converted("Reduce", {"op": {"amax": "max"}.get(op, op), "dim": layer_dim(dim, rank, op),
                                    "keepdim": keepdim}, {"in": [x]})

    return convert


def _same_dims(dim: Any, wanted: tuple[int, ...], rank: int) -> bool:
    dims = dim if isinstance(dim, (list, tuple)) else (dim,)
    if not all(isinstance(d, int) for d in dims):
        return False
    return tuple(sorted(d % (rank + 1) for d in dims)) == wanted


def _activation(layer: str, *names: str) -> Callable[[fx.Node], Converted]:
    """An element-wise function; `names` are its params, after the tensor, in call order."""

    def convert(node: fx.Node) -> Converted:
        x = _tensor(node.args[0], layer)
        params: dict[str, Any] = {}
        for position, name in enumerate(names, start=1):
            value = arg(node, position, name)
            if value is not None:
                params[name] = layer_dim(value, rank_of(x), layer) if name == "dim" else value
        return Converted(layer, params, {"in": [x]})

    return convert


FUNCTIONS: dict[Any, Callable[[fx.Node], Converted]] = {
    operator.add: _merge("Add", "adding"), torch.add: _merge("Add", "adding"),
    operator.mul: _merge("Multiply", "multiplying"), torch.mul: _merge("Multiply", "multiplying"),
    torch.cat: _concat, torch.concat: _concat, torch.concatenate: _concat,
    torch.flatten: _flatten, torch.reshape: _reshape, torch.permute: _permute, torch.transpose: _transpose,
    torch.mean: _reduce("mean"), torch.amax: _reduce("amax"), torch.sum: _reduce("sum"),
    torch.relu: _activation("ReLU"), F.relu: _activation("ReLU"),
    torch.sigmoid: _activation("Sigmoid"), F.sigmoid: _activation("Sigmoid"),
    torch.tanh: _activation("Tanh"), F.tanh: _activation("Tanh"),
    F.gelu: _activation("GELU", "approximate"), F.silu: _activation("SiLU"),
    F.leaky_relu: _activation("LeakyReLU", "negative_slope"), F.elu: _activation("ELU", "alpha"),
    torch.softmax: _activation("Softmax", "dim"), F.softmax: _activation("Softmax", "dim"),
    torch.log_softmax: _activation("LogSoftmax", "dim"), F.log_softmax: _activation("LogSoftmax", "dim"),
    F.dropout: _activation("Dropout", "p"),
}

METHODS: dict[str, Callable[[fx.Node], Converted]] = {
    "add": _merge("Add", "adding"), "mul": _merge("Multiply", "multiplying"),
    "flatten": _flatten, "view": _reshape, "reshape": _reshape, "permute": _permute, "transpose": _transpose,
    "mean": _reduce("mean"), "amax": _reduce("amax"), "sum": _reduce("sum"),
    "relu": _activation("ReLU"), "sigmoid": _activation("Sigmoid"), "tanh": _activation("Tanh"),
    "softmax": _activation("Softmax", "dim"), "log_softmax": _activation("LogSoftmax", "dim"),
}


def convert_call(node: fx.Node) -> Converted:
    if node.op == "call_function":
        converter = FUNCTIONS.get(node.target)
        what = getattr(node.target, "__name__", str(node.target))
    else:
        converter = METHODS.get(str(node.target))
        what = f".{node.target}()"
    if converter is None:
        raise Refused(f"{what} has no nnstudio layer")
    return converter(node)
