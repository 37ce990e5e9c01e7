"""LivePlots: every training plot in one tabbed widget, fed by RunSeries.

Only the visible tab redraws; switching tabs brings the new one up to date. A second run can be
overlaid (dashed). A training recipe brings its own tabs (a GAN's players and samples, a map's U-matrix and
hit map, robust accuracy, few-shot accuracy): `set_recipe(name)` shows the tabs the recipe's `live_views`
name, and a run shown from the history picks its recipe from its records. `node_clicked(node_id)` fires when
the user clicks a layer's curve or picks a layer,
and `set_selected_nodes` highlights the series of nodes selected on the canvas.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nnstudio.ui.plots.base import MAX_COMPARED, CurvePlot, run_style_word
from nnstudio.ui.plots.boundary import BoundaryGrid, BoundaryView
from nnstudio.ui.plots.curves import LOSS_CURVES, LearningRateView, LossView, MetricView, draw_runs
from nnstudio.ui.plots.gan import GanTab
from nnstudio.ui.plots.layers import ActivationView, GradientView, WeightView
from nnstudio.ui.plots.layout import Maximiser, ScrollTabs, unsqueezable
from nnstudio.ui.plots.recipe_curves import FewShotView, RobustnessView
from nnstudio.ui.plots.series import RunSeries
from nnstudio.ui.plots.som import SomTab

# live view id (RecipeSpec.live_views) -> the LivePlots attribute of the tab that shows it. "metrics" has no tab
# of its own: the loss tab shows a supervised model's metrics, the map tab a SOM's two errors.
VIEW_TABS = {"loss": "curves", "gan_losses": "gan", "gan_scores": "gan",
             "gan_samples": "gan", "u_matrix": "som", "hit_map": "som", "robustness": "robustness",
             "fewshot": "fewshot"}
RECIPE_TABS = ("gan", "som", "robustness", "fewshot")
BOUNDARY_AXES_PX = 50  # the boundary plot's left axis: its pane is this much wider than tall for square regions


def recipe_views(name: str) -> tuple[str, ...]:
    """The live views a recipe declares; those of the default recipe for an unknown name."""
    from nnstudio.training.recipes import DEFAULT_RECIPE, RECIPES

    spec = RECIPES.get(name) or RECIPES[DEFAULT_RECIPE]
    return spec.live_views


def detect_recipe(run: RunSeries | None) -> str | None:
    """The recipe a run's records come from, when they say (a run opened from the history); None: unknown yet."""
    if run is None:
        return None
    named = run.start.get("recipe")
    if isinstance(named, str):
        return named
    if run.has("gan/d_loss") or run.has("epoch/d_loss") or "samples" in run.latest:
        return "gan"
    if "som" in run.latest:
        return "som"
    if run.has("epoch/val_fewshot_accuracy"):
        return "fewshot"
    if run.has("epoch/val_robust_fgsm_accuracy") or run.has("epoch/val_robust_pgd_accuracy"):
        return "adversarial"
    return None


class CurvesTab(QSplitter):
    def __init__(self) -> None:
        super().__init__(Qt.Orientation.Horizontal)
        self.loss = LossView()
        self.metrics = MetricView()
        self.lr = LearningRateView()
        right = unsqueezable(QSplitter(Qt.Orientation.Vertical))
        right.addWidget(self.metrics)
        right.addWidget(self.lr)
        right.setSizes([600, 250])
        self.addWidget(self.loss)
        self.addWidget(right)
        unsqueezable(self)

    def show_runs(self, runs) -> None:
        self.loss.show_runs(runs)
        self.metrics.show_runs(runs)
        self.lr.show_runs(runs)


class BoundaryTab(QSplitter):
    """The decision boundary beside the loss and accuracy, so the regions can be read against the curves."""

    def __init__(self) -> None:
        super().__init__(Qt.Orientation.Horizontal)
        self.boundary = BoundaryView()
        self.loss = CurvePlot("Loss", "loss")
        self.accuracy = CurvePlot("Accuracy", "accuracy")
        side = unsqueezable(QSplitter(Qt.Orientation.Vertical))
        side.addWidget(self.loss)
        side.addWidget(self.accuracy)
        self.addWidget(self.boundary)
        self.addWidget(side)
        unsqueezable(self)
        self.setSizes([520, 480])
        self._user_sized = False  # once the handle is dragged, the user's split stands
        self.splitterMoved.connect(lambda *_: setattr(self, "_user_sized", True))

    def resizeEvent(self, event) -> None:
        """The regions are square (equal units on both axes): give their pane a square, the curves the rest."""
        super().resizeEvent(event)
        if not self._user_sized:
            width, height = self.width(), self.height()
            square = height + BOUNDARY_AXES_PX - self.boundary.caption.sizeHint().height()
            left = max(min(square, int(width * 0.62)), self.boundary.minimumWidth())
            self.setSizes([left, max(width - left, 1)])

    def show_runs(self, runs) -> None:
        draw_runs(self.loss, runs, [c for c in LOSS_CURVES if c[0] != "step/loss"])
        draw_runs(self.accuracy, runs, [("step/accuracy", "train (steps)", "#9ecae1", 1.0),
                                        ("epoch/val_accuracy", "validation", "#ff7f0e", 2.0)])


