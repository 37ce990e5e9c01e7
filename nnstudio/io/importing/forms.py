"""The one table of calls the importer turns into catalogue layers.

A layer is often written as a function instead of a module: `F.relu(x)`, `torch.flatten(x, 1)`,
`F.adaptive_avg_pool2d(x, 1)`, `F.linear(x, self.weight, self.bias)`. FORMS lists, for each such
form, the torch functions and tensor methods that compute it and how their arguments become the
layer's params. Most are declared as a `Call` (torch's argument names and defaults, which of them
are layer params, and which may only take one value); the few that need more (reshapes, merges,
reductions, functions that take their weights from module attributes) have their own converter.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx

from nnstudio.io.importing.functions import (
    Converted,
    Refused,
    arg,
    clamp,
    concat,
    dot_product_attention,
    flatten,
    interpolate,
    layer_dim,
    matmul,
    merge,
    permute,
    rank_of,
    reduce,
    relu6,
    reshape,
    subtract,
    transpose,
)
from nnstudio.io.importing.weighted import (
    conv,
    conv_transpose1d,
    embedding,
    group_norm,
    instance_norm,
    layer_norm,
    linear,
    prelu,
)

REQUIRED = object()  # an argument torch has no default for
Converter = Callable[[fx.Node], Converted]


@dataclass(frozen=True)
class Call:
    """A function form of a layer: `args` are torch's parameters after the input, in call order, with
    torch's defaults; `params` maps those that are layer params; `must` holds those a layer can only
    express with one value (and `why` says what a different value would mean); anything else, such as
    `inplace`, changes nothing the imported graph computes."""

    layer: str
    args: tuple[tuple[str, Any], ...] = ()
    params: Mapping[str, str] = field(default_factory=dict)
    must: Mapping[str, Any] = field(default_factory=dict)
    why: Mapping[str, str] = field(default_factory=dict)
    dims: frozenset[str] = frozenset()  # params that are dims, counted by torch with the batch
    single: bool = False  # a 1-d layer: torch's (3,) is the layer's 3

    def __call__(self, node: fx.Node) -> Converted:
        what = _name(node)
        x = arg(node, 0, "input")
        if not isinstance(x, fx.Node):
            raise Refused(f"{what} of a constant {x!r}; nnstudio layers compute on tensors")
        known = {name for name, _ in self.args} | {"input"}
        unknown = [key for key in node.kwargs if key not in known]
        if unknown:
            raise Refused(f"{what} with {unknown[0]}=: no {self.layer} param stands for it")
        values: dict[str, Any] = {}
        for position, (name, default) in enumerate(self.args, start=1):
            value = arg(node, position, name, default)
            if value is REQUIRED:
                raise Refused(f"{what} without {name}")
            if isinstance(value, fx.Node):
                raise Refused(f"{what} with {name} computed at run time; a layer param is a constant")
            if name in self.must and value != self.must[name]:
                reason = self.why.get(name, f"the {self.layer} layer has no param for it")
                raise Refused(f"{what} with {name}={value!r}: {reason}")
            if name in self.params:
                values[self.params[name]] = self._value(name, value, x, what)
        return Converted(self.layer, values, {"in": [x]})

    def _value(self, name: str, value: Any, x: fx.Node, what: str) -> Any:
        if name in self.dims:
            if value is None:
                raise Refused(f"{what} without {name}: give it explicitly (torch's implicit choice is deprecated)")
            return layer_dim(value, rank_of(x), what)
        if isinstance(value, (tuple, list)):
            if any(v is None for v in value):
                raise Refused(f"{what} with {name}={tuple(value)!r}: None (keep that size) has no layer param")
            if not value:
                return None  # torch.max_pool2d's stride=[] means "the kernel size"
            if self.single and len(value) == 1:
                return value[0]
            return list(value)
        return value


def _name(node: fx.Node) -> str:
    if node.op == "call_method":
        return f".{node.target}()"
    module = getattr(node.target, "__module__", "") or ""
    prefix = "F." if module.startswith("torch.nn.functional") else "torch." if module.startswith("torch") else ""
    return prefix + getattr(node.target, "__name__", str(node.target))


def _same(layer: str, *names: str, defaults: tuple[Any, ...] = ()) -> Call:
    """A Call whose torch arguments are the layer's params of the same names, followed by `inplace`."""
    args = (*zip(names, defaults), ("inplace", False))
    return Call(layer, args, {name: name for name in names})


