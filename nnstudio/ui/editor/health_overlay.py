"""The health overlay on the canvas: a small ok / watch / bad badge under each node and links coloured by the
gradient they carry back, from a HealthTracker snapshot (nnstudio/training/health_badges.py).

Badges are child items of the node items, like the divergence mark (ui/training/marker.py): they move with their
node, vanish with it, and are not part of the document. Showing a snapshot touches only the nodes whose health
changed; the feed that calls `show` (ui/training/health_scrubber.py) does so at most a few times a second.
One overlay per view, made on first use (`HealthOverlay.of(view)`), so the View menu's toggle and the training
workbench share its visibility.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from nnstudio.training.health_badges import Level, NodeHealth, Snapshot, link_sources, link_strength
from nnstudio.ui.editor import style

ACTION_ID = "view.health_overlay"
LEVEL_COLOURS = {Level.OK: QColor("#2f9e44"), Level.WATCH: QColor("#e67700"), Level.BAD: QColor("#d92b2b")}
LEVEL_FILLS = {Level.OK: QColor("#ebfbee"), Level.WATCH: QColor("#fff4e6"), Level.BAD: QColor("#fff0f0")}
LEVEL_WORDS = {Level.OK: "ok", Level.WATCH: "watch", Level.BAD: "bad"}
FLOW_FAINT, FLOW_STRONG = QColor("#c9ced6"), QColor("#5a2ca0")  # a vanished gradient .. a large one
BADGE_HEIGHT = 20.0


class HealthBadge(QGraphicsItem):
    """A pill under a node: a coloured dot, the level, and the worst reading ("bad · dead 83 %")."""

    def __init__(self, node_item: QGraphicsItem) -> None:
        super().__init__(node_item)
        self.health: NodeHealth | None = None
        self.text = ""
        self._rect = QRectF(0, 0, style.NODE_WIDTH, BADGE_HEIGHT)
        self.setZValue(2)
        self.setAcceptHoverEvents(True)
        self.setPos(0, node_item.boundingRect().bottom() + 4)

    def set_health(self, health: NodeHealth) -> None:
        self.health = health
        self.text = f"{LEVEL_WORDS[health.level]} · {health.summary()}"
        self.setToolTip(tooltip(health))
        width = min(1.4 * style.NODE_WIDTH, style.text_width(self.text, "label") + 26)
        self.prepareGeometryChange()
        self._rect = QRectF(0, 0, width, BADGE_HEIGHT)
        self.setPos(0, self.parentItem().boundingRect().bottom() + 4)  # the node may have grown a line since
        self.update()

    @property
    def level(self) -> Level | None:
        return self.health.level if self.health is not None else None

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if self.health is None:
            return
        level = self.health.level
        painter.setPen(QPen(LEVEL_COLOURS[level], 1.5))
        painter.setBrush(LEVEL_FILLS[level])
        painter.drawRoundedRect(self._rect, BADGE_HEIGHT / 2, BADGE_HEIGHT / 2)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(LEVEL_COLOURS[level])
        painter.drawEllipse(QPointF(10, BADGE_HEIGHT / 2), 4.5, 4.5)
        painter.setPen(style.TEXT)
        painter.setFont(style.font("label"))
        text_rect = self._rect.adjusted(19, 0, -6, 0)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         style.metrics("label").elidedText(self.text, Qt.TextElideMode.ElideRight,
                                                           text_rect.width()))


def tooltip(health: NodeHealth) -> str:
    """The badge's hover text: every reading, worst first, each with what to try."""
    return f"Health: {LEVEL_WORDS[health.level]}\n{health.tooltip()}"


def flow_pen(strength: float) -> QPen:
    """Colour and width of a link from link_strength(): grey and thin for a vanished gradient, deep and wide
    for a large one."""
    a, b = FLOW_FAINT, FLOW_STRONG
    colour = QColor(round(a.red() + (b.red() - a.red()) * strength), round(a.green() + (b.green() - a.green())
                    * strength), round(a.blue() + (b.blue() - a.blue()) * strength))
    return QPen(colour, style.EDGE_WIDTH + 3.0 * strength)


