"""The Examples gallery: the shipped example projects with a line each; one opens as a new document."""

from __future__ import annotations

import html

from PySide6.QtCore import QSize, Qt
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
        self.list.setCurrentRow(0)
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
        label = QLabel(f"<b>{html.escape(title, quote=False)}</b><br><span style='color:gray'>"
                       f"{html.escape(description, quote=False)}</span>")
        label.setContentsMargins(8, 4, 8, 4)
        label.setWordWrap(True)
        label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        item.setSizeHint(QSize(0, label.sizeHint().height() + 6))
        self.list.addItem(item)
        self.list.setItemWidget(item, label)

    @property
    def chosen(self) -> str | None:
        item = self.list.currentItem()
        return item.data(NAME_ROLE) if item is not None else None

    def names(self) -> list[str]:
        return [self.list.item(i).data(NAME_ROLE) for i in range(self.list.count())]
