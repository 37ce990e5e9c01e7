"""A tiny typed reader over parsed JSON that knows where it is, so every error names its place."""

from __future__ import annotations

from typing import Any

MAX_REPORTED = 20  # problems listed for one file; the rest are counted


class ProjectFileError(Exception):
    """A project file that cannot be loaded. `location` is a JSON path like nodes[3].params.units, or a node
    named as graph diagnostics name it ("node 'fc1' (Linear): out_features").

    One file can have several problems (two bad nodes, a bad edge): the first is this error's own message and
    location, the others are in `more`, so a user fixes them all in one pass instead of one per load."""

    def __init__(self, message: str, location: str = "", path: str = "",
                 more: tuple[ProjectFileError, ...] = ()) -> None:
        self.message = message
        self.location = location
        self.path = path
        self.more = tuple(more)
        super().__init__(self._text())

    @classmethod
    def combine(cls, problems: list[ProjectFileError]) -> ProjectFileError:
        """One error carrying every problem found, in document order."""
        first, *rest = problems
        return cls(first.message, first.location, first.path, tuple(rest))

    @property
    def problems(self) -> list[ProjectFileError]:
        return [self, *self.more]

    def line(self) -> str:
        """This problem alone, as one line: path, place, message."""
        parts = [part for part in (self.path, self.location) if part]
        return ": ".join([*parts, self.message])

    def _text(self) -> str:
        lines = [problem.line() for problem in self.problems[:MAX_REPORTED]]
        if len(self.problems) > MAX_REPORTED:
            lines.append(f"... and {len(self.problems) - MAX_REPORTED} more problem(s)")
        return "\n".join(lines)

    def with_path(self, path: str) -> ProjectFileError:
        return ProjectFileError(self.message, self.location, path, tuple(m.with_path(path) for m in self.more))

    def relocated(self, old_prefix: str, new_prefix: str) -> ProjectFileError:
        """The same problem with a location under `old_prefix` renamed to start with `new_prefix`."""
        location = self.location
        if location.startswith(old_prefix):
            location = new_prefix + location[len(old_prefix):]
        return ProjectFileError(self.message, location, self.path,
                                tuple(m.relocated(old_prefix, new_prefix) for m in self.more))


def describe_json(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


class At:
    """A value plus its location in the document."""

    def __init__(self, value: Any, location: str = "") -> None:
        self.value = value
        self.location = location

    def fail(self, message: str) -> ProjectFileError:
        return ProjectFileError(message, self.location)

    def child(self, key: str | int) -> At:
        if isinstance(key, int):
            return At(self.value[key], f"{self.location}[{key}]")
        return At(self.value[key], f"{self.location}.{key}" if self.location else key)

    def object(self) -> dict[str, Any]:
        if not isinstance(self.value, dict):
            raise self.fail(f"expected an object, got {describe_json(self.value)}")
        return self.value

    def field(self, key: str, default: Any = ..., kind: type | tuple[type, ...] | None = None) -> At:
        data = self.object()
        if key not in data:
            if default is ...:
                raise At(None, f"{self.location}.{key}" if self.location else key).fail("missing field")
            return At(default, f"{self.location}.{key}" if self.location else key)
        child = self.child(key)
        if kind is not None:
            child.expect(kind)
        return child

    def expect(self, kind: type | tuple[type, ...]) -> Any:
        kinds = kind if isinstance(kind, tuple) else (kind,)
        value = self.value
        ok = any(isinstance(value, k) and not (isinstance(value, bool) and k in (int, float)) for k in kinds)
        if not ok:
            wanted = " or ".join(_KIND_NAMES.get(k, k.__name__) for k in kinds)
            raise self.fail(f"expected {wanted}, got {describe_json(value)}")
        return value

    def items(self) -> list[At]:
        self.expect(list)
        return [self.child(index) for index in range(len(self.value))]

    def string(self, key: str, default: Any = ...) -> str:
        return self.field(key, default, str).value

    def number_pair(self, key: str, default: Any = ...) -> tuple[float, float]:
        at = self.field(key, default, list)
        if len(at.value) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                         for v in at.value):
            raise at.fail("expected a list of two numbers [x, y]")
        x, y = at.value
        if not all(abs(v) < 1e9 for v in (x, y)):
            raise at.fail("coordinates must be finite and within ±1e9")
        return float(x), float(y)


_KIND_NAMES = {dict: "an object", list: "a list", str: "a string", int: "an integer", float: "a number",
               bool: "a boolean"}
