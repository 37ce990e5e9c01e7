"""The Code dock: the compiled module's generated PyTorch code, read-only, with light highlighting.

torch.fx ends statements with `; x = None` to free each value as early as possible. That is only
memory housekeeping, so the dock leaves it out to keep the forward pass readable.
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


class PythonHighlighter(QSyntaxHighlighter):
    """Keywords, self, definitions, numbers, strings and comments: enough for fx's generated code."""

    RULES = (
        (re.compile(r"\b(" + "|".join(keyword.kwlist) + r")\b"), _format("#7c3aed", bold=True)),
        (re.compile(r"\bself\b"), _format("#b45309")),
        (re.compile(r"\bdef\s+(\w+)"), _format("#1d4ed8", bold=True)),
        (re.compile(r"\b(torch|nn|F)\b"), _format("#0f766e")),
        (re.compile(r"\b\d+(\.\d+)?([eE][-+]?\d+)?\b"), _format("#b91c1c")),
        (re.compile(r"'[^'\n]*'|\"[^\"\n]*\""), _format("#15803d")),
        (re.compile(r"#[^\n]*"), _format("#6b7280", italic=True)),
    )

    def highlightBlock(self, text: str) -> None:
        for pattern, fmt in self.RULES:
            for match in pattern.finditer(text):
                group = 1 if pattern.pattern.startswith(r"\bdef") else 0
                start, end = match.span(group)
                self.setFormat(start, end - start, fmt)


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
