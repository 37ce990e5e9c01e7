"""A project: the graph plus everything else a file carries (metadata, weight init, data, training)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from psygnal import Signal

from nnstudio.model.annotations import Annotations
from nnstudio.model.graph import Graph

INIT_SCHEMES = (
    "default",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
    "orthogonal",
    "zeros",
)


@dataclass
class InitSettings:
    """How weights are initialised when the graph is compiled. The seed makes it reproducible."""

    scheme: str = "default"
    seed: int = 0
    weights: str | None = None  # a weights source loaded over the initialised model (matched by node name)


@dataclass
class Metadata:
    name: str = "Untitled"
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # unknown keys survive a round trip


SECTIONS = ("metadata", "init", "dataset", "training", "search")


class Project:
    """The whole document. Sections other than the graph are plain dicts validated by their owners.

    `dataset` and `training` are owned by the training package, and `search` (the search space and study,
    file version 3) by the search package; each validates its own. The model keeps them as JSON-compatible data
    so that this package never needs torch.
    """

    settings_changed = Signal(str)  # the section name: one of SECTIONS

    def __init__(self) -> None:
        self.graph = Graph()
        self.metadata = Metadata()
        self.init = InitSettings()
        self.dataset: dict[str, Any] = {}
        self.training: dict[str, Any] = {}
        self.search: dict[str, Any] = {}
        self.annotations = Annotations()  # comments and frames on the canvas (file version 3)

    def set_section(self, section: str, value: Any) -> Any:
        """Replace one settings section wholesale; returns the old value for undo."""
        if section not in SECTIONS:
            raise ValueError(f"unknown project section {section!r}")
        old = getattr(self, section)
        setattr(self, section, value)
        self.settings_changed.emit(section)
        return old
