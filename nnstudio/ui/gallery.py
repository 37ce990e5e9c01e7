"""The Examples gallery: the shipped example projects with a line each; one opens as a new document.

Each row is a rich-text label. The selected row is drawn in the palette's highlight colours, so its label
switches to the highlighted-text colour (grey on the selection's blue could not be read).
"""

from __future__ import annotations

import html

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nnstudio.examples import EXAMPLES

NAME_ROLE = Qt.ItemDataRole.UserRole + 1
TEXT_ROLE = Qt.ItemDataRole.UserRole + 2


class ExamplesGallery(QDialog):
    """Lists nnstudio.examples.EXAMPLES; `chosen` is the selected example's name after accept()."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Examples")
        self.setMinimumSize(520, 380)
        intro = QLabel("Open an example as a new, untitled project. Saving it asks where to put your copy.")
        intro.setWordWrap(True)
        self.list = QListWidget()
        self.list.setSpacing(2)
        self.list.setAlternatingRowColors(True)
        for example in EXAMPLES.values():
            self._add(example.name, example.title, example.description)
        self.list.itemSelectionChanged.connect(self._restyle)
        self.list.setCurrentRow(0)
        self._restyle()
        self.list.itemActivated.connect(lambda _item: self.accept())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list)
        layout.addWidget(buttons)

    def _add(self, name: str, title: str, description: str) -> None:
        item = QListWidgetItem()
        item.setData(NAME_ROLE, name)
        item.setToolTip(description)
        item.setData(TEXT_ROLE, (title, description))
        label = QLabel()
        label.setContentsMargins(8, 4, 8, 4)
        label.setWordWrap(True)
        label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._render(label, title, description, selected=False)
        item.setSizeHint(QSize(0, label.sizeHint().height() + 6))
        self.list.addItem(item)
        self.list.setItemWidget(item, label)

    def _render(self, label: QLabel, title: str, description: str, selected: bool) -> None:
        palette = self.list.palette()
        if selected:
            main = muted = palette.color(QPalette.ColorRole.HighlightedText).name()
        else:
            main, muted = palette.color(QPalette.ColorRole.Text).name(), palette.color(
                QPalette.ColorRole.PlaceholderText).name()
        label.setStyleSheet(f"QLabel {{ color: {main}; background: transparent; }}")
        label.setText(f"<b>{html.escape(title, quote=False)}</b><br><span style='color:{muted}'>"
                      f"{html.escape(description, quote=False)}</span>")

    def _restyle(self) -> None:
        """Selected rows in the highlighted-text colour, the others in the usual text colours."""
        for row in range(self.list.count()):
            item = self.list.item(row)
            title, description = item.data(TEXT_ROLE)
            label = self.list.itemWidget(item)
            if isinstance(label, QLabel):
                self._render(label, title, description, item.isSelected())

    def label_colors(self, row: int) -> tuple[str, str]:
        """(title colour, description colour) of a row's label, as drawn now (tests)."""
        label = self.list.itemWidget(self.list.item(row))
        main = label.styleSheet().split("color: ", 1)[1].split(";", 1)[0]
        return main, label.text().split("<span style='color:", 1)[1].split("'", 1)[0]

    @property
    def chosen(self) -> str | None:
        item = self.list.currentItem()
        return item.data(NAME_ROLE) if item is not None else None

    def names(self) -> list[str]:
        return [self.list.item(i).data(NAME_ROLE) for i in range(self.list.count())]
