"""Bring models into nnstudio: PyTorch classes via torch.fx, weights files, checkpoints and bundles.

    result = import_model("model.py:Net", [((1, 28, 28), "float32")])   # runs the user's code
    save_import(result, "net.nnstudio")                                  # + net.safetensors beside it
    compiled, report = load_graph_weights(project, "weights.safetensors")
    bundle = open_bundle("run.zip")

Opening weights, checkpoints and bundles never runs code. Names are imported lazily (torch is heavy).
"""

from __future__ import annotations

from nnstudio.util.lazy import lazy_exports

_LAZY = {
    "import_model": "nnstudio.io.importing.api",
    "import_module": "nnstudio.io.importing.api",
    "save_import": "nnstudio.io.importing.api",
    "ImportResult": "nnstudio.io.importing.api",
    "ImportModelError": "nnstudio.io.importing.source",
    "RUNS_CODE_WARNING": "nnstudio.io.importing.notice",
    "parse_input_shape": "nnstudio.io.importing.source",
    "open_bundle": "nnstudio.io.importing.bundle",
    "Bundle": "nnstudio.io.importing.bundle",
    "BundleError": "nnstudio.io.importing.bundle",
    "load_graph_weights": "nnstudio.io.importing.weights",
    "apply_weights": "nnstudio.io.importing.weights",
    "open_checkpoint": "nnstudio.io.importing.weights",
    "Checkpoint": "nnstudio.io.importing.weights",
}

__all__ = sorted(_LAZY)


__getattr__ = lazy_exports("nnstudio.io.importing", _LAZY)
