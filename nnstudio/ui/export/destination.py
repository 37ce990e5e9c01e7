"""Where the export dialog writes: the folder it proposes, the note under "Save to", a missing folder.

Kept apart from the dialog so each rule is stated once: a project that has no folder of its own (every
example opens unsaved) exports to the last export's folder or the user's documents folder, never to the
installed package; a missing folder is created only when the user says so.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import QMessageBox, QWidget

from nnstudio.io.export.formats import FormatInfo
from nnstudio.ui.export.sources import resolve_output

LAST_FOLDER_KEY = "export/last_folder"  # in the window's QSettings: where the previous export went
SCREEN_MARGIN = 40  # a dialog grown to fit its notes stays this much shorter than the screen


def export_folder(settings: QSettings) -> Path:
    """The last export's folder, else the documents folder, else home: the first that exists."""
    last = settings.value(LAST_FOLDER_KEY, "")
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    for candidate in (last, documents):
        if isinstance(candidate, str) and candidate and Path(candidate).is_dir():
            return Path(candidate)
    return Path.home()


def remember_folder(settings: QSettings, written: Path) -> None:
    settings.setValue(LAST_FOLDER_KEY, str(written.parent))


def path_hint(text: str, info: FormatInfo) -> tuple[str, bool]:
    """(the note under the path, whether it is a warning): what will be written, or why it cannot be."""
    out, reason = resolve_output(text, info)
    if out is None:
        return reason[0].upper() + reason[1:] + ".", True
    if not out.parent.exists():
        return f"The folder {out.parent} does not exist yet: Export offers to create it.", True
    if not out.parent.is_dir():
        return f"{out.parent} is not a folder.", True
    if out.exists():
        replaced = f"{out.name} exists in {out.parent} and will be replaced once the new export has passed its check."
        return replaced, False
    sidecar = " (and a .json sidecar beside it)" if info.name == "safetensors" else ""
    return f"Writes {out.name} in {out.parent}{sidecar}.", False


def ask_create(parent: QWidget, folder: Path) -> bool:
    """Yes/No: create the missing folder?"""
    answer = QMessageBox.question(
        parent,
        "Create folder?",
        f"The folder {folder} does not exist. Create it?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.Yes,
    )
    return answer == QMessageBox.StandardButton.Yes


def create_folder(folder: Path) -> str:
    """Create `folder` and its parents; '' when done, else why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"the folder {folder} could not be created: {exc.strerror or exc}"
    return ""


def fit_height(dialog: QWidget) -> None:
    """Grow (never shrink) `dialog` to the height its wrapped labels need at its width, so none is clipped.

    A dialog does not grow by itself when a word-wrapped label gets longer or appears: its layout squeezes
    the other labels instead (the format descriptions were cut to half a line after a result was shown).
    """
    layout = dialog.layout()
    layout.activate()
    needed = layout.totalHeightForWidth(dialog.width()) if layout.hasHeightForWidth() else -1
    needed = max(needed, layout.totalMinimumSize().height())
    screen = dialog.screen()
    if screen is not None:
        needed = min(needed, screen.availableGeometry().height() - SCREEN_MARGIN)
    dialog.setMinimumHeight(max(needed, 0))
    if dialog.height() < needed:
        dialog.resize(dialog.width(), needed)
