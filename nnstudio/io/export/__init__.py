"""Export a model to the formats PyTorch users expect, each checked against the in-app model.

    result = export_model(project, "onnx", "model.onnx", checkpoint="runs/1/checkpoints/best")
    result.paths, result.max_abs_diff, result.messages

`FORMATS` lists the formats (name, title, extension, optional extra) for menus and help. Names are
imported lazily, so listing formats does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

from nnstudio.io.export.errors import ExportError, MissingExtraError
from nnstudio.io.export.formats import FORMATS, FormatInfo

_LAZY = {"export_model": "nnstudio.io.export.api", "ExportResult": "nnstudio.io.export.api"}

__all__ = ["FORMATS", "ExportError", "ExportResult", "FormatInfo", "MissingExtraError", "export_model"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nnstudio.io.export' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
