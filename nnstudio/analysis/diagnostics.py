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
