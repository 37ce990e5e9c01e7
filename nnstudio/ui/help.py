"""Help ▸ Keyboard Shortcuts and Help ▸ About nnstudio.

The shortcut list is read from the window's menus, which actions.py generates from its table (and the
Training menu adds F5, F6, Shift+F5), so a new command shows up here without being declared twice. The
canvas's own gestures, which are no actions, are the one table below.

The About box shows the versions at once; the device needs torch imported and CUDA asked, which takes
seconds the first time, so that line is filled in from a helper thread.
"""

from __future__ import annotations

import html
import os
import platform
import sys
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from importlib import metadata

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMenu,
    QMenuBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

import nnstudio
from nnstudio.ui.background import FuturePoller, start_thread

CANVAS_GESTURES: tuple[tuple[str, str], ...] = (
    ("Drag from the palette", "Add a layer where it is dropped"),
    ("Double-click in the palette", "Add a layer in the middle of the canvas"),
    ("Drag from a port to a port", "Link two layers"),
    ("Wheel", "Zoom, keeping the point under the mouse in place"),
    ("Middle-drag, or Space+drag", "Pan the canvas"),
    ("Shift+click, Shift+drag", "Add to the selection"),
    ("Esc", "Cancel the gesture and clear the selection"),
)
CANVAS_GROUP = "Canvas"


@dataclass(frozen=True)
class ShortcutRow:
    group: str  # the menu, without its mnemonic
    command: str
    keys: str  # every binding, in the platform's spelling


def plain(text: str) -> str:
    """A menu text without its mnemonic ampersand and trailing ellipsis spacing."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def shortcut_rows(menu_bar: QMenuBar) -> list[ShortcutRow]:
    """Every menu command that has a key, in menu order, then the canvas gestures."""
    rows: list[ShortcutRow] = []
    for top in menu_bar.actions():
        menu = top.menu()
        if isinstance(menu, QMenu):
            rows += _menu_rows(plain(top.text()), menu)
    rows += [ShortcutRow(CANVAS_GROUP, what, keys) for keys, what in CANVAS_GESTURES]
    return rows


def _menu_rows(group: str, menu: QMenu) -> list[ShortcutRow]:
    rows = []
    for action in menu.actions():
        sub = action.menu()
        if isinstance(sub, QMenu):
            rows += _menu_rows(group, sub)
        elif _keys(action):
            rows.append(ShortcutRow(group, plain(action.text()).rstrip("…").rstrip(), _keys(action)))
    return rows


def _keys(action: QAction) -> str:
    native = QKeySequence.SequenceFormat.NativeText
    return ", ".join(key.toString(native) for key in action.shortcuts() if _typeable(key))


def _typeable(sequence: QKeySequence) -> bool:
    """Not a dedicated key that a standard binding also lists (the keyboard's own Open, Save, Zoom In…)."""
    if sequence.isEmpty():
        return False
    key = sequence[0].key().value
    dedicated = Qt.Key.Key_Back.value <= key < Qt.Key.Key_unknown.value or key == Qt.Key.Key_Help.value
    return not dedicated and not Qt.Key.Key_F13.value <= key <= Qt.Key.Key_F35.value  # F13+: a Sun's Copy, Undo…


class ShortcutsDialog(QDialog):
    """Help ▸ Keyboard Shortcuts: one tree, grouped by menu."""

    def __init__(self, rows: list[ShortcutRow], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard Shortcuts")
        self.resize(680, 640)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Command", "Keys"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        groups: dict[str, QTreeWidgetItem] = {}
        for row in rows:
            group = groups.get(row.group)
            if group is None:
                group = groups[row.group] = QTreeWidgetItem(self.tree, [row.group, ""])
                font = group.font(0)
                font.setBold(True)
                group.setFont(0, font)
                group.setFirstColumnSpanned(True)
            QTreeWidgetItem(group, [row.command, row.keys])
        self.tree.expandAll()
        for column in (0, 1):
            self.tree.resizeColumnToContents(column)
        self.tree.setColumnWidth(0, self.tree.columnWidth(0) + 24)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree)
        layout.addWidget(buttons)

    def rows(self) -> list[tuple[str, str, str]]:
        """(group, command, keys) as shown (tests)."""
        out = []
        for index in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(index)
            for child in range(group.childCount()):
                item = group.child(child)
                out.append((group.text(0), item.text(0), item.text(1)))
        return out


def _distribution_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions() -> list[tuple[str, str]]:
    """What is known without importing torch (that comes with the device, off the GUI thread)."""
    torch = sys.modules.get("torch")
    return [
        ("nnstudio", nnstudio.__version__),
        ("torch", getattr(torch, "__version__", None) or _distribution_version("torch")),
        ("Qt", f"{qVersion()} (PySide6 {PySide6.__version__})"),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("System", platform.platform(terse=True)),
    ]


def describe_device() -> tuple[str, str]:
    """(torch version, the device training would use by default). Imports torch: call it off the GUI thread."""
    import torch

    if torch.cuda.is_available():
        names = [torch.cuda.get_device_name(index) for index in range(torch.cuda.device_count())]
        device = f"CUDA {torch.version.cuda}: {', '.join(names)}"
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        device = "Apple Metal (MPS)"
    else:
        device = f"CPU ({platform.machine() or 'unknown'}, {os.cpu_count() or '?'} cores); no CUDA device"
    return torch.__version__, device


def tagline() -> str:
    """The package's one-line description (its docstring after 'nnstudio: '), as a sentence."""
    text = (nnstudio.__doc__ or "").strip().partition(": ")[2] or "Neural networks as graphs."
    return text[:1].upper() + text[1:]


class AboutDialog(QDialog):
    """Help ▸ About nnstudio: versions and device, selectable and copyable for a bug report."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About nnstudio")
        self.info = dict(versions())
        self.info["Device"] = "checking…"
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy these versions, for a bug report")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(buttons)
        self._show()
        self.setMinimumWidth(460)
        self._poller = FuturePoller(self)
        self._poller.watch(start_thread(describe_device, "nnstudio-about-device"), self._on_device)

    @property
    def checking(self) -> bool:
        return self._poller.pending > 0

    def _on_device(self, future: Future) -> None:
        exc = future.exception()
        if exc is not None:
            self.info["Device"] = f"unknown ({type(exc).__name__}: {exc})"
        else:
            self.info["torch"], self.info["Device"] = future.result()
        self._show()

    def _show(self) -> None:
        rows = "".join(
            f"<tr><td style='padding-right:14px'><b>{html.escape(key)}</b></td><td>{html.escape(value)}</td></tr>"
            for key, value in self.info.items()
        )
        self.label.setText(
            f"<h2>nnstudio {html.escape(nnstudio.__version__)}</h2><p>{html.escape(tagline())}</p><table>{rows}</table>"
        )

    def text(self) -> str:
        return "\n".join(f"{key}: {value}" for key, value in self.info.items())

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text())

    def done(self, result: int) -> None:
        self._poller.stop()
        super().done(result)


def show_once(parent: QWidget, kind: type[QDialog], make: Callable[[], QDialog]) -> QDialog:
    """Raise the window's open dialog of this kind, or make and show a new one (closed, it is deleted)."""
    for child in parent.findChildren(kind):
        if child.isVisible():
            child.raise_()
            child.activateWindow()
            return child
    dialog = make()
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog


def show_shortcuts(window: QWidget) -> QDialog:
    return show_once(window, ShortcutsDialog, lambda: ShortcutsDialog(shortcut_rows(window.menuBar()), window))


def show_about(window: QWidget) -> QDialog:
    return show_once(window, AboutDialog, lambda: AboutDialog(window))
