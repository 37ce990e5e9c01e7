"""Perspectives: Design, Train and Evaluate, each a way of using the one window with its own dock layout.

Designing a graph needs the canvas, the palette and the inspector; watching or judging a run needs the plots,
which cannot be read in a bottom dock that shares its height with the canvas. So, as Neural Network Console
does, the window has three perspectives: in Design the canvas is the central area and the training workbench
is a dock; in Train and Evaluate the workbench (run controls, live plots, evaluation, runs) takes the central
area. In Train the canvas stays in view beside the plots (a splitter; drag it shut to give the plots the whole
width), because the canvas carries the run's health badges (ui/editor/health_overlay.py); in Evaluate it steps
aside. Each perspective keeps its own dock layout (QMainWindow.saveState), saved in
QSettings, so a dock moved in Train stays where it was put the next time Train is entered.

The table PERSPECTIVES declares them once: the toolbar's segmented buttons, the View menu entries and their
shortcuts (Ctrl+1, 2, 3) are made from it. Starting a run switches to Train (Ctrl+1 goes back to Design).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

TRAINING_DOCK = "dock_training"  # the dock that holds the workbench in Design (see ui/training/controller.py)


@dataclass(frozen=True)
class Perspective:
    id: str
    title: str
    shortcut: str
    tip: str
    workbench: bool  # the training workbench takes the central area
    canvas: bool  # with the workbench: the canvas stays beside it (the run's health badges are on it)
    tab: str  # the workbench tab brought up on entering ("plots", "evaluation"), "" for none
    docks: tuple[str, ...]  # the docks shown the first time (no saved layout yet), by object name


PERSPECTIVES: tuple[Perspective, ...] = (
    Perspective(
        "design",
        "&Design",
        "Ctrl+1",
        "Edit the graph: canvas, palette, inspector and problems",
        False,
        False,
        "",
        (
            "dock_palette",
            "dock_inspector",
            "dock_problems",
            "dock_summary",
            "dock_code",
            "dock_training_settings",
            TRAINING_DOCK,
        ),
    ),
    Perspective(
        "train",
        "&Train",
        "Ctrl+2",
        "Watch and steer a run: the live plots, beside the canvas with its health badges",
        True,
        True,
        "plots",
        ("dock_training_settings",),
    ),
    Perspective(
        "evaluate",
        "&Evaluate",
        "Ctrl+3",
        "Judge a trained model: the evaluation takes the window",
        True,
        False,
        "evaluation",
        (),
    ),
)
BY_ID = {p.id: p for p in PERSPECTIVES}
STATE_KEYS = {"design": "window/state", "train": "window/state_train", "evaluate": "window/state_evaluate"}
SPLIT_KEY = "window/train_canvas_split"
CANVAS_SHARE = 0.38  # of the width, for the canvas beside the plots in Train the first time
CANVAS_MIN_WINDOW = 1200  # a narrower window starts with the canvas folded away (drag the left edge to open it)


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    label.setStyleSheet("color: #777;")
    return label


class Perspectives(QObject):
    """Switches the window between the perspectives; `changed(id)` follows every switch."""

    changed = Signal(str)

    def __init__(self, window: QMainWindow, center: QStackedWidget, settings: QSettings) -> None:
        super().__init__(window)
        self.window = window
        self.center = center
        self.settings = settings
        self.current = "design"
        self.workspace = QWidget()  # the central page that holds the workbench in Train and Evaluate
        self.workspace.setObjectName("perspective_workspace")
        outer = QVBoxLayout(self.workspace)
        outer.setContentsMargins(0, 0, 0, 0)
        self.split = QSplitter(Qt.Orientation.Horizontal)  # [the canvas, in Train] | the workbench
        self.split.setObjectName("perspective_split")
        self.split.setChildrenCollapsible(True)
        outer.addWidget(self.split)
        self.bench_area = QWidget()
        self._layout = QVBoxLayout(self.bench_area)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.split.addWidget(self.bench_area)
        self._waiting = _note("Loading the training tools…")
        self._layout.addWidget(self._waiting)
        self._away = _note("The training workbench is shown in the Train and Evaluate perspectives (Ctrl+2, Ctrl+3).")
        center.addWidget(self.workspace)
        self.group = QActionGroup(self)
        self.group.setExclusive(True)
        self.actions: dict[str, QAction] = {}
        for spec in PERSPECTIVES:
            action = QAction(spec.title, window)
            action.setObjectName(f"perspective_{spec.id}")
            action.setCheckable(True)
            action.setShortcut(QKeySequence(spec.shortcut))
            action.setToolTip(f"{spec.tip} ({spec.shortcut})")
            action.setStatusTip(spec.tip)
            action.triggered.connect(lambda _checked=False, key=spec.id: self.set_mode(key))
            self.group.addAction(action)
            self.actions[spec.id] = action
        self.actions["design"].setChecked(True)
        self._connected = False

    # --- menus and toolbar -------------------------------------------------------------------
    def fill_menu(self, menu: QMenu) -> None:
        menu.addSeparator()
        for action in self.actions.values():
            menu.addAction(action)

    def make_toolbar(self) -> QToolBar:
        """The segmented Design | Train | Evaluate switch, at the right of the main toolbar."""
        toolbar = QToolBar("Perspectives", self.window)
        toolbar.setObjectName("toolbar_perspectives")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in self.actions.values():
            toolbar.addAction(action)
        return toolbar

    # --- the workbench -----------------------------------------------------------------------
    def _controller(self):
        return getattr(self.window, "training", None)

    def attach(self) -> None:
        """Follow the training controller: its workbench appears once built, and a run switches to Train."""
        controller = self._controller()
        if controller is None or self._connected:
            return
        self._connected = True
        controller.grow_dock_on_train = False  # Train gives the plots the window; the Design dock stays as it is
        controller.ready.connect(self._on_ready)
        if controller.bench is not None:
            self._on_ready()

    def _on_ready(self) -> None:
        bench = self._controller().bench
        bench.run_started.connect(lambda _session: self.set_mode("train"))
        self._place_workbench(BY_ID[self.current].workbench)
        if self.current != "design":
            self._raise_tab(BY_ID[self.current])

    def _place_workbench(self, central: bool) -> None:
        controller = self._controller()
        bench = controller.bench if controller is not None else None
        if bench is None:
            return
        body = bench.dock_body
        if central and body.parentWidget() is not self.bench_area:
            controller.training_dock.setWidget(self._away)
            self._waiting.hide()
            self._layout.addWidget(body)
            body.show()
        elif not central and body.parentWidget() is self.bench_area:
            self._layout.removeWidget(body)
            controller.training_dock.setWidget(body)
            body.show()

    def _place_canvas(self, beside: bool) -> None:
        """The canvas into the Train split (left of the plots), or back into the centre for Design."""
        view = self.window.view
        if beside and view.parentWidget() is not self.split:
            self.center.removeWidget(view)
            self.split.insertWidget(0, view)
            view.show()
            self._restore_split()
        elif not beside and view.parentWidget() is self.split:
            self.settings.setValue(SPLIT_KEY, self.split.sizes())
            view.setParent(None)
            self.center.insertWidget(0, view)

    def _restore_split(self) -> None:
        saved = self.settings.value(SPLIT_KEY)
        sizes = [int(size) for size in saved] if isinstance(saved, list) and len(saved) == 2 else None
        if sizes is None or sum(sizes) <= 0:
            width = max(self.window.width(), 400)
            share = CANVAS_SHARE if width >= CANVAS_MIN_WINDOW else 0.0  # the plots need the room more
            sizes = [int(width * share), int(width * (1 - share))]
        self.split.setSizes(sizes)

    def _raise_tab(self, spec: Perspective) -> None:
        controller = self._controller()
        bench = controller.bench if controller is not None else None
        if bench is not None and spec.tab:
            bench.tabs.setCurrentWidget(getattr(bench, spec.tab))

    # --- switching ---------------------------------------------------------------------------
    def set_mode(self, key: str) -> None:
        """Enter a perspective: save the layout of the one left, restore (or lay out) the new one's."""
        spec = BY_ID[key]
        window = self.window
        if key != self.current:
            self.save()
            self.current = key
            self._place_workbench(spec.workbench)
            self._place_canvas(spec.canvas)
            state = self.settings.value(STATE_KEYS[key])
            if state is None or not window.restoreState(state):
                self._default_layout(spec)
            self.center.setCurrentWidget(self.workspace if spec.workbench else window.view)
            self.settings.setValue("window/perspective", key)
        self._raise_tab(spec)
        controller = self._controller()
        if controller is not None and spec.workbench:
            controller.training_dock.hide()  # its content is in the middle of the window now
        self.actions[key].setChecked(True)
        bench = controller.bench if controller is not None else None
        if bench is not None:
            bench._update_boundary_wanted()
        if key != "design" and window.view.hasFocus():
            window.setFocus()  # canvas shortcuts (Delete, arrows) must not act on a canvas no one sees
        self.changed.emit(key)

    def _default_layout(self, spec: Perspective) -> None:
        for dock in self.window.findChildren(QDockWidget):
            if dock.parent() is self.window:
                dock.setVisible(dock.objectName() in spec.docks)

    def save(self) -> None:
        """Remember the current perspective's layout (on every switch and when the window closes)."""
        self.settings.setValue(STATE_KEYS[self.current], self.window.saveState())
        if self.window.view.parentWidget() is self.split:
            self.settings.setValue(SPLIT_KEY, self.split.sizes())

    def design_state(self):
        """The Design layout as saved, the one a new window starts with."""
        return self.settings.value(STATE_KEYS["design"])
