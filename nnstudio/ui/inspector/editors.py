"""One editor widget per ParamKind. Editors only parse what the user typed; the ParamSpec decides.

Every editor emits `edited(candidate)` with its best reading of the input (a number, a list, or the
raw text when it does not parse) and `typing(candidate)` while text is being typed, so the form can
show ParamSpec.coerce's reason before anything is applied. `set_value` never emits.
"""

from __future__ import annotations

import math
import re
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from nnstudio.layers.params import ParamKind, ParamSpec

INT_LIMIT = 2**31 - 1
FLOAT_LIMIT = 1e300
NONE_TEXT = "none"


class ParamEditor(QWidget):
    """A thin wrapper, so the form handles every kind the same way."""

    edited = Signal(object)  # a candidate value the user committed
    typing = Signal(object)  # a candidate value while the user is still typing

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.quiet = False  # set while showing a value, so the spin box's re-validation is not "typing"
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def value(self) -> Any:
        raise NotImplementedError

    def field(self) -> QWidget:
        """The inner Qt widget (for focus, tests and styling)."""
        return self.layout().itemAt(0).widget()


# --- numbers ---------------------------------------------------------------------------------
class _IntSpin(QSpinBox):
    def __init__(self, editor: IntEditor) -> None:
        super().__init__()
        self._editor = editor

    def validate(self, text: str, pos: int) -> object:
        state = super().validate(text, pos)
        self._editor.report_text(text)
        return state


class IntEditor(ParamEditor):
    """A spin box. Optional ints use a 'none' entry one step below the minimum."""

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.box = _IntSpin(self)
        # A QSpinBox holds 32-bit ints: wider bounds (a plugin's, say) are narrowed to what it can show.
        low = max(int(spec.minimum), -INT_LIMIT) if spec.minimum is not None else -INT_LIMIT
        high = min(int(spec.maximum), INT_LIMIT) if spec.maximum is not None else INT_LIMIT
        self._none = low - 1 if spec.optional else None
        self.box.setRange(self._none if self._none is not None else low, high)
        if spec.optional:
            self.box.setSpecialValueText(NONE_TEXT)
        self.box.setKeyboardTracking(False)  # typing "128" is one change, not 1, 12, 128
        self.box.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self.box.setAccelerated(True)
        self.box.valueChanged.connect(lambda v: self.edited.emit(self._from_box(v)))
        self.layout().addWidget(self.box)

    def _from_box(self, number: int) -> int | None:
        return None if number == self._none else number

    def report_text(self, text: str) -> None:
        """Out-of-range typing is refused by the spin box; say why instead of failing silently."""
        if self.quiet:
            return
        stripped = text.strip().removeprefix(self.box.prefix()).removesuffix(self.box.suffix()).strip()
        if self.spec.optional and stripped == NONE_TEXT:
            self.typing.emit(None)
            return
        try:
            self.typing.emit(int(stripped))
        except ValueError:
            self.typing.emit(stripped if stripped not in ("", "-", "+") else self.value())

    def set_value(self, value: Any) -> None:
        number = self._none if value is None and self._none is not None else value
        if isinstance(number, int) and number != self.box.value():
            self.quiet = True
            self.box.blockSignals(True)
            self.box.setValue(number)
            self.box.blockSignals(False)
            self.quiet = False

    def value(self) -> int | None:
        return self._from_box(self.box.value())


class _FloatSpin(QDoubleSpinBox):
    """Shows floats the way Python prints them (1e-05, 0.01), not with fixed decimals."""

    def __init__(self, editor: FloatEditor) -> None:
        super().__init__()
        self._editor = editor
        self.setDecimals(15)

    def textFromValue(self, value: float) -> str:
        return format_float(value)

    def valueFromText(self, text: str) -> float:
        if self.specialValueText() and text.strip() == self.specialValueText():
            return self.minimum()
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> object:
        self._editor.report_text(text)
        if self.specialValueText() and text.strip() == self.specialValueText():
            return QValidator.State.Acceptable, text, pos
        try:
            number = float(text)
        except ValueError:
            return QValidator.State.Intermediate, text, pos
        if not math.isfinite(number) or not self.minimum() <= number <= self.maximum():
            return QValidator.State.Intermediate, text, pos
        return QValidator.State.Acceptable, text, pos

    def fixup(self, text: str) -> str:
        return format_float(self.value())

    def stepBy(self, steps: int) -> None:
        super().stepBy(steps)
        rounded = float(f"{self.value():.10g}")  # 0.1 + 0.2 steps to 0.3, not 0.30000000000000004
        if rounded != self.value():
            self.setValue(rounded)


