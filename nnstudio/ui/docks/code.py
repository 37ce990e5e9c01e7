"""The Code dock: the compiled model as runnable PyTorch code, read-only, with light highlighting.

The text is the core's `code_listing` (made on the preview's worker thread), the same as `nnstudio code`
prints: imports, copied helper classes, and the model class with its __init__ and forward(). torch.fx ends
statements with `; x = None` to free each value as early as possible; that is only memory housekeeping, so
the dock leaves it out of the forward()-only fallback as well.
"""

from __future__ import annotations

import keyword
import re

from PySide6.QtGui import QColor, QFont, QFontDatabase, QSyntaxHighlighter, QTextCharFormat, QTextDocument
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from nnstudio.ui.docks.preview import PreviewResult
from nnstudio.ui.docks.summary import problems_note

_RELEASES = re.compile(r";\s+\w+ = None(?=;|$)", re.MULTILINE)


def readable(code: str) -> str:
    """fx's code without leading blank lines and without its `; x = None` releases."""
    return _RELEASES.sub("", code).strip() + "\n"


def _format(color: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(color))
    if bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    fmt.setFontItalic(italic)
    return fmt


_STRING = _format("#15803d")
_TRIPLE = '"""'
_IN_DOCSTRING = 1  # block state: the line ends inside a triple-quoted string


class PythonHighlighter(QSyntaxHighlighter):
    """Keywords, self, definitions, numbers, strings, docstrings and comments: enough for generated code."""

    RULES = (  # (pattern, format, the group to colour)
        (re.compile(r"\b(" + "|".join(keyword.kwlist) + r")\b"), _format("#7c3aed", bold=True), 0),
        (re.compile(r"\bself\b"), _format("#b45309"), 0),
        (re.compile(r"\b(?:def|class)\s+(\w+)"), _format("#1d4ed8", bold=True), 1),
        (re.compile(r"\b(torch|nn|F)\b"), _format("#0f766e"), 0),
        (re.compile(r"\b\d+(\.\d+)?([eE][-+]?\d+)?\b"), _format("#b91c1c"), 0),
        (re.compile(r"'[^'\n]*'|\"[^\"\n]*\""), _STRING, 0),
        (re.compile(r"#[^\n]*"), _format("#6b7280", italic=True), 0),
    )

    def highlightBlock(self, text: str) -> None:
        for pattern, fmt, group in self.RULES:
            for match in pattern.finditer(text):
                start, end = match.span(group)
                self.setFormat(start, end - start, fmt)
        self._docstrings(text)

    def _docstrings(self, text: str) -> None:
        """Triple-quoted strings, which span lines: the block state carries 'inside one' to the next line."""
        inside = self.previousBlockState() == _IN_DOCSTRING
        start = search = 0  # where the current string began on this line (0: on a line above)
        while True:
            if not inside:
                start = text.find(_TRIPLE, search)
                if start == -1:
                    self.setCurrentBlockState(0)
                    return
                search, inside = start + 3, True
            end = text.find(_TRIPLE, search)
            if end == -1:
                self.setFormat(start, len(text) - start, _STRING)
                self.setCurrentBlockState(_IN_DOCSTRING)
                return
            self.setFormat(start, end + 3 - start, _STRING)
            search, inside = end + 3, False


class CodePanel(QWidget):
    """Shows the latest generated code; while the graph is invalid, the last good code stays, dimmed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.note = QLabel("Generating code…")
        self.note.setWordWrap(True)
        self.note.setContentsMargins(4, 4, 4, 4)
        self.editor = QPlainTextEdit()
        self.editor.setReadOnly(True)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.highlighter = PythonHighlighter(self.editor.document())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.note)
        layout.addWidget(self.editor)

    @property
    def text_document(self) -> QTextDocument:
        return self.editor.document()

    def code(self) -> str:
        return self.editor.toPlainText()

    def show_result(self, result: PreviewResult) -> None:
        if result.code is None:
            reason = (problems_note(result.problems, "the code") if result.problems
                      else f"Could not compile the graph: {result.error}")
            shown = " Showing the code of the last valid graph." if self.code() else ""
            self.note.setText(reason + shown)
            self.note.setVisible(True)
            self.editor.setEnabled(False)
            return
        self.note.setVisible(False)
        self.editor.setEnabled(True)
        code = readable(result.code)
        if code != self.code():
            scroll = self.editor.verticalScrollBar().value()
            self.editor.setPlainText(code)
            self.editor.verticalScrollBar().setValue(scroll)