class LivePlots(QWidget):
    node_clicked = Signal(str)
    export_failed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.curves = CurvesTab()
        self.gradients = GradientView()
        self.activations = ActivationView()
        self.weights = WeightView()
        self.boundary_tab = BoundaryTab()
        self.boundary = self.boundary_tab.boundary
        self.gan = GanTab()
        self.som = SomTab()
        self.robustness = RobustnessView()
        self.fewshot = FewShotView()
        self.tabs = ScrollTabs()  # a page taller than the room scrolls: its plots keep a readable height
        self.tabs.setDocumentMode(True)
        for widget, title in ((self.curves, "Loss && metrics"), (self.gradients, "Gradients"),
                              (self.activations, "Activations"), (self.weights, "Weights"),
                              (self.boundary_tab, "Decision boundary"), (self.gan, "GAN"), (self.som, "Map"),
                              (self.robustness, "Robustness"), (self.fewshot, "Few-shot")):
            self.tabs.addTab(widget, title)
            Maximiser(widget)  # double-click a plot: it takes the page; again: the others come back
        self.tabs.currentChanged.connect(lambda _index: self.refresh())
        for view in (self.gradients, self.activations, self.weights):
            view.node_clicked.connect(self.node_clicked)
        self.caption = QLabel()
        self.caption.setTextFormat(Qt.TextFormat.PlainText)
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.export_menu = QMenu(self.export_button)
        self.export_menu.aboutToShow.connect(self._fill_export_menu)
        self.export_button.setMenu(self.export_menu)
        top = QHBoxLayout()
        top.setContentsMargins(4, 0, 4, 0)
        top.addWidget(self.caption, 1)
        top.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        self.primary: RunSeries | None = None
        self.overlay: RunSeries | None = None  # the second compared run, if any (the rest are in `compared`)
        self.compared: list[tuple[RunSeries, str]] = []  # every compared run after the first, with its name
        self.labels = ("", "")
        self.selected: list[str] = []
        self.step_range: int | None = None
        self.history_records = None  # callable returning the primary run's records, for CSV export
        self.recipe = ""
        self.set_recipe("supervised")
        self.set_boundary_available(False)

    # --- recipes -----------------------------------------------------------------------------
    def set_recipe(self, name: str) -> None:
        """Show the tabs of this recipe's live views (hide the other recipes'), and bring its first one up."""
        if name == self.recipe:
            return
        self.recipe = name
        wanted = {VIEW_TABS[view] for view in recipe_views(name) if view in VIEW_TABS}
        for attribute in (*RECIPE_TABS, "curves"):
            widget = getattr(self, attribute)
            self.tabs.setTabVisible(self.tabs.indexOf(widget), attribute in wanted or
                                    (attribute == "curves" and not wanted))
        first = next((getattr(self, a) for a in (*RECIPE_TABS, "curves") if a in wanted), self.curves)
        if not self.tabs.isTabVisible(self.tabs.currentIndex()) or self.tabs.currentWidget() is not first:
            self.tabs.setCurrentWidget(first)

    # --- data --------------------------------------------------------------------------------
    def show_run(self, primary: RunSeries | None, label: str = "", overlay: RunSeries | None = None,
                 overlay_label: str = "") -> None:
        """Set the run(s) to draw, then redraw the visible tab."""
        self.compare_runs([(primary, label), *([(overlay, overlay_label)] if overlay is not None else [])])

    def compare_runs(self, runs: list[tuple[RunSeries | None, str]]) -> None:
        """Draw any number of runs (up to MAX_COMPARED) together: the same colours, one line each (base.run_style)."""
        runs = runs[:MAX_COMPARED]
        primary, label = runs[0] if runs else (None, "")
        self.primary, self.compared = primary, [(run, name) for run, name in runs[1:] if run is not None]
        self.overlay = self.compared[0][0] if self.compared else None
        self.labels = (label, self.compared[0][1] if self.compared else "")
        shown = f"Showing {label}" if label else ""
        if self.compared:
            names = [label, *(name for _, name in self.compared)]
            shown = "Comparing " + ", ".join(f"{name} ({run_style_word(i)})" for i, name in enumerate(names))
        self.caption.setText(shown)
        found = detect_recipe(primary)
        if found is not None or (primary is not None and primary.start):
            self.set_recipe(found or "supervised")  # a live run's recipe is set by the workbench
        self.refresh()

    def runs(self) -> list[tuple[RunSeries, str]]:
        runs = []
        if self.primary is not None:
            runs.append((self.primary, f" · {self.labels[0]}" if self.compared else ""))
        runs += [(run, f" · {name}") for run, name in self.compared]
        return runs

    def refresh(self) -> None:
        """Redraw the visible tab from the runs' current data."""
        current = self.tabs.currentWidget()
        self._apply_step_range(current)
        current.show_runs(self.runs())
        if self.selected:
            self._highlight(current)

    def set_step_range(self, total_steps: int | None) -> None:
        """Fix the step axis of every step-based plot to [0, total] for a live run (None: fit the data).

        A fixed axis reads like a progress bar, and pyqtgraph then never regenerates the x ticks while the
        curves grow, which is a large part of what a redraw costs. Applied to the visible tab now and to
        the others when they are shown.
        """
        self.step_range = total_steps
        self._apply_step_range(self.tabs.currentWidget())

    def _apply_step_range(self, view: QWidget) -> None:
        for plot in view.findChildren(CurvePlot):
            if plot.x_label == "step":
                plot.set_step_range(self.step_range)

    def set_boundary_available(self, available: bool) -> None:
        index = self.tabs.indexOf(self.boundary_tab)
        self.tabs.setTabVisible(index, available)
        if not available:
            self.boundary.clear()

    def show_boundary(self, grid: BoundaryGrid) -> None:
        self.boundary.set_grid(grid)

    # --- selection ---------------------------------------------------------------------------
    def set_selected_nodes(self, node_ids: list[str]) -> None:
        self.selected = list(node_ids)
        self._highlight(self.tabs.currentWidget())

    def _highlight(self, view: QWidget) -> None:
        if hasattr(view, "highlight"):
            view.highlight(self.selected)

    # --- export ------------------------------------------------------------------------------
    def plots_in_current_tab(self) -> list[tuple[str, object]]:
        """(title, plot with export_png) for each plot on the visible tab."""
        view = self.tabs.currentWidget()
        if hasattr(view, "plots"):  # a recipe's tab lists its own
            return view.plots()
        if view is self.curves:
            found = [("Loss", view.loss.plot), ("Loss terms", view.loss.terms), ("Score", view.metrics.score),
                     ("Error", view.metrics.error), ("Learning rate", view.lr)]
            return [(title, plot) for title, plot in found if plot.isVisible()]
        if view is self.gradients:
            return [("Gradient norms", view.lines), ("Gradient heatmap", view.heatmap)]
        if view is self.activations:
            return [(title, view.stats[key]) for key, title in
                    (("mean", "Activation mean"), ("std", "Activation std"), ("zero_fraction", "Dead fraction"))
                    ] + [("Activation histogram", view.heatmap)]
        if view is self.weights:
            return [("Weight histogram per epoch", view.heatmap), ("Weight distribution", view.latest)]
        tab = self.boundary_tab
        return [("Decision boundary", tab.boundary), ("Loss", tab.loss), ("Accuracy", tab.accuracy)]

    def _fill_export_menu(self) -> None:
        menu = self.export_menu
        menu.clear()
        for title, plot in self.plots_in_current_tab():
            menu.addAction(f"{title} as PNG…", lambda p=plot, t=title: self._export_png(p, t))
        menu.addSeparator()
        csv_action = menu.addAction("Metric history as CSV…", self._export_csv)
        csv_action.setEnabled(self.history_records is not None)

    def _export_png(self, plot, title: str) -> None:
        name = title.lower().replace(" ", "-") + ".png"
        path, _ = QFileDialog.getSaveFileName(self, "Export plot as PNG", name, "PNG image (*.png)")
        if path:
            try:
                plot.export_png(Path(path))
            except Exception as exc:  # a full disk or a bad folder must not take the app down
                self.export_failed.emit(f"Could not export {title}: {exc}")

    def _export_csv(self) -> None:
        from nnstudio.ui.plots.export import write_history_csv

        path, _ = QFileDialog.getSaveFileName(self, "Export metric history", "history.csv", "CSV (*.csv)")
        if path and self.history_records is not None:
            try:
                write_history_csv(self.history_records(), Path(path))
            except OSError as exc:
                self.export_failed.emit(f"Could not export the history: {exc}")
