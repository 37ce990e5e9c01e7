"""The main window: composition only. It builds the canvas, docks, menus and status bar and wires
their signals; the behaviour lives in the parts (files.py, actions.py, the docks, the editor).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QUndoGroup
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QStackedWidget,
    QToolBar,
    QWidget,
)

from nnstudio.analysis import Analysis
from nnstudio.io import EXTENSION
from nnstudio.ui.actions import create_actions, fill_menus, fill_toolbar
from nnstudio.ui.dock_room import DockRoom
from nnstudio.ui.docks import CodePanel, ModelPreview, ProblemsPanel, SummaryPanel
from nnstudio.ui.document import Document
from nnstudio.ui.editor import EditorView
from nnstudio.ui.files import FileController
from nnstudio.ui.gallery import ExamplesGallery
from nnstudio.ui.inspector import Inspector
from nnstudio.ui.palette import Palette
from nnstudio.ui.perspectives import Perspectives
from nnstudio.ui.training import install_training
from nnstudio.ui.weights_dialog import WeightsController

DEFAULT_SIZE = (1400, 900)
INSPECTOR_WIDTH = 320


class MainWindow(QMainWindow):
    def __init__(self, document: Document, settings: QSettings | None = None,
                 recovery_folder: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings if settings is not None else QSettings()
        self.document = document
        self.undo_group = QUndoGroup(self)
        self.view = EditorView(document)
        self.center = QStackedWidget()  # the canvas in Design; the training workbench in Train and Evaluate
        self.center.addWidget(self.view)
        self.setCentralWidget(self.center)
        self.perspectives = Perspectives(self, self.center, self.settings)
        self.palette = Palette(document.registry)
        self.inspector = Inspector()
        self.problems = ProblemsPanel()
        self.summary = SummaryPanel()
        self.code = CodePanel()
        self.preview = ModelPreview(parent=self)
        self.docks = self._create_docks()
        self.files = FileController(self, self, document.registry, self.settings, recovery_folder)
        self.weights = WeightsController(self)
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.actions_by_id = create_actions(self)
        menus = fill_menus(self, self.actions_by_id, self.recent_menu)
        self._create_toolbar(menus["&View"])
        self._create_status_bar()
        self._connect()
        self.setAcceptDrops(True)
        self._attach(document)
        self.files.adopt(document)
        self.training = install_training(self)
        self.perspectives.attach()
        self.restore_layout()
        # a window that grows again gives its side docks their width back (the palette's titles fit again)
        self.dock_room = DockRoom(self, {self.docks["palette"]: self.palette.sizeHint().width(),
                                         self.docks["inspector"]: INSPECTOR_WIDTH})

    # --- building ----------------------------------------------------------------------------
    def _create_docks(self) -> dict[str, QDockWidget]:
        area = Qt.DockWidgetArea
        specs = (("palette", "Palette", self.palette, area.LeftDockWidgetArea),
                 ("inspector", "Inspector", self.inspector, area.RightDockWidgetArea),
                 ("problems", "Problems", self.problems, area.BottomDockWidgetArea),
                 ("summary", "Summary", self.summary, area.BottomDockWidgetArea),
                 ("code", "Code", self.code, area.BottomDockWidgetArea))
        self.setCorner(Qt.Corner.BottomLeftCorner, area.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, area.RightDockWidgetArea)
        self.setDockOptions(self.dockOptions() | QMainWindow.DockOption.GroupedDragging)
        docks = {}
        for key, title, widget, where in specs:
            dock = QDockWidget(title, self)
            dock.setObjectName(f"dock_{key}")
            dock.setWidget(widget)
            self.addDockWidget(where, dock)
            docks[key] = dock
        self.tabifyDockWidget(docks["problems"], docks["summary"])
        self.tabifyDockWidget(docks["summary"], docks["code"])
        docks["problems"].raise_()
        return docks

    def _default_dock_sizes(self) -> None:
        """Asked for once the window has its size: earlier, Qt scales the widths down with the small window."""
        docks = self.docks
        self.resizeDocks([docks["palette"], docks["inspector"]], [self.palette.sizeHint().width(), INSPECTOR_WIDTH],
                         Qt.Orientation.Horizontal)
        self.resizeDocks([docks["problems"]], [180], Qt.Orientation.Vertical)

    def _create_toolbar(self, view_menu: QMenu) -> None:
        toolbar = QToolBar("Toolbar", self)
        toolbar.setObjectName("toolbar_main")
        toolbar.setMovable(False)
        fill_toolbar(toolbar, self.actions_by_id)
        self.addToolBar(toolbar)
        self.addToolBar(self.perspectives.make_toolbar())
        self.perspectives.fill_menu(view_menu)
        view_menu.addSeparator()
        panels = view_menu.addMenu("&Panels")
        for dock in self.docks.values():
            panels.addAction(dock.toggleViewAction())
        panels.addAction(toolbar.toggleViewAction())

    def _create_status_bar(self) -> None:
        self.status_label = QLabel()
        self.status_label.setContentsMargins(6, 0, 6, 0)
        self.statusBar().addPermanentWidget(self.status_label)

    def _connect(self) -> None:
        self.view.selection_changed.connect(self.inspector.show_nodes)
        self.view.read_only_changed.connect(self.inspector.set_read_only)
        self.view.status_message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.palette.activated.connect(self.view.add_node_at_center)
        for panel in (self.problems, self.summary):
            panel.node_requested.connect(self.reveal_node)
        self.problems.model.changed.connect(self._show_status)  # the dock and the status bar read one list
        self.preview.ready.connect(self.summary.show_result)
        self.preview.ready.connect(self.code.show_result)
        self.preview.busy_changed.connect(self.summary.show_busy)
        self._showing = {"summary": False, "code": False}
        self.preview.set_active(False)
        for key in self._showing:
            self.docks[key].visibilityChanged.connect(
                lambda visible, k=key: self._on_preview_dock_visibility(k, visible))
        self.files.recent_changed.connect(self._fill_recent_menu)

    def create_undo_action(self, action_id: str) -> QAction:
        """Undo and Redo follow whichever document is open, through the undo group."""
        if action_id == "edit.undo":
            return self.undo_group.createUndoAction(self, "&Undo")
        return self.undo_group.createRedoAction(self, "&Redo")

    # --- the document ------------------------------------------------------------------------
    def set_document(self, document: Document) -> None:
        """Show another document in this window; the old one is disposed of."""
        old = self.document
        if old is document:
            return
        self.document = document
        self.view.set_document(document)
        self._attach(document)
        self.perspectives.set_mode("design")  # a project just opened is shown as a graph
        self.undo_group.removeStack(old.undo_stack)
        old.dispose()
        old.deleteLater()

    def _attach(self, document: Document) -> None:
        document.setParent(self)
        self.undo_group.addStack(document.undo_stack)
        self.undo_group.setActiveStack(document.undo_stack)
        document.analysis_changed.connect(self._on_analysis)
        document.modified_changed.connect(self.setWindowModified)
        document.path_changed.connect(lambda _path: self.update_title())
        document.project.settings_changed.connect(self._on_settings_changed)
        self.inspector.set_document(document)
        self.preview.set_document(document)
        self.problems.set_document(document)
        self._on_analysis(document.analysis)
        self.setWindowModified(document.is_modified())
        self.update_title()

    def _on_settings_changed(self, section: str) -> None:
        if section == "metadata":
            self.update_title()

    def update_title(self) -> None:
        self.setWindowTitle(f"{self.files.display_name(self.document)}[*] — nnstudio")

    def _on_analysis(self, analysis: Analysis) -> None:
        self.problems.show_analysis(analysis)
        self._show_status()

    def _show_status(self) -> None:
        graph = self.document.graph
        self.status_label.setText(f"{_plural(len(graph.nodes), 'node')} · {_plural(len(graph.edges), 'link')} · "
                                  f"{self.problems.summary_text()}")

    def reveal_node(self, node_id: str) -> None:
        """Select a node and bring it into view (from Problems or Summary)."""
        if node_id in self.document.graph.nodes:
            self.view.select_nodes([node_id])
            self.view.center_on_node(node_id)

    def _on_preview_dock_visibility(self, key: str, visible: bool) -> None:
        """Compile for Summary/Code only while one of them is on screen (not a hidden tab)."""
        self._showing[key] = visible
        self.preview.set_active(any(self._showing.values()))

    # --- commands ----------------------------------------------------------------------------
    def show_examples(self) -> None:
        gallery = ExamplesGallery(self)
        if gallery.exec() and gallery.chosen:
            self.files.open_example(gallery.chosen)

    def focus_palette_search(self) -> None:
        self.docks["palette"].show()
        self.docks["palette"].raise_()
        self.palette.search.setFocus()
        self.palette.search.selectAll()

    def quit_app(self) -> None:
        QApplication.closeAllWindows()

    def _fill_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        paths = self.files.recent.paths()
        for path in paths:
            action = menu.addAction(path.name, lambda p=path: self.files.open_path(p))
            action.setStatusTip(str(path))
        if not paths:
            menu.addAction("No recent projects").setEnabled(False)
            return
        menu.addSeparator()
        menu.addAction("Clear Recent Projects", self._clear_recent)

    def _clear_recent(self) -> None:
        self.files.recent.clear()
        self._fill_recent_menu()

    # --- window events -----------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if project_files(event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = project_files(event.mimeData().urls())
        if paths:
            event.acceptProposedAction()
            self.files.open_path(paths[0])

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.files.maybe_save():
            event.ignore()
            return
        self.save_layout()
        self.files.closed()
        self.preview.shutdown()
        self.weights.shutdown()
        self.inspector.dispose()
        event.accept()

    def save_layout(self) -> None:
        """The geometry, and the dock layout of the perspective shown (each perspective keeps its own)."""
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.perspectives.save()

    def restore_layout(self) -> None:
        """A new window opens in Design, with the Design layout it had last."""
        geometry = self.settings.value("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(*DEFAULT_SIZE)
        state = self.perspectives.design_state()
        if state is None or not self.restoreState(state):
            self._default_dock_sizes()


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def project_files(urls: list) -> list[Path]:
    """The local .nnstudio files among dropped URLs."""
    return [Path(u.toLocalFile()) for u in urls if u.isLocalFile() and u.toLocalFile().endswith(EXTENSION)]
