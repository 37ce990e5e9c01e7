"""Typed parameter declarations. One ParamSpec drives the inspector widget, file validation and docs."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any


class ParamKind(str, Enum):
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    CHOICE = "choice"
    STRING = "string"
    INT_TUPLE = "int_tuple"  # a fixed-length tuple; a single int is accepted and repeated
    SHAPE = "shape"  # a variable-length list of positive ints, e.g. [1, 28, 28]
    FLOAT_LIST = "float_list"  # a variable-length list of numbers, e.g. per-class loss weights
    INT_LIST = "int_list"  # a variable-length list of integers, e.g. a class-index lookup table


# The largest value any integer param of a layer may take unless its declaration says otherwise (widths,
# channels, vocabulary sizes, shape entries, kernel sizes). 16,777,216 is far above any real layer, and far
# below a size that would try to allocate terabytes: a Linear of 10**12 outputs is refused when the file is
# read, not when the weights are allocated. LayerSpec applies it; docs/file-format.md states it.
MAX_LAYER_SIZE = 2**24
BOUNDED_KINDS = frozenset({"int", "int_tuple", "shape", "int_list"})


class ParamValueError(ValueError):
    """A param value that its spec refuses. The message reads after a location: 'expected ..., got ...'."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class ParamSpec:
    name: str
    kind: ParamKind
    default: Any
    doc: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] = ()
    length: int | None = None  # for INT_TUPLE
    optional: bool = False  # None is a legal value (e.g. "no limit")
    label: str = ""
    min_length: int = 1  # for SHAPE: 0 allows [] (a scalar per sample, such as a class index)

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def bounded(self, limit: int = MAX_LAYER_SIZE) -> ParamSpec:
        """This spec with `limit` as its maximum, if it is a size declared without one: an integer kind with a
        lower bound, or a shape (whose entries are sizes). Dims (which may be negative) are left alone; a dim
        out of range is a shape error, not a huge allocation."""
        is_size = self.kind is ParamKind.SHAPE or self.minimum is not None
        if self.kind.value not in BOUNDED_KINDS or self.maximum is not None or not is_size:
            return self
        return replace(self, maximum=limit)

    def describe(self) -> str:
        """What a legal value looks like, for error messages and tooltips."""
        text = {
            ParamKind.INT: "an integer",
            ParamKind.FLOAT: "a number",
            ParamKind.BOOL: "true or false",
            ParamKind.CHOICE: "one of " + ", ".join(repr(c) for c in self.choices),
            ParamKind.STRING: "a string",
            ParamKind.INT_TUPLE: f"an integer or a list of {self.length} integers",
            ParamKind.SHAPE: "a list of positive integers" if self.minimum is None else "a list of integers",
            ParamKind.FLOAT_LIST: "a list of numbers",
            ParamKind.INT_LIST: "a list of integers",
        }[self.kind]
        text += self._range_text()
        return text + (" or null" if self.optional else "")

    def _range_text(self) -> str:
        lo, hi = self.minimum, self.maximum
        if lo is not None and hi is not None:
            return f" in [{_fmt(lo)}, {_fmt(hi)}]"
        if lo is not None:
            return f" >= {_fmt(lo)}"
        if hi is not None:
            return f" <= {_fmt(hi)}"
        return ""

    def coerce(self, value: Any) -> Any:
        """Return the canonical value or raise ParamValueError naming what was expected."""
        if value is None and self.optional:
            return None
        checker = getattr(self, f"_coerce_{self.kind.value}")
        result = checker(value)
        if result is _BAD:
            raise ParamValueError(f"expected {self.describe()}, got {_show(value)}")
        return result

    def _in_range(self, number: float) -> bool:
        if self.minimum is not None and number < self.minimum:
            return False
        return not (self.maximum is not None and number > self.maximum)

    def _coerce_int(self, value: Any) -> Any:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return value if _is_int(value) and self._in_range(value) else _BAD

    def _coerce_float(self, value: Any) -> Any:
        if not _is_number(value) or not math.isfinite(value):
            return _BAD
        return float(value) if self._in_range(value) else _BAD

    def _coerce_bool(self, value: Any) -> Any:
        return value if isinstance(value, bool) else _BAD

    def _coerce_choice(self, value: Any) -> Any:
        return value if value in self.choices and type(value) is type(self.choices[0]) else _BAD

    def _coerce_string(self, value: Any) -> Any:
        return value if isinstance(value, str) else _BAD

    def _coerce_int_tuple(self, value: Any) -> Any:
        if _is_int(value):
            return value if self._in_range(value) else _BAD
        fits = isinstance(value, (list, tuple)) and len(value) == self.length
        return list(value) if fits and all(_is_int(v) and self._in_range(v) for v in value) else _BAD

    def _coerce_shape(self, value: Any) -> Any:
        # Entries are positive unless `minimum` says otherwise (0 for dim orders, -1 for "infer this dim").
        lowest = 1 if self.minimum is None else self.minimum
        if isinstance(value, (list, tuple)) and self.min_length <= len(value) <= 6 and all(
                _is_int(v) and v >= lowest and self._in_range(v) for v in value):
            return list(value)
        return _BAD

    def _coerce_float_list(self, value: Any) -> Any:
        fits = isinstance(value, (list, tuple)) and 1 <= len(value) <= 100_000
        if fits and all(_is_number(v) and math.isfinite(v) and self._in_range(v) for v in value):
            return [float(v) for v in value]
        return _BAD

    def _coerce_int_list(self, value: Any) -> Any:
        fits = isinstance(value, (list, tuple)) and 1 <= len(value) <= 100_000
        if fits and all((_is_int(v) or (isinstance(v, float) and v.is_integer())) and self._in_range(v)
                        for v in value):
            return [int(v) for v in value]
        return _BAD


