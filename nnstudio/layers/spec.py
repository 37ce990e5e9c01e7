"""LayerSpec: the one declaration of a layer that every consumer reads.

The palette reads title, category, glyph and explanation; the inspector and the file loader read
params; validation reads ports; shape inference calls `infer`; the compiler calls `emit`; code
export prints the `Construct`s that `build` returns. Nothing here imports torch: modules are named
by import path and resolved only when a graph is compiled.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from nnstudio.layers.params import ParamSpec, ParamValueError

DTYPES = ("float32", "int64")


@dataclass(frozen=True)
class TensorType:
    """A tensor's shape without the batch dimension, plus its dtype."""

    shape: tuple[int, ...]
    dtype: str = "float32"

    def __str__(self) -> str:
        dims = ", ".join(str(d) for d in self.shape)
        text = f"[N, {dims}]" if dims else "[N]"
        return text if self.dtype == "float32" else f"{text} {self.dtype}"

    @property
    def numel(self) -> int:
        total = 1
        for dim in self.shape:
            total *= dim
        return total


class ShapeError(ValueError):
    """A layer cannot accept its inputs. `port` names the input port at fault when one is."""

    def __init__(self, message: str, port: str | None = None) -> None:
        super().__init__(message)
        self.port = port


@dataclass(frozen=True)
class PortSpec:
    name: str
    doc: str = ""
    multi: bool = False  # accepts several incoming edges (Concat, Add)
    min_count: int = 1
    optional: bool = False  # may stay unconnected; the layer's rules then see no such port (Inputs.has)


@dataclass(frozen=True)
class Construct:
    """A module to instantiate: an import path plus keyword arguments. Printable as code."""

    target: str  # e.g. "torch.nn.Linear"
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def resolve(self) -> type:
        module_name, _, attr = self.target.rpartition(".")
        return getattr(importlib.import_module(module_name), attr)

    def instantiate(self) -> Any:
        return self.resolve()(**self.kwargs)

    def source(self, alias: Mapping[str, str] | None = None) -> str:
        """Python source for the constructor call, e.g. `nn.Linear(in_features=2, out_features=8)`."""
        name = self.target
        for prefix, short in (alias or {"torch.nn.": "nn."}).items():
            if name.startswith(prefix):
                name = short + name[len(prefix):]
                break
        args = ", ".join(f"{key}={value!r}" for key, value in self.kwargs.items())
        return f"{name}({args})"


class Inputs:
    """The values arriving at a node's input ports, in edge order. Used for types and for fx nodes."""

    def __init__(self, by_port: Mapping[str, list[Any]]) -> None:
        self._by_port = by_port

    def one(self, port: str = "in") -> Any:
        return self._by_port[port][0]

    def many(self, port: str = "inputs") -> list[Any]:
        return list(self._by_port.get(port, []))

    def has(self, port: str) -> bool:
        return bool(self._by_port.get(port))


