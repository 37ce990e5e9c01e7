"""Attributions for one sample through Captum: the methods table, running one, and drawing the result.

Captum is an optional extra (`pip install "nnstudio[explain]"`); only `run` imports it, inside its functions.
Names are imported lazily, so that the CLI can read the methods table (`methods`) without importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CAPTUM_HINT": "nnstudio.training.explain.methods",
    "METHODS": "nnstudio.training.explain.methods",
    "Method": "nnstudio.training.explain.methods",
    "captum_available": "nnstudio.training.explain.methods",
    "method_problem": "nnstudio.training.explain.methods",
    "Attribution": "nnstudio.training.explain.run",
    "ExplainError": "nnstudio.training.explain.run",
    "conv_nodes": "nnstudio.training.explain.run",
    "explain": "nnstudio.training.explain.run",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'nnstudio.training.explain' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
