"""The dataset preview for a text column: each training row as written, as tokens and as the ids the model gets.

Unknown tokens show as <unk>, so a vocabulary that is too small, or text the tokenizer splits badly, is
visible before training. The rows come from nnstudio.training.data.text, which the CLI could print alike.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from nnstudio.training.data import DataSplits
from nnstudio.training.data.text import UNK_ID, training_rows

ROWS = 40
COLUMNS = ("text", "target", "tokens", "ids")
TEXT_WIDTH = 320  # pixels at most for the text column, so the tokens and ids stay in view


class TextPreview(QTableWidget):
    """A read-only table of tokenised training rows; `show_rows(data)` fills it from a text dataset."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setColumnCount(len(COLUMNS))
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.horizontalHeader().setStretchLastSection(True)

    def show_rows(self, data: DataSplits) -> None:
        vocabulary = data.vocabulary
        rows = training_rows(vocabulary, data.train.x.numpy(), ROWS)
        targets = data.train.y.numpy().reshape(len(data.train), -1)
        self.clearContents()
        self.setRowCount(len(rows))
        for index, row in enumerate(rows):
            unknown = sum(i == UNK_ID for i in row.ids)
            cells = (row.text, _target(targets[index], data), " · ".join(row.tokens), " ".join(map(str, row.ids)))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if column == 2 and unknown:
                    item.setToolTip(f"{unknown} token(s) not in the vocabulary of {len(vocabulary.tokens)}")
                self.setItem(index, column, item)
        self.resizeColumnsToContents()
        self.setColumnWidth(0, min(self.columnWidth(0), TEXT_WIDTH))


def _target(target, data: DataSplits) -> str:
    if data.class_names and data.task in ("classification", "binary"):
        index = round(float(target[0]))
        return data.class_names[index] if 0 <= index < len(data.class_names) else str(index)
    return ", ".join(f"{v:.4g}" for v in target[:4])