_INPLACE = (("inplace", False),)
_DROPOUT_WHY = {
    "training": "it drops in evaluation too; pass training=self.training",
    "train": "it drops in evaluation too; pass train=self.training",
}
_POOL = ("kernel_size", "stride", "padding", "dilation", "ceil_mode")


def _max_pool(layer: str, single: bool, indices: bool) -> Call:
    args = (("kernel_size", REQUIRED), ("stride", None), ("padding", 0), ("dilation", 1), ("ceil_mode", False))
    if indices:
        args += (("return_indices", False),)
    return Call(
        layer,
        args,
        {name: name for name in _POOL},
        must={"return_indices": False},
        why={"return_indices": "the indices have no layer"},
        single=single,
    )


def _avg_pool(layer: str, single: bool, divisor: bool) -> Call:
    args = (
        ("kernel_size", REQUIRED),
        ("stride", None),
        ("padding", 0),
        ("ceil_mode", False),
        ("count_include_pad", True),
    )
    if divisor:
        args += (("divisor_override", None),)
    names = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad")
    return Call(layer, args, {name: name for name in names}, must={"divisor_override": None}, single=single)


def _dim_call(layer: str, *args: tuple[str, Any]) -> Call:
    return Call(
        layer,
        args,
        {"dim": "dim"},
        must={"dtype": None},
        why={"dtype": "the layer computes in the input's dtype"},
        dims=frozenset({"dim"}),
    )


def _channel_dropout(layer: str) -> Call:
    args = (("p", 0.5), ("training", True), ("inplace", False))
    return Call(layer, args, {"p": "p"}, {"training": False}, _DROPOUT_WHY)


