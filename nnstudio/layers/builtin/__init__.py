"""The built-in catalogue. Each module declares SPECS; this collects them in palette order."""

from __future__ import annotations

from nnstudio.layers.spec import LayerSpec

_MODULES = ("io", "dense", "tensor", "rbf", "conv", "pool", "norm", "activation", "shape", "recurrent", "attention",
            "capsules", "ode", "som", "merge", "stochastic", "losses")


def all_builtin_specs() -> list[LayerSpec]:
    import importlib

    specs: list[LayerSpec] = []
    for name in _MODULES:
        specs.extend(importlib.import_module(f"nnstudio.layers.builtin.{name}").SPECS)
    return specs
