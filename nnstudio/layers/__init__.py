"""The layer catalogue. Each layer is declared once, as a LayerSpec; torch is imported only on build."""

from nnstudio.layers.params import ParamKind, ParamSpec, ParamValueError
from nnstudio.layers.registry import ENTRY_POINT_GROUP, Registry, builtin_registry, default_registry
from nnstudio.layers.spec import Construct, Inputs, LayerSpec, PortSpec, ShapeError, TensorType

__all__ = [
    "ENTRY_POINT_GROUP",
    "Construct",
    "Inputs",
    "LayerSpec",
    "ParamKind",
    "ParamSpec",
    "ParamValueError",
    "PortSpec",
    "Registry",
    "ShapeError",
    "TensorType",
    "builtin_registry",
    "default_registry",
]
