"""Pure functions over the document: validation, shape inference, link checks. No torch, no Qt."""

from nnstudio.analysis.connect import Verdict, can_connect
from nnstudio.analysis.diagnostics import Diagnostic, Severity
from nnstudio.analysis.shapes import ShapeTable
from nnstudio.analysis.validate import Analysis, analyze, infer_shapes, validate

__all__ = [
    "Analysis",
    "Diagnostic",
    "Severity",
    "ShapeTable",
    "Verdict",
    "analyze",
    "can_connect",
    "infer_shapes",
    "validate",
]
