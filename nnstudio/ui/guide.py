"""Help ▸ User Guide: the README and docs/*.md, read locally in a QTextBrowser (no network, no browser).

Where the guide comes from depends on how nnstudio was installed. A source checkout (a clean clone with
`pip install -e .`) has README.md and docs/ beside the package folder, and every page is listed, with
their links between each other and their screenshots working. A wheel carries no docs/ folder, but its
metadata holds the README as the long description, so that page is shown from there, with a line saying
where the rest lives. Only when neither is there does the dialog say so instead of showing an empty page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QImage, QTextDocument
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QListWidget,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

import nnstudio
from nnstudio.ui.help import show_once

SOURCE_ROOT = Path(nnstudio.__file__).resolve().parent.parent  # the checkout, for an editable install
DOCS_URL = "docs/ in the nnstudio source repository"
TITLE = re.compile(r"^#\s+(.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class GuidePage:
    title: str
    path: Path | None  # a local Markdown file, or None for text taken from the package metadata
    text: str = ""


def _title(text: str, fallback: str) -> str:
    found = TITLE.search(text)
    return found.group(1).replace("`", "") if found else fallback


def guide_pages(root: Path = SOURCE_ROOT) -> list[GuidePage]:
    """The README first, then docs/*.md by title: from the checkout if there is one, else the metadata."""
    readme, docs = root / "README.md", root / "docs"
    if readme.is_file() and docs.is_dir() and (root / "pyproject.toml").is_file():  # not a site-packages stray
        pages = [GuidePage("Overview (README)", readme)]
        others = [GuidePage(_title(_read(path), path.stem), path) for path in sorted(docs.glob("*.md"))]
        return pages + sorted(others, key=lambda page: page.title.lower())
    description = _packaged_readme()
    if description:
        note = f"\n\n---\n\n*This nnstudio was installed without its docs folder; the full guide is in {DOCS_URL}.*\n"
        return [GuidePage("Overview (README)", None, description + note)]
    return []


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _packaged_readme() -> str:
    try:
        return metadata.metadata("nnstudio").get("Description", "") or ""
    except metadata.PackageNotFoundError:
        return ""


class GuideBrowser(QTextBrowser):
    """A QTextBrowser that shrinks a page's screenshots to the width it has (they are taken at 1400 px)."""

    def loadResource(self, kind: int, url: QUrl) -> object:
        data = super().loadResource(kind, url)
        if kind != QTextDocument.ResourceType.ImageResource.value or data is None:
            return data
        image = data if isinstance(data, QImage) else QImage.fromData(data)
        width = max(480, self.viewport().width() - 40)  # before the first layout the viewport is tiny
        if image.isNull() or image.width() <= width:
            return data
        return image.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation)


class GuideDialog(QDialog):
    """Pages on the left, the page on the right; links to other pages open here, web links in the browser."""

    def __init__(self, pages: list[GuidePage], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("nnstudio User Guide")
        self.resize(1000, 700)
        self.pages = pages
        self.list = QListWidget()
        self.list.addItems([page.title for page in pages])
        self.browser = GuideBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.sourceChanged.connect(self._follow_link)
        splitter = QSplitter()
        splitter.addWidget(self.list)
        splitter.addWidget(self.browser)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([280, 720])
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.external = QPushButton("Open File")
        self.external.setToolTip("Open this page's Markdown file with the system's viewer")
        self.external.clicked.connect(self.open_externally)
        buttons.addButton(self.external, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(buttons)
        self.list.currentRowChanged.connect(self.show_page)
        if pages:
            self.list.setCurrentRow(0)
        else:
            self.browser.setMarkdown(
                f"# No guide found\n\nThis installation has neither the docs folder nor "
                f"the README. The guide is in {DOCS_URL}."
            )
            self.external.setEnabled(False)

    def show_page(self, row: int) -> None:
        if not 0 <= row < len(self.pages):
            return
        page = self.pages[row]
        if page.path is not None:
            if self.browser.source() != QUrl.fromLocalFile(str(page.path)):
                self.browser.setSource(QUrl.fromLocalFile(str(page.path)))
        else:
            self.browser.setMarkdown(page.text)
        self.external.setEnabled(page.path is not None)

    def _follow_link(self, url: QUrl) -> None:
        """A link to another page of the guide selects it in the list too."""
        for row, page in enumerate(self.pages):
            if page.path is not None and url.isLocalFile() and Path(url.toLocalFile()) == page.path:
                self.list.blockSignals(True)
                self.list.setCurrentRow(row)
                self.list.blockSignals(False)
                self.external.setEnabled(True)
                return

    def current_path(self) -> Path | None:
        row = self.list.currentRow()
        return self.pages[row].path if 0 <= row < len(self.pages) else None

    def open_externally(self) -> None:
        path = self.current_path()
        if path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def show_guide(window: QWidget) -> QDialog:
    return show_once(window, GuideDialog, lambda: GuideDialog(guide_pages(), window))
