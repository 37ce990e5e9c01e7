"""Recognise a user's nn.Module as a catalogue layer, with the params that rebuild it exactly.

The mapping from module class to layer type is read off the catalogue: each LayerSpec's `build`
is asked for its Construct under a few input types and choices, which reveals the classes it
makes. To find params for a given module, candidates are read from the module's attributes (and
shifted by one for dims, since nnstudio counts dims without the batch), then refined one param at
a time until the module the layer would build has the same fingerprint: the same class and
public attributes in every submodule, and the same weight names and shapes.
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import torch
from torch import nn

from nnstudio.layers.params import ParamKind, ParamSpec, ParamValueError
from nnstudio.layers.registry import Registry
from nnstudio.layers.spec import Construct, Inputs, LayerSpec, TensorType

_PROBE_TYPES = [TensorType((4,)), TensorType((4, 8)), TensorType((4, 8, 8)), TensorType((8,), "int64")]
_SCALARS = (bool, int, float, str, type(None))
_MAX_PASSES = 3


@dataclass
class Fit:
    spec: LayerSpec
    params: dict[str, Any]
    construct: Construct


@lru_cache(maxsize=8)
def _classes_by_spec(registry: Registry) -> dict[type, tuple[LayerSpec, ...]]:
    found: dict[type, list[LayerSpec]] = {}
    for spec in registry:
        if spec.build is None or spec.role != "layer":
            continue
        for construct in _probe_constructs(spec):
            try:
                cls = construct.resolve()
            except (ImportError, AttributeError):
                continue
            if spec not in found.setdefault(cls, []):
                found[cls].append(spec)
    return {cls: tuple(specs) for cls, specs in found.items()}


def _probe_constructs(spec: LayerSpec) -> Iterator[Construct]:
    choices = [p for p in spec.params if p.kind is ParamKind.CHOICE]
    for values in itertools.product(*(p.choices for p in choices)):
        params = {**spec.defaults(), **{p.name: v for p, v in zip(choices, values)}}
        for t in _PROBE_TYPES:
            ports = {port.name: [t] for port in spec.inputs}
            try:
                yield spec.build(params, Inputs(ports))
            except Exception:  # a build refusing an unsuitable probe type is expected
                continue


@lru_cache(maxsize=8)
def _classes_by_source(registry: Registry) -> dict[tuple[str, str], type]:
    """nnstudio's own custom modules by (name, source): python exports carry copies of them."""
    found = {}
    for cls in _classes_by_spec(registry):
        if cls.__module__.split(".")[0] == "nnstudio":
            with contextlib.suppress(OSError, TypeError):
                found[(cls.__qualname__, inspect.getsource(cls))] = cls
    return found


def catalogue_class(cls: type, registry: Registry) -> type | None:
    """The catalogue class `cls` is, or is a verbatim copy of (as in an exported model.py)."""
    if cls in _classes_by_spec(registry):
        return cls
    if not _classes_by_source(registry):
        return None
    try:
        return _classes_by_source(registry).get((cls.__qualname__, inspect.getsource(cls)))
    except (OSError, TypeError):
        return None


def is_layer_class(cls: type, registry: Registry) -> bool:
    """Whether the importer keeps modules of this class as leaves (one node each)."""
    return catalogue_class(cls, registry) is not None


def specs_for(module: nn.Module, registry: Registry) -> tuple[LayerSpec, ...]:
    cls = catalogue_class(type(module), registry)
    return _classes_by_spec(registry).get(cls, ()) if cls is not None else ()


def fingerprint(module: nn.Module) -> dict[str, Any]:
    """What must agree for two modules to compute the same function with the same weight layout."""
    print_: dict[str, Any] = {}
    for prefix, sub in module.named_modules():
        print_[f"{prefix}:class"] = type(sub).__qualname__
        for key, value in vars(sub).items():
            if key.startswith("_") or key == "training":
                continue
            if isinstance(value, _SCALARS) or (isinstance(value, (tuple, list)) and
                                              all(isinstance(v, _SCALARS) for v in value)):
                print_[f"{prefix}.{key}"] = tuple(value) if isinstance(value, list) else value
            elif callable(value) and hasattr(value, "__qualname__"):
                print_[f"{prefix}.{key}"] = f"{getattr(value, '__module__', '')}.{value.__qualname__}"
    for key, tensor in module.state_dict().items():
        print_[f"{key}:shape"] = tuple(tensor.shape)
    return print_


def differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return [key for key in sorted(set(a) | set(b)) if a.get(key, _MISSING) != b.get(key, _MISSING)]


_MISSING = object()


