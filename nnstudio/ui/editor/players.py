"""The GAN's players on the canvas: a small tab above each node saying whether it is generator or discriminator.

While the training recipe is `gan`, nnstudio.training.recipes.gan.players(project) assigns each node to a player
from the wiring alone (what the noise Input reaches is the generator, what the x Input reaches the
discriminator). The marks follow every change that can move a node between players: links (the document's
analysis reruns after each graph edit), node additions and removals, and the training section (choosing or
leaving the recipe). The tab sits above the header, so it hides none of the node's own text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

if TYPE_CHECKING:
    from nnstudio.ui.editor.scene import EditorScene

PLAYER_COLOURS = {"generator": QColor("#00897b"), "discriminator": QColor("#8e24aa")}
PLAYER_TEXT = {"generator": "G · generator", "discriminator": "D · discriminator"}
TAB_WIDTH, TAB_HEIGHT = 92.0, 13.0


class PlayerTab(QGraphicsItem):
    """The coloured tab on top of a node's header (a child of the NodeItem, so it moves with it)."""

    def __init__(self, player: str, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.player = player
        self.setPos(8.0, -TAB_HEIGHT + 1.0)
        self.setZValue(-1)  # tucked under the header's top edge
        self.setToolTip(f"The GAN recipe trains this node as part of the {player}.")

    def set_player(self, player: str) -> None:
        if player != self.player:
            self.player = player
            self.setToolTip(f"The GAN recipe trains this node as part of the {player}.")
            self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, TAB_WIDTH, TAB_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(PLAYER_COLOURS[self.player])
        painter.drawRoundedRect(self.boundingRect().adjusted(0, 0, 0, 4), 3, 3)
        painter.setPen(QColor("white"))
        font = QFont(painter.font())
        font.setPointSizeF(6.5)
        font.setBold(True)
        painter.setFont(font)
        painter.drawText(self.boundingRect().adjusted(5, 0, -3, 0),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, PLAYER_TEXT[self.player])


class PlayerMarks:
    """Keeps one PlayerTab per node of a scene while the document's recipe is `gan`; none otherwise."""

    def __init__(self, scene: EditorScene) -> None:
        self.scene = scene
        self.tabs: dict[str, PlayerTab] = {}
        self.players: dict[str, str] = {}

    def refresh(self, *_args: object) -> None:
        project = self.scene.document.project
        self.players = _players(project)
        for node_id in [n for n in self.tabs if self.players.get(n) is None or n not in self.scene.nodes]:
            tab = self.tabs.pop(node_id)
            if tab.scene() is not None:
                tab.scene().removeItem(tab)
        for node_id, player in self.players.items():
            item = self.scene.nodes.get(node_id)
            if item is None:
                continue
            tab = self.tabs.get(node_id)
            if tab is None or tab.parentItem() is not item:
                self.tabs[node_id] = PlayerTab(player, item)
            else:
                tab.set_player(player)

    def on_settings(self, section: str) -> None:
        if section == "training":
            self.refresh()


def _players(project) -> dict[str, str]:
    """Node id -> player while the recipe is gan (its players() follows the wiring); {} for other recipes."""
    from nnstudio.training.recipes import RECIPES

    section = project.training.get("recipe") if isinstance(project.training, dict) else None
    name = section.get("name") if isinstance(section, dict) else section
    if name != "gan" or "gan" not in RECIPES:
        return {}
    from nnstudio.training.recipes.gan import players

    return players(project)
