"""The document model: plain Python with change signals. Never imports Qt or torch."""

from nnstudio.model.graph import Edge, Endpoint, Graph, GraphError, Node, is_valid_name, new_id
from nnstudio.model.project import INIT_SCHEMES, InitSettings, Metadata, Project

__all__ = [
    "INIT_SCHEMES",
    "Edge",
    "Endpoint",
    "Graph",
    "GraphError",
    "InitSettings",
    "Metadata",
    "Node",
    "Project",
    "is_valid_name",
    "new_id",
]
