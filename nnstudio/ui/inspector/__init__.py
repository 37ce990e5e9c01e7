"""The Inspector: editors generated from ParamSpecs. ParamForm is reusable for any settings form."""

from nnstudio.ui.inspector.form import ParamForm
from nnstudio.ui.inspector.panel import Inspector

__all__ = ["Inspector", "ParamForm"]
