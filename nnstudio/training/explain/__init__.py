"""Attributions for one sample through Captum: the methods table, running one, and drawing the result.

Captum is an optional extra (`pip install "nnstudio[explain]"`); only `run` imports it, inside its functions.
Names are imported lazily, so that the CLI can read the methods table (`methods`) without importing torch.
"""

from __future__ import annotations

from nnstudio.util.lazy import lazy_exports

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


__getattr__ = lazy_exports("nnstudio.training.explain", _EXPORTS)