def fit(module: nn.Module, spec: LayerSpec, types: Inputs) -> tuple[Fit | None, list[str]]:
    """The params under which `spec` rebuilds `module`, or None and the fingerprint keys that differ."""
    target = fingerprint(module)
    candidates = {p.name: _candidates(p, module, target) for p in spec.params}
    params = {name: values[0] for name, values in candidates.items()}
    best = _score(spec, params, types, target)
    for _ in range(_MAX_PASSES):
        improved = False
        for name, values in candidates.items():
            for value in values:
                trial = {**params, name: value}
                score = _score(spec, trial, types, target)
                if len(score) < len(best):
                    params, best, improved = trial, score, True
        if not best or not improved:
            break
    if best:
        return None, best
    for p in spec.params:  # prefer defaults where they build the same module (stride None, not 2)
        trial = {**params, p.name: p.default}
        if params[p.name] != p.default and not _score(spec, trial, types, target):
            params = trial
    return Fit(spec, params, spec.build(spec.resolve_params(params)[0], types)), []


def free_choices(fitted: Fit, types: Inputs, module: nn.Module) -> Iterator[dict[str, Any]]:
    """Variants of the fitted params that still rebuild the module: choices the module cannot show
    (how an RNN's result is read, say), to be settled by matching the code around the call."""
    target = fingerprint(module)
    options = []
    for p in fitted.spec.params:
        if p.kind in (ParamKind.CHOICE, ParamKind.BOOL):
            values = p.choices if p.kind is ParamKind.CHOICE else (False, True)
            keep = [v for v in values if not _score(fitted.spec, {**fitted.params, p.name: v}, types, target)]
            options.append((p.name, keep or [fitted.params[p.name]]))
    names = [name for name, _ in options]
    for combo in itertools.product(*(values for _, values in options)):
        yield {**fitted.params, **dict(zip(names, combo))}


def _score(spec: LayerSpec, params: dict[str, Any], types: Inputs, target: dict[str, Any]) -> list[str]:
    resolved, problems = spec.resolve_params(params)
    if problems:
        return ["<params>", *target]
    try:
        construct = spec.build(resolved, types)
        built = _instantiate(construct)
    except Exception:  # params the layer refuses are simply a bad candidate
        return ["<build>", *target]
    return differences(fingerprint(built), target)


def _instantiate(construct: Construct) -> nn.Module:
    """Build without allocating real weights when the module allows it (only shapes are compared)."""
    try:
        with torch.device("meta"):
            return construct.instantiate()
    except Exception:  # some constructors compute on real tensors; fall back to the CPU
        return construct.instantiate()


def _candidates(spec: ParamSpec, module: nn.Module, target: dict[str, Any]) -> list[Any]:
    """Plausible values, best guess first: the attribute of the same name, shifted dims, defaults,
    and for params the module does not store by name, any number found in its fingerprint."""
    raw = getattr(module, spec.name, _MISSING)
    found: list[Any] = []
    if raw is not _MISSING:
        found.extend(_from_attribute(spec, raw))
    found.append(spec.default)
    if spec.kind is ParamKind.BOOL:
        found.extend([True, False])
    elif spec.kind is ParamKind.CHOICE:
        found.extend(spec.choices)
    elif spec.kind in (ParamKind.INT, ParamKind.FLOAT):
        wanted = int if spec.kind is ParamKind.INT else float
        numbers = [v for v in target.values() if isinstance(v, (int, float)) and not isinstance(v, bool)]
        found.extend(v for v in numbers if isinstance(v, wanted) or wanted is float)
        if spec.kind is ParamKind.INT:
            found.extend(v - 1 for v in numbers if isinstance(v, int))
    unique: list[Any] = []
    for value in found:
        try:
            value = spec.coerce(value)
        except (ParamValueError, TypeError, ValueError):
            continue  # e.g. a submodule stored under the param's name
        if not any(type(value) is type(u) and value == u for u in unique):
            unique.append(value)
    return unique


def _from_attribute(spec: ParamSpec, raw: Any) -> list[Any]:
    if isinstance(raw, (nn.Parameter, torch.Tensor)) or (raw is None and spec.kind is ParamKind.BOOL):
        return [raw is not None]  # e.g. `bias`: a tensor or None
    if isinstance(raw, (tuple, list)):
        values = list(raw)
        if spec.kind is ParamKind.INT:
            return [values[0]] if len(set(values)) == 1 else []
        if spec.kind is ParamKind.INT_TUPLE:
            return [values[0], values] if len(set(values)) == 1 else [values]
        return [values]
    if isinstance(raw, int) and not isinstance(raw, bool) and spec.kind is ParamKind.INT:
        return [raw, raw - 1] if raw > 0 else [raw]
    return [raw]
