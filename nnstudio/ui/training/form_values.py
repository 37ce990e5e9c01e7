"""How a training setting's value is shown in a ParamForm and read back: shared by every settings form.

Qt spin boxes hold 32-bit ints and there is no list editor, so some specs are edited in a slightly different
form than the one the setting stores (see `editable`, `to_form`, `from_form`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from nnstudio.layers.params import ParamKind, ParamSpec, ParamValueError

SPIN_LIMIT = 2**31 - 1  # Qt spin boxes hold 32-bit ints; the seed allows more, which a spin box cannot show


def editable(spec: ParamSpec, label: str = "") -> ParamSpec:
    """The spec as a form can edit it: 32-bit bounds for integer spin boxes, lists of numbers as text
    (see `to_form` / `from_form`), and an optional label."""
    if spec.kind is ParamKind.INT and spec.maximum is not None and spec.maximum > SPIN_LIMIT:
        spec = replace(spec, maximum=SPIN_LIMIT)
    if spec.kind is ParamKind.FLOAT_LIST:
        spec = replace(spec, kind=ParamKind.STRING, default="", optional=False,
                       doc=f"{spec.doc} Numbers separated by commas; empty for none.")
    return replace(spec, label=label) if label else spec


def to_form(spec: ParamSpec, value: Any) -> Any:
    """A setting's value as its form field shows it."""
    if spec.kind is ParamKind.FLOAT_LIST:
        return ", ".join(f"{v:g}" for v in value) if isinstance(value, list) else ""
    return value


def from_form(spec: ParamSpec, value: Any) -> Any:
    """A form field's value as the setting stores it; raises ParamValueError with the reason."""
    if spec.kind is ParamKind.FLOAT_LIST:
        text = str(value).strip()
        if not text:
            return spec.coerce(None) if spec.optional else spec.coerce([])
        try:
            numbers = [float(t) for t in text.replace(";", ",").replace(" ", ",").split(",") if t]
        except ValueError:
            raise ParamValueError(f"expected numbers separated by commas, got {text!r}") from None
        return spec.coerce(numbers)
    return value