class HealthOverlay(QObject):
    """Badges and link colours on one EditorView's scene."""

    def __init__(self, view) -> None:
        super().__init__(view)
        self.view = view
        self.visible = True
        self.badges: dict[str, HealthBadge] = {}
        self.snapshot: Snapshot | None = None
        self._scene = None
        self._links: dict[str, float] = {}  # edge id -> strength now drawn
        self.repaints = 0  # badges (re)drawn, for tests and the benchmark

    @classmethod
    def of(cls, view) -> HealthOverlay:
        overlay = getattr(view, "_health_overlay", None)
        if overlay is None:
            overlay = cls(view)
            view._health_overlay = overlay
        return overlay

    def _follow_scene(self) -> None:
        """The view shows another document's scene: the old badges went with the old items."""
        scene = self.view.scene()
        if scene is not self._scene:
            self._scene = scene
            self.badges = {}
            self._links = {}

    def show(self, snapshot: Snapshot | None, changed: set[str] | None = None) -> None:
        """Draw `snapshot`; `changed` (node ids) limits the work to those nodes, None redraws every node."""
        self._follow_scene()
        self.snapshot = snapshot
        if not self.visible:
            return
        nodes = snapshot.nodes if snapshot is not None else {}
        scene_nodes = self._scene.nodes
        for node_id in list(self.badges):
            if node_id not in nodes or node_id not in scene_nodes:
                self._drop(node_id)
        wanted = nodes.keys() if changed is None else (changed | (nodes.keys() - self.badges.keys()))
        for node_id in wanted:
            health, item = nodes.get(node_id), scene_nodes.get(node_id)
            if health is None or item is None:
                continue
            badge = self.badges.get(node_id)
            if badge is None or badge.parentItem() is not item:
                badge = self.badges[node_id] = HealthBadge(item)
            badge.set_health(health)
            self.repaints += 1
        self._colour_links(snapshot)

    def _colour_links(self, snapshot: Snapshot | None) -> None:
        scene = self._scene
        strengths: dict[str, float] = {}
        if snapshot is not None and snapshot.links:
            edges = [(e.id, e.source.node, e.target.node) for e in scene.document.graph.edges.values()]
            for edge_id, node_id in link_sources(edges, set(snapshot.links)).items():
                strengths[edge_id] = link_strength(snapshot.links[node_id])
        for edge_id in self._links.keys() - strengths.keys():
            item = scene.edges.get(edge_id)
            if item is not None:
                item.set_flow_pen(None)
        for edge_id, strength in strengths.items():
            item = scene.edges.get(edge_id)
            if item is not None and self._links.get(edge_id) != strength:
                item.set_flow_pen(flow_pen(strength))
        self._links = strengths

    def _drop(self, node_id: str) -> None:
        badge = self.badges.pop(node_id)
        try:
            if badge.scene() is not None:
                badge.scene().removeItem(badge)
        except RuntimeError:  # the node item, and the badge with it, is already gone
            pass

    def clear(self) -> None:
        self._follow_scene()
        for node_id in list(self.badges):
            self._drop(node_id)
        self._colour_links(None)

    def set_visible(self, visible: bool) -> None:
        self.visible = visible
        if visible:
            self.show(self.snapshot)
        else:
            snapshot = self.snapshot
            self.clear()
            self.snapshot = snapshot


def toggle_health_overlay(window) -> None:
    """View ▸ Health Overlay: show or hide the badges and link colours (the action is checkable)."""
    from nnstudio.ui.editor.unit_thumbnails import UnitThumbnails

    action = window.actions_by_id.get(ACTION_ID)
    visible = action.isChecked() if action is not None else True
    HealthOverlay.of(window.view).set_visible(visible)
    UnitThumbnails.of(window.view).set_visible(visible)  # the hidden units' pictures go with the badges
