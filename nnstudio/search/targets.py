"""What a value dimension varies: a training setting by its dotted path, or one node's parameter.

Both resolve to the ParamSpec that already declares the value (training/settings.py, the layer catalogue), so
a search range is checked by the same rule that checks the file: a learning-rate range reaching 0 is refused
the way `"lr": 0` is.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, fields
from typing import Any

from nnstudio.layers.params import ParamKind, ParamSpec, ParamValueError
from nnstudio.layers.registry import default_registry
from nnstudio.model.project import Project
from nnstudio.training.settings import TrainingSettings


@dataclass(frozen=True)
class Target:
    """A resolved place a value is written to."""

    label: str  # what reports and Optuna call it: "training.optimizer.lr" or "fc1.out_features"
    spec: ParamSpec
    positive: bool = False  # a training setting that refuses 0 (the learning rate)
    node: str | None = None  # the node's name, for node params
    path: tuple[str, ...] = ()  # inside the training section, for settings

    def check(self, value: Any) -> str | None:
        """Why `value` cannot be this target's value, or None."""
        if self.positive and isinstance(value, (int, float)) and not isinstance(value, bool) and value <= 0:
            return f"{self.label}: expected a number > 0, got {value!r}"
        try:
            self.spec.coerce(value)
        except ParamValueError as exc:
            return f"{self.label}: {exc}"
        return None

    @property
    def whole(self) -> bool:
        """Whether the value is a whole number (an int range fits; a float range does not)."""
        return self.spec.kind in (ParamKind.INT, ParamKind.INT_TUPLE)

    def apply(self, project: Project, value: Any) -> None:
        """Write `value` into `project` (a copy the trial owns)."""
        if self.node is not None:
            node = project.graph.node_by_name(self.node)
            project.graph.set_param(node.id, self.spec.name, value)  # through the graph: caches see it
            return
        section = project.training
        for key in self.path[:-1]:
            if not isinstance(section.get(key), dict):
                section[key] = {}
            section = section[key]
        section[self.path[-1]] = value


def training_target(path: str) -> tuple[Target | None, str | None]:
    """`training.optimizer.lr` → its Target, or why there is none (naming what the section holds)."""
    parts = path.split(".")
    if parts[0] != "training" or len(parts) < 2:
        return None, f"expected a training setting such as training.optimizer.lr (or node and param), got {path!r}"
    cls: type = TrainingSettings
    for depth, part in enumerate(parts[1:], start=1):
        by_name = {f.name: f for f in fields(cls) if not f.metadata.get("raw")}
        found = by_name.get(part)
        where = ".".join(parts[:depth])
        if found is None:
            return None, f"no training setting {path!r}; {where} has {', '.join(by_name)}"
        if "section" in found.metadata:
            cls = found.metadata["section"]
            if depth == len(parts) - 1:
                return None, f"{path} is a section; name one of its settings: {', '.join(f.name for f in fields(cls))}"
            continue
        if depth != len(parts) - 1:
            return None, f"no training setting {path!r}; {'.'.join(parts[:depth + 1])} is a value, not a section"
        meta = found.metadata
        return Target(path, meta["spec"], meta["positive"], path=tuple(parts[1:])), None
    return None, f"no training setting {path!r}"


def node_target(project: Project, node_name: str, param: str) -> tuple[Target | None, str | None]:
    """A node's param as a Target, or why there is none (a missing node, or a param its layer lacks)."""
    node = project.graph.node_by_name(node_name)
    if node is None:
        names = ", ".join(n.name for n in project.graph.nodes.values())
        return None, f"no node named {node_name!r}; the graph has {names or 'no nodes'}"
    spec = default_registry().get(node.type)
    if spec is None:
        return None, f"node {node_name!r} has the unknown layer type {node.type!r}; its params cannot be searched"
    try:
        param_spec = spec.param(param)
    except KeyError:
        takes = ", ".join(p.name for p in spec.params) or "none"
        return None, f"node {node_name!r} ({node.type}) has no parameter {param!r}; it takes {takes}"
    return Target(f"{node_name}.{param}", param_spec, node=node_name), None


def project_copy(project: Project) -> Project:
    """A deep copy a trial may change freely (graph, settings and all), leaving the study's project as it is."""
    from nnstudio.io.project_file import loads, to_document

    copied = loads(json.dumps(to_document(project)))
    copied.training = copy.deepcopy(project.training)
    return copied
