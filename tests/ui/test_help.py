"""Help menu: the shortcut list follows the menus (so the actions table), the guide reads the docs locally,
and the About box names the versions and the device."""

from __future__ import annotations

from pathlib import Path

import PySide6
from PySide6.QtCore import QUrl, qVersion
from PySide6.QtGui import QGuiApplication, QImage, QTextDocument

import nnstudio
from nnstudio.ui.actions import ACTIONS, HELP_MENU
from nnstudio.ui.guide import GuideDialog, _packaged_readme, guide_pages
from nnstudio.ui.help import CANVAS_GROUP, AboutDialog, ShortcutsDialog, describe_device, plain, show_about

REPO = Path(__file__).resolve().parents[2]


def test_help_is_the_last_menu_and_holds_its_table_rows(window) -> None:
    titles = [action.text() for action in window.menuBar().actions()]
    assert titles[-1] == HELP_MENU and "&Training" in titles  # added later, still before Help
    help_menu = window.menuBar().actions()[-1].menu()
    wanted = [spec.text for spec in ACTIONS if spec.menu == HELP_MENU]
    assert [a.text() for a in help_menu.actions() if not a.isSeparator()] == wanted


def test_shortcuts_dialog_lists_every_action_with_a_key(window, qtbot) -> None:
    window.actions_by_id["help.shortcuts"].trigger()
    dialog = window.findChild(ShortcutsDialog)
    assert dialog is not None and dialog.isVisible()
    rows = dialog.rows()
    shown = {(group, command): keys for group, command, keys in rows}
    for spec in ACTIONS:
        action = window.actions_by_id[spec.id]
        if action.shortcut().isEmpty():
            continue
        key = (plain(spec.menu), plain(spec.text).rstrip("…"))
        assert key in shown, key
        assert action.shortcut().toString() in shown[key]
    assert shown[("Training", "Train")] == "F5"  # a menu the table does not make is listed too
    assert shown[("File", "Open")] == "Ctrl+O"  # the keyboard's dedicated Open key is left out
    assert any(group == CANVAS_GROUP and "Space+drag" in keys for group, _, keys in rows)
    window.actions_by_id["help.shortcuts"].trigger()
    assert len([d for d in window.findChildren(ShortcutsDialog) if d.isVisible()]) == 1  # raised, not doubled


def test_about_names_versions_and_device(window, qtbot) -> None:
    dialog = show_about(window)
    assert isinstance(dialog, AboutDialog)
    qtbot.waitUntil(lambda: not dialog.checking, timeout=30_000)
    info = dialog.info
    assert info["nnstudio"] == nnstudio.__version__
    assert info["Qt"].startswith(qVersion()) and PySide6.__version__ in info["Qt"]
    import torch

    assert info["torch"] == torch.__version__
    want = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"
    assert want in info["Device"]
    assert all(f"{key}: {value}" in dialog.text() for key, value in info.items())
    dialog.copy()
    assert QGuiApplication.clipboard().text() == dialog.text()


def test_guide_lists_the_readme_and_every_doc_of_a_checkout() -> None:
    pages = guide_pages(REPO)
    paths = [page.path for page in pages]
    assert paths[0] == REPO / "README.md"
    assert set(paths[1:]) == set((REPO / "docs").glob("*.md"))
    training = next(page for page in pages if page.path == REPO / "docs" / "training.md")
    assert training.title == "Training"


def test_guide_without_a_checkout_shows_the_packaged_readme(tmp_path: Path, monkeypatch) -> None:
    assert _packaged_readme().startswith("# nnstudio")  # what a wheel's metadata carries
    monkeypatch.setattr("nnstudio.ui.guide._packaged_readme", lambda: "# nnstudio\n\nFrom the metadata.")
    pages = guide_pages(tmp_path)
    assert len(pages) == 1 and pages[0].path is None
    assert "From the metadata." in pages[0].text and "docs/" in pages[0].text
    monkeypatch.setattr("nnstudio.ui.guide._packaged_readme", lambda: "")
    assert guide_pages(tmp_path) == []


def test_guide_dialog_renders_pages_and_follows_links(window, qtbot) -> None:
    window.actions_by_id["help.guide"].trigger()
    dialog = window.findChild(GuideDialog)
    assert dialog is not None and dialog.isVisible()
    assert "nnstudio" in dialog.browser.toPlainText()
    shot = QUrl.fromLocalFile(str(REPO / "docs" / "screenshots" / "editor.png"))
    image = dialog.browser.loadResource(QTextDocument.ResourceType.ImageResource.value, shot)
    assert QImage(str(REPO / "docs" / "screenshots" / "editor.png")).width() > image.width()  # shrunk to fit
    assert image.width() <= max(480, dialog.browser.viewport().width())
    export = next(row for row, page in enumerate(dialog.pages) if page.path and page.path.name == "export.md")
    dialog.list.setCurrentRow(export)
    assert dialog.browser.source().toLocalFile().endswith("docs/export.md")
    assert "import" in dialog.browser.toPlainText().lower()
    dialog.list.setCurrentRow(0)
    dialog.browser.setSource(dialog.browser.source().resolved("docs/training.md"))  # a README link
    assert Path(dialog.current_path()).name == "training.md"


def test_guide_dialog_without_pages_says_where_the_guide_is(qtbot) -> None:
    dialog = GuideDialog([])
    qtbot.addWidget(dialog)
    assert "No guide found" in dialog.browser.toPlainText() and not dialog.external.isEnabled()


def test_about_names_a_cuda_device(monkeypatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index: f"NVIDIA H200 #{index}")
    monkeypatch.setattr(torch.version, "cuda", "12.8")
    version, device = describe_device()
    assert version == torch.__version__
    assert device == "CUDA 12.8: NVIDIA H200 #0, NVIDIA H200 #1"