_BAD = object()


def coerce_params(specs: tuple[ParamSpec, ...], given: Any, where: str,
                  owner: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Defaults overlaid with `given`, each value checked by its spec, for sections shaped {"params": {...}}
    (a dataset's, a recipe's). Problems are (place, message) pairs under `where`; `owner` names whose params
    they are in the message about an unknown one ("digits", "the gan recipe")."""
    defaults = {spec.name: spec.default for spec in specs}
    if not isinstance(given, dict):
        return defaults, [(where, "expected an object mapping param names to values")]
    known = {spec.name for spec in specs}
    takes = f"; it takes {', '.join(sorted(known))}" if known else "; it takes none"
    problems = [(f"{where}.{key}", f"{owner} has no such param{takes}") for key in given if key not in known]
    for spec in specs:
        if spec.name in given:
            try:
                defaults[spec.name] = spec.coerce(given[spec.name])
            except ParamValueError as exc:
                problems.append((f"{where}.{spec.name}", str(exc)))
    return defaults, problems


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(number)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if len(value) < 40 else repr(value[:37] + "...")
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    text = repr(value)
    return text if len(text) < 40 else text[:37] + "..."


def pair(value: int | list[int]) -> tuple[int, int]:
    """Expand an INT_TUPLE value of length 2."""
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


# Short constructors keep the layer declarations readable.
def int_param(name: str, default: int, doc: str, minimum: int | None = None, maximum: int | None = None,
              optional: bool = False, label: str = "") -> ParamSpec:
    return ParamSpec(name, ParamKind.INT, default, doc, minimum, maximum, optional=optional, label=label)


def float_param(name: str, default: float, doc: str, minimum: float | None = None,
                maximum: float | None = None) -> ParamSpec:
    return ParamSpec(name, ParamKind.FLOAT, default, doc, minimum, maximum)


def bool_param(name: str, default: bool, doc: str) -> ParamSpec:
    return ParamSpec(name, ParamKind.BOOL, default, doc)


def choice_param(name: str, default: Any, choices: tuple[Any, ...], doc: str) -> ParamSpec:
    return ParamSpec(name, ParamKind.CHOICE, default, doc, choices=choices)


def pair_param(name: str, default: int | list[int], doc: str, minimum: int = 0) -> ParamSpec:
    return ParamSpec(name, ParamKind.INT_TUPLE, default, doc, minimum=minimum, length=2)


def shape_param(name: str, default: list[int], doc: str) -> ParamSpec:
    return ParamSpec(name, ParamKind.SHAPE, default, doc)
