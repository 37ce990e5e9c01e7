"""Structured problems found in a project. Validation returns these; it never raises to the user."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    code: str  # a stable slug, e.g. "cycle", "shape-mismatch"
    severity: Severity
    message: str  # reads on its own: names the node (and port or param) it is about
    node_id: str | None = None
    port: str | None = None
    param: str | None = None
    related: tuple[str, ...] = ()  # other node ids involved (the rest of a cycle, the other end)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def to_json(self) -> dict:
        data = asdict(self)
        data["severity"] = self.severity.value
        data["related"] = list(self.related)
        return data

    def __str__(self) -> str:
        return f"{self.severity.value}: {self.message} [{self.code}]"


def error(code: str, message: str, **where) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, message, **where)


def warning(code: str, message: str, **where) -> Diagnostic:
    return Diagnostic(code, Severity.WARNING, message, **where)


def node_place(name: str, node_type: str) -> str:
    """How every message names a node: `node 'fc1' (Linear)`. The file loader and `validate` share it, so a
    load error and a graph error about the same node read alike."""
    return f"node {name!r} ({node_type})"


def located(diagnostic: Diagnostic, names: dict[str, tuple[str, str]]) -> str:
    """A diagnostic's message with its node named as `node_place` does: "fc1.out_features: expected ..."
    becomes "node 'fc1' (Linear): out_features: expected ...". `names` maps node id to (name, type)."""
    message = diagnostic.message
    if diagnostic.node_id not in names:
        return message
    name, node_type = names[diagnostic.node_id]
    place = node_place(name, node_type)
    for detail in (diagnostic.param, diagnostic.port):
        if detail and message.startswith(f"{name}.{detail}: "):
            return f"{place}: {detail}: {message[len(name) + len(detail) + 3:]}"
    return f"{place}: {message.removeprefix(f'{name}: ')}"
