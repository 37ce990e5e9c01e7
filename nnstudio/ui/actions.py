"""The window's actions as one table: id, text, shortcut, handler, and where each one appears.

Menus and the toolbar are generated from the table, so adding a command is one line here and the
main window stays composition only. Undo and Redo come from the window's QUndoGroup, which follows
whichever document is open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QToolBar

from nnstudio.ui.diagram_export import export_diagram_dialog
from nnstudio.ui.editor.health_overlay import ACTION_ID as HEALTH_OVERLAY
from nnstudio.ui.editor.health_overlay import toggle_health_overlay
from nnstudio.ui.guide import show_guide
from nnstudio.ui.help import show_about, show_shortcuts
from nnstudio.ui.import_dialog import show_import

if TYPE_CHECKING:
    from nnstudio.ui.main_window import MainWindow

ICONS = Path(__file__).parent / "resources" / "icons"
Key = QKeySequence.StandardKey
Shortcut = QKeySequence.StandardKey | str | None
HELP_MENU = "&Help"


@dataclass(frozen=True)
class ActionSpec:
    id: str
    text: str
    shortcut: Shortcut
    handler: Callable[[MainWindow], object] | None  # None: created by the window (undo/redo)
    menu: str
    tip: str = ""
    icon: str = ""
    toolbar: bool = False
    extra_keys: tuple[str, ...] = ()  # added after the standard key's own bindings
    separator: bool = False  # a separator goes before this entry
    checkable: bool = False  # an on/off entry, on at start


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("file.new", "&New", Key.New, lambda w: w.files.new(), "&File",
               "Start an empty project", "new", toolbar=True),
    ActionSpec("file.open", "&Open…", Key.Open, lambda w: w.files.open(), "&File",
               "Open a project file", "open", toolbar=True),
    ActionSpec("file.examples", "&Examples…", "Ctrl+Shift+E", lambda w: w.show_examples(), "&File",
               "Open one of the shipped example projects", "examples", toolbar=True),
    ActionSpec("file.save", "&Save", Key.Save, lambda w: w.files.save(), "&File",
               "Save the project", "save", toolbar=True, separator=True),
    ActionSpec("file.save_as", "Save &As…", Key.SaveAs, lambda w: w.files.save_as(), "&File",
               "Save the project under a new name"),
    ActionSpec("file.load_weights", "Load &Weights…", None, lambda w: w.weights.choose_file(), "&File",
               "Start training from weights in a file (.safetensors, a torch file, an exported bundle .zip), "
               "matched to the graph by node name and shape", separator=True),
    ActionSpec("file.load_weights_folder", "Load Weights from &Folder…", None, lambda w: w.weights.choose_folder(),
               "&File", "Start training from a checkpoint folder, a run folder (its best checkpoint) or an "
               "exported folder"),
    ActionSpec("file.clear_weights", "Clear Loaded Weights", None, lambda w: w.weights.clear(), "&File",
               "Train from a fresh initialisation again"),
    ActionSpec("file.import", "&Import Model…", "Ctrl+I", show_import, "&File",
               "Turn a PyTorch nn.Module class (this runs its code) or an nnstudio bundle .zip into a new project",
               separator=True),
    ActionSpec("file.export", "&Export Model…", "Ctrl+E", lambda w: w.training.export_model(), "&File",
               "Export the model (TorchScript, ONNX, safetensors, a Python project…), checked against the app's"),
    ActionSpec("file.export_diagram", "Export &Diagram…", None, export_diagram_dialog, "&File",
               "Save the graph as a picture: PNG for slides, SVG for papers"),
    ActionSpec("file.close", "&Close", Key.Close, lambda w: w.close(), "&File",
               "Close this window (asks about unsaved changes)", separator=True),
    ActionSpec("file.quit", "&Quit", Key.Quit, lambda w: w.quit_app(), "&File",
               "Close nnstudio", extra_keys=("Ctrl+Q",)),
    ActionSpec("edit.undo", "&Undo", Key.Undo, None, "&Edit", icon="undo", toolbar=True),
    ActionSpec("edit.redo", "&Redo", Key.Redo, None, "&Edit", icon="redo", toolbar=True),
    ActionSpec("edit.cut", "Cu&t", Key.Cut, lambda w: w.view.cut_selection(), "&Edit",
               "Cut the selected nodes", separator=True),
    ActionSpec("edit.copy", "&Copy", Key.Copy, lambda w: w.view.copy_selection(), "&Edit",
               "Copy the selected nodes and the links between them"),
    ActionSpec("edit.paste", "&Paste", Key.Paste, lambda w: w.view.paste(), "&Edit",
               "Paste nodes copied here or in another nnstudio window"),
    ActionSpec("edit.duplicate", "D&uplicate", "Ctrl+D", lambda w: w.view.duplicate_selection(), "&Edit",
               "Copy and paste the selection in one step"),
    ActionSpec("edit.delete", "&Delete", Key.Delete, lambda w: w.view.delete_selection(), "&Edit",
               "Delete the selected nodes and their links", "delete", extra_keys=("Backspace",)),
    ActionSpec("edit.select_all", "Select &All", Key.SelectAll, lambda w: w.view.select_all(), "&Edit",
               separator=True),
    ActionSpec("edit.add_note", "Add &Note", "Ctrl+Shift+N", lambda w: w.view.add_comment("note"), "&Edit",
               "Add a note to the canvas (double-click it to write; it is saved with the project)", separator=True),
    ActionSpec("edit.add_frame", "Add F&rame", "Ctrl+Shift+R", lambda w: w.view.add_comment("frame"), "&Edit",
               "Frame the selected nodes (or add an empty frame): moving a frame moves what it encloses"),
    ActionSpec("edit.find_layer", "&Find Layer…", Key.Find, lambda w: w.focus_palette_search(), "&Edit",
               "Search the layer palette"),
    ActionSpec("view.zoom_in", "Zoom &In", Key.ZoomIn, lambda w: w.view.zoom_in(), "&View",
               icon="zoom-in", toolbar=True, extra_keys=("Ctrl+=",), separator=True),
    ActionSpec("view.zoom_out", "Zoom &Out", Key.ZoomOut, lambda w: w.view.zoom_out(), "&View",
               icon="zoom-out", toolbar=True),
    ActionSpec("view.fit", "&Fit to Window", "Ctrl+0", lambda w: w.view.fit_to_window(), "&View",
               "Show the whole graph", "fit", toolbar=True),
    ActionSpec("view.auto_layout", "&Auto Layout", "Ctrl+L", lambda w: w.view.auto_layout(), "&View",
               "Arrange the nodes left to right in the order data flows", "layout", toolbar=True),
    ActionSpec(HEALTH_OVERLAY, "&Health Overlay", "Ctrl+Shift+H", toggle_health_overlay, "&View",
               "Show each node's training health (gradients, dead or saturated units, non-finite values) and "
               "links coloured by their gradient, while a run trains or for the run shown", separator=True,
               checkable=True),
    ActionSpec("help.guide", "&User Guide", Key.HelpContents, show_guide, HELP_MENU,
               "Read the guide (the README and docs) here, without a browser"),
    ActionSpec("help.shortcuts", "&Keyboard Shortcuts", "Ctrl+/", show_shortcuts, HELP_MENU,
               "Every keyboard shortcut and canvas gesture"),
    ActionSpec("help.about", "&About nnstudio", None, show_about, HELP_MENU,
               "Versions of nnstudio, torch, Qt and Python, and the device", separator=True),
)

MENUS = ("&File", "&Edit", "&View", HELP_MENU)


@cache
def icon(name: str) -> QIcon:
    """An icon from resources/icons (SVG, so it stays sharp at any scale)."""
    path = ICONS / f"{name}.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()


def shortcuts(spec: ActionSpec) -> list[QKeySequence]:
    """The row's keys. A platform's standard binding that another row claims by name is left out: on X11,
    Delete also means Ctrl+D, which Duplicate declares, and Qt fires neither of two actions sharing a key."""
    if spec.shortcut is None:
        keys: list[QKeySequence] = []
    elif isinstance(spec.shortcut, str):
        keys = [QKeySequence(spec.shortcut)]
    else:
        claimed = _claimed_keys(spec)
        keys = [key for key in QKeySequence.keyBindings(spec.shortcut) if key not in claimed]
    for extra in spec.extra_keys:
        sequence = QKeySequence(extra)
        if sequence not in keys:
            keys.append(sequence)
    return keys


def _claimed_keys(spec: ActionSpec) -> list[QKeySequence]:
    """The keys the other rows spell out (their own shortcut or extra keys)."""
    named = [text for other in ACTIONS if other is not spec
             for text in ((other.shortcut,) if isinstance(other.shortcut, str) else ()) + other.extra_keys]
    return [QKeySequence(text) for text in named]


def create_actions(window: MainWindow) -> dict[str, QAction]:
    """One QAction per table row, parented to the window so shortcuts work everywhere in it."""
    actions: dict[str, QAction] = {}
    for spec in ACTIONS:
        if spec.handler is None:
            action = window.create_undo_action(spec.id)
        else:
            action = QAction(spec.text, window)
            action.triggered.connect(lambda _checked=False, handler=spec.handler: handler(window))
        action.setObjectName(spec.id)
        if spec.checkable:
            action.setCheckable(True)
            action.setChecked(True)
        action.setShortcuts(shortcuts(spec))
        if spec.tip:
            action.setStatusTip(spec.tip)
            action.setToolTip(_tooltip(spec.text, spec.tip, action))
        if spec.icon:
            action.setIcon(icon(spec.icon))
        window.addAction(action)
        actions[spec.id] = action
    return actions


def _tooltip(text: str, tip: str, action: QAction) -> str:
    keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    return f"{tip} ({keys})" if keys else tip


def fill_menus(window: MainWindow, actions: dict[str, QAction], recent_menu: QMenu) -> dict[str, QMenu]:
    menus = {title: window.menuBar().addMenu(title) for title in MENUS}
    for spec in ACTIONS:
        menu = menus[spec.menu]
        if spec.separator:
            menu.addSeparator()
        menu.addAction(actions[spec.id])
        if spec.id == "file.open":
            menu.addMenu(recent_menu)
    HelpMenuLast(window.menuBar(), menus[HELP_MENU])
    return menus


class HelpMenuLast(QObject):
    """Keeps Help the menu bar's last menu, where every platform's users look for it, also when a part
    of the window (the Training menu) adds its own menu after the table's menus were made."""

    def __init__(self, bar: QMenuBar, help_menu: QMenu) -> None:
        super().__init__(bar)
        self.help_action = help_menu.menuAction()
        bar.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.ActionAdded and isinstance(watched, QMenuBar)
                and event.action() is not self.help_action and event.before() is None):
            watched.removeAction(self.help_action)
            watched.addAction(self.help_action)  # its own ActionAdded comes back here and is let through
        return False


def fill_toolbar(toolbar: QToolBar, actions: dict[str, QAction]) -> None:
    previous_menu = None
    for spec in ACTIONS:
        if not spec.toolbar:
            continue
        if previous_menu is not None and spec.menu != previous_menu:
            toolbar.addSeparator()
        toolbar.addAction(actions[spec.id])
        previous_menu = spec.menu