# (converter, torch functions, tensor method names). Each function or method appears once.
FORMS: list[tuple[Converter, tuple[Any, ...], tuple[str, ...]]] = [
    (merge("Add", "adding"), (operator.add, torch.add), ("add",)),
    (merge("Multiply", "multiplying"), (operator.mul, torch.mul), ("mul",)),
    (concat, (torch.cat, torch.concat, torch.concatenate), ()),
    (flatten, (torch.flatten,), ("flatten",)),
    (reshape, (torch.reshape,), ("view", "reshape")),
    (permute, (torch.permute,), ("permute",)),
    (transpose, (torch.transpose,), ("transpose",)),
    (reduce("mean"), (torch.mean,), ("mean",)),
    (reduce("amax"), (torch.amax,), ("amax",)),
    (reduce("sum"), (torch.sum,), ("sum",)),
    (Call("ReLU", _INPLACE), (torch.relu, F.relu), ("relu",)),
    (Call("Sigmoid"), (torch.sigmoid, F.sigmoid), ("sigmoid",)),
    (Call("Tanh"), (torch.tanh, F.tanh), ("tanh",)),
    (Call("SiLU", _INPLACE), (F.silu,), ()),
    (Call("GELU", (("approximate", "none"),), {"approximate": "approximate"}), (F.gelu,), ()),
    (_same("LeakyReLU", "negative_slope", defaults=(0.01,)), (F.leaky_relu,), ()),
    (_same("ELU", "alpha", defaults=(1.0,)), (F.elu,), ()),
    (_dim_call("Softmax", ("dim", None), ("_stacklevel", 3), ("dtype", None)), (F.softmax,), ()),
    (_dim_call("Softmax", ("dim", REQUIRED), ("dtype", None)), (torch.softmax,), ("softmax",)),
    (_dim_call("LogSoftmax", ("dim", None), ("_stacklevel", 3), ("dtype", None)), (F.log_softmax,), ()),
    (_dim_call("LogSoftmax", ("dim", REQUIRED), ("dtype", None)), (torch.log_softmax,), ("log_softmax",)),
    (
        Call(
            "Dropout",
            (("p", 0.5), ("training", True), ("inplace", False)),
            {"p": "p"},
            {"training": False},
            _DROPOUT_WHY,
        ),
        (F.dropout,),
        (),
    ),
    (
        Call("Dropout", (("p", REQUIRED), ("train", REQUIRED)), {"p": "p"}, {"train": False}, _DROPOUT_WHY),
        (torch.dropout,),
        (),
    ),
    (_max_pool("MaxPool1d", True, True), (F.max_pool1d,), ()),
    (_max_pool("MaxPool1d", True, False), (torch.max_pool1d,), ()),
    (_max_pool("MaxPool2d", False, True), (F.max_pool2d,), ()),
    (_max_pool("MaxPool2d", False, False), (torch.max_pool2d,), ()),
    (_avg_pool("AvgPool1d", True, False), (F.avg_pool1d, torch.avg_pool1d), ()),
    (_avg_pool("AvgPool2d", False, True), (F.avg_pool2d,), ()),
    (
        Call("AdaptiveAvgPool2d", (("output_size", REQUIRED),), {"output_size": "output_size"}),
        (F.adaptive_avg_pool2d,),
        (),
    ),
    (linear, (F.linear,), ()),
    (conv("Conv1d", 1), (F.conv1d, torch.conv1d), ()),
    (conv("Conv2d", 2), (F.conv2d, torch.conv2d), ()),
    (layer_norm, (F.layer_norm,), ()),
    (embedding, (F.embedding,), ()),
    (subtract, (operator.sub, torch.sub, torch.subtract), ("sub", "subtract")),
    (matmul, (operator.matmul, torch.matmul, torch.bmm), ("matmul", "bmm")),
    (clamp, (torch.clamp, torch.clip), ("clamp", "clip")),
    (relu6, (F.relu6,), ()),
    (Call("SELU", _INPLACE), (F.selu, torch.selu), ()),
    (Call("Softplus", (("beta", 1.0), ("threshold", 20.0)), {"beta": "beta", "threshold": "threshold"}),
     (F.softplus,), ()),
    (Call("Mish", _INPLACE), (F.mish,), ()),
    (Call("Hardswish", _INPLACE), (F.hardswish,), ()),
    (_same("Hardtanh", "min_val", "max_val", defaults=(-1.0, 1.0)), (F.hardtanh,), ()),
    (_channel_dropout("Dropout1d"), (F.dropout1d,), ()),
    (_channel_dropout("Dropout2d"), (F.dropout2d,), ()),
    (_max_pool("MaxPool3d", False, True), (F.max_pool3d,), ()),
    (_max_pool("MaxPool3d", False, False), (torch.max_pool3d,), ()),
    (_avg_pool("AvgPool3d", False, True), (F.avg_pool3d,), ()),
    (interpolate, (F.interpolate,), ()),
    (conv("Conv3d", 3), (F.conv3d, torch.conv3d), ()),
    (conv_transpose1d, (F.conv_transpose1d, torch.conv_transpose1d), ()),
    (group_norm, (F.group_norm,), ()),
    (instance_norm, (F.instance_norm,), ()),
    (prelu, (F.prelu, torch.prelu), ()),
    (dot_product_attention, (F.scaled_dot_product_attention,), ()),
]


def _index(
    forms: list[tuple[Converter, tuple[Any, ...], tuple[str, ...]]],
) -> tuple[dict[Any, Converter], dict[str, Converter]]:
    functions: dict[Any, Converter] = {}
    methods: dict[str, Converter] = {}
    for converter, targets, names in forms:
        for target in dict.fromkeys(targets):  # F.conv1d is torch.conv1d: one function under two names
            if target in functions:
                raise ValueError(f"{target} is listed twice in FORMS")
            functions[target] = converter
        for name in names:
            if name in methods:
                raise ValueError(f".{name}() is listed twice in FORMS")
            methods[name] = converter
    return functions, methods


FUNCTIONS, METHODS = _index(FORMS)


def convert_call(node: fx.Node) -> Converted:
    converter = FUNCTIONS.get(node.target) if node.op == "call_function" else METHODS.get(str(node.target))
    if converter is None:
        raise Refused(f"{_name(node)} has no nnstudio layer")
    return converter(node)