def format_float(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") and "e" not in text else text


class FloatEditor(ParamEditor):
    """A spin box that accepts any float notation. Optional floats use a 'none' entry below the minimum."""

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.box = _FloatSpin(self)
        low = spec.minimum if spec.minimum is not None else -FLOAT_LIMIT
        high = spec.maximum if spec.maximum is not None else FLOAT_LIMIT
        self._none = low - 1.0 if spec.optional else None
        self.box.setRange(self._none if self._none is not None else low, high)
        if spec.optional:
            self.box.setSpecialValueText(NONE_TEXT)
        self.box.setKeyboardTracking(False)
        self.box.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self.box.valueChanged.connect(lambda v: self.edited.emit(self._from_box(v)))
        self.layout().addWidget(self.box)

    def _from_box(self, number: float) -> float | None:
        return None if self._none is not None and number <= self._none else float(number)

    def report_text(self, text: str) -> None:
        if self.quiet:
            return
        if self.spec.optional and text.strip() == NONE_TEXT:
            self.typing.emit(None)
            return
        try:
            self.typing.emit(float(text))
        except ValueError:
            self.typing.emit(text if text.strip() not in ("", "-", "+", ".") else self.value())

    def set_value(self, value: Any) -> None:
        number = self._none if value is None else value
        if isinstance(number, (int, float)) and float(number) != self.box.value():
            self.quiet = True
            self.box.blockSignals(True)
            self.box.setValue(float(number))
            self.box.blockSignals(False)
            self.quiet = False

    def value(self) -> float | None:
        return self._from_box(self.box.value())


# --- choices and flags -----------------------------------------------------------------------
class ChoiceEditor(ParamEditor):
    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.box = QComboBox()
        self._values: list[Any] = ([None] if spec.optional else []) + list(spec.choices)
        for choice in self._values:
            self.box.addItem(NONE_TEXT if choice is None else str(choice))
        self.box.currentIndexChanged.connect(lambda i: self.edited.emit(self._values[i]))
        self.layout().addWidget(self.box)

    def set_value(self, value: Any) -> None:
        if value in self._values and self._values.index(value) != self.box.currentIndex():
            self.box.blockSignals(True)
            self.box.setCurrentIndex(self._values.index(value))
            self.box.blockSignals(False)

    def value(self) -> Any:
        return self._values[self.box.currentIndex()]


class BoolEditor(ParamEditor):
    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.box = QCheckBox()
        self.box.toggled.connect(self.edited.emit)
        self.layout().addWidget(self.box)

    def set_value(self, value: Any) -> None:
        if bool(value) != self.box.isChecked():
            self.box.blockSignals(True)
            self.box.setChecked(bool(value))
            self.box.blockSignals(False)

    def value(self) -> bool:
        return self.box.isChecked()


# --- text ------------------------------------------------------------------------------------
_SEPARATORS = re.compile(r"[\s,x×()\[\]]+")


def parse_ints(text: str, single_allowed: bool) -> Any:
    """'1, 28, 28' -> [1, 28, 28]; '3' -> 3 where a single int is allowed; otherwise the text."""
    tokens = [t for t in _SEPARATORS.split(text.strip()) if t]
    try:
        numbers = [int(t) for t in tokens]
    except ValueError:
        return text
    if single_allowed and len(numbers) == 1:
        return numbers[0]
    return numbers if numbers else text


def parse_floats(text: str) -> Any:
    """'0.5, 2' -> [0.5, 2.0]; text that is not numbers is returned as is, for the spec to refuse."""
    tokens = [t for t in _SEPARATORS.split(text.strip()) if t]
    try:
        return [float(t) for t in tokens]
    except ValueError:
        return text


def format_ints(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


class TextEditor(ParamEditor):
    """A line edit for tuples, shapes and strings. Applies on Return or focus out."""

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.line = QLineEdit()
        if spec.kind is ParamKind.SHAPE:
            self.line.setPlaceholderText("e.g. 1, 28, 28")
        elif spec.kind is ParamKind.INT_TUPLE:
            self.line.setPlaceholderText(f"an integer or {spec.length} integers, e.g. 3 or 3, 3")
        elif spec.kind is ParamKind.FLOAT_LIST:
            self.line.setPlaceholderText("numbers, e.g. 0.5, 1, 2")
        elif spec.kind is ParamKind.INT_LIST:
            self.line.setPlaceholderText("integers, e.g. 0, 1, 0, 1")
        if spec.optional:
            self.line.setPlaceholderText("empty for none")
        self._shown: Any = None
        self.line.textEdited.connect(lambda text: self.typing.emit(self.parse(text)))
        self.line.editingFinished.connect(self._finish)
        self.layout().addWidget(self.line)

    def parse(self, text: str) -> Any:
        if self.spec.optional and not text.strip():
            return None
        if self.spec.kind is ParamKind.STRING:
            return text
        if self.spec.kind is ParamKind.FLOAT_LIST:
            return parse_floats(text)
        if self.spec.kind is ParamKind.SHAPE and self.spec.min_length == 0 and not text.strip():
            return []
        return parse_ints(text, single_allowed=self.spec.kind is ParamKind.INT_TUPLE)

    def _finish(self) -> None:
        candidate = self.parse(self.line.text())
        if candidate != self._shown:
            self.edited.emit(candidate)

    def set_value(self, value: Any) -> None:
        self._shown = value
        text = value if self.spec.kind is ParamKind.STRING and value is not None else format_ints(value)
        if text != self.line.text():
            self.line.setText(text)

    def revert(self) -> None:
        """Put the last accepted value back after a refused edit."""
        self.set_value(self._shown)

    def value(self) -> Any:
        return self.parse(self.line.text())


_EDITORS: dict[ParamKind, type[ParamEditor]] = {
    ParamKind.INT: IntEditor,
    ParamKind.FLOAT: FloatEditor,
    ParamKind.CHOICE: ChoiceEditor,
    ParamKind.BOOL: BoolEditor,
    ParamKind.INT_TUPLE: TextEditor,
    ParamKind.SHAPE: TextEditor,
    ParamKind.STRING: TextEditor,
    ParamKind.FLOAT_LIST: TextEditor,
    ParamKind.INT_LIST: TextEditor,
}


def make_editor(spec: ParamSpec, parent: QWidget | None = None) -> ParamEditor:
    return _EDITORS[spec.kind](spec, parent)