class EmitContext(Protocol):
    """What a layer may add to the compiled torch.fx graph. Implemented by the compiler."""

    def module(self, construct: Construct, *args: Any, **kwargs: Any) -> Any: ...

    def function(self, target: str, *args: Any, **kwargs: Any) -> Any: ...

    def method(self, name: str, *args: Any, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class LossRole:
    """What a loss node tells the trainer besides its value: which port holds the prediction it scores and
    which the target, and the metrics that pair deserves (accuracy for class indices, RMSE for values...).

    Losses without a target (a KL term, an activity penalty, distillation) leave all of it None: they add
    to the objective but get no accuracy of their own.
    """

    prediction: str | None = None
    target: str | None = None
    task: str | None = None  # "classification", "binary" or "regression"
    threshold: float = 0.0  # binary decisions: 0 for logits, 0.5 for probabilities


Params = Mapping[str, Any]
# A layer with one output port returns its TensorType; one with several returns a tuple, in port order (emit
# then returns a tuple of values too). A loss node returns the type of its scalar value.
InferFn = Callable[[Params, Inputs], Any]
BuildFn = Callable[[Params, Inputs], Construct]
EmitFn = Callable[[EmitContext, Params, Inputs, Inputs], Any]
MigrateFn = Callable[[dict[str, Any], int], dict[str, Any]]
CheckFn = Callable[[Params], list[tuple[str, str]]]
FlopsFn = Callable[[Params, Inputs], int]  # FLOPs for one sample, where torch's counter cannot see them


def emit_module(build: BuildFn) -> EmitFn:
    """The usual emitter: instantiate one module and call it on the single input."""

    def emit(ctx: EmitContext, params: Params, values: Inputs, types: Inputs) -> Any:
        return ctx.module(build(params, types), values.one())

    return emit


@dataclass(frozen=True)
class LayerSpec:
    type: str  # the registry key and the `type` in project files
    category: str
    title: str
    summary: str  # one line, for the palette
    explanation: str  # a few sentences in our own words
    formula: str
    infer: InferFn
    emit: EmitFn | None = None
    build: BuildFn | None = None  # for module layers; also what code export prints
    params: tuple[ParamSpec, ...] = ()
    inputs: tuple[PortSpec, ...] = (PortSpec("in"),)
    outputs: tuple[PortSpec, ...] = (PortSpec("out"),)
    glyph: str = "■"
    key_params: tuple[str, ...] = ()  # shown on the canvas node
    has_weights: bool = False  # weight init applies
    check: CheckFn | None = None  # cross-param rules: returns (param, message) pairs
    flops: FlopsFn | None = None  # analytic FLOPs; None means torch's FlopCounterMode measures them
    version: int = 1
    migrate: MigrateFn | None = None  # upgrades params saved by an older layer version
    legacy_types: tuple[str, ...] = ()  # older names that still load as this layer
    role: str = "layer"  # "input", "output", "target", "loss" or "layer"
    loss: LossRole | None = None  # set for role "loss"

    def __post_init__(self) -> None:
        # Every integer param gets an upper bound (params.MAX_LAYER_SIZE) unless it declares its own, so no
        # layer, plugins included, can ask for a size that only fails when its weights are allocated.
        object.__setattr__(self, "params", tuple(param.bounded() for param in self.params))
        if self.emit is None and self.build is not None:
            object.__setattr__(self, "emit", emit_module(self.build))
        if self.emit is None and self.role in ("layer", "loss"):
            raise TypeError(f"layer {self.type!r} needs emit or build")
        if (self.role == "loss") != (self.loss is not None):
            raise TypeError(f"layer {self.type!r}: a loss node has role 'loss' and a LossRole, nothing else does")

    @property
    def tooltip(self) -> str:
        return f"{self.title}\n{self.summary}\n\n{self.explanation}\n\n{self.formula}".strip()

    def param(self, name: str) -> ParamSpec:
        for spec in self.params:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @cached_property
    def input_names(self) -> frozenset[str]:
        return frozenset(p.name for p in self.inputs)

    @cached_property
    def output_names(self) -> frozenset[str]:
        return frozenset(p.name for p in self.outputs)

    def input_port(self, name: str) -> PortSpec | None:
        return next((p for p in self.inputs if p.name == name), None)

    def output_port(self, name: str) -> PortSpec | None:
        return next((p for p in self.outputs if p.name == name), None)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def resolve_params(self, given: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """Defaults merged with the given values, coerced. Returns (params, [(param, problem)])."""
        resolved: dict[str, Any] = {}
        problems: list[tuple[str, str]] = []
        for spec in self.params:
            value = given.get(spec.name, spec.default)
            try:
                resolved[spec.name] = spec.coerce(value)
            except ParamValueError as exc:
                problems.append((spec.name, str(exc)))
                resolved[spec.name] = spec.default
        for name in given:
            if not any(p.name == name for p in self.params):
                problems.append((name, f"is not a parameter of {self.type}"))
        if not problems and self.check is not None:
            problems.extend(self.check(resolved))
        return resolved, problems
