"""The canvas: a QGraphicsView over the document's graph, with gestures that push undo commands."""

from nnstudio.ui.editor.clipboard import FRAGMENT_MIME
from nnstudio.ui.editor.scene import EditorScene
from nnstudio.ui.editor.view import PALETTE_MIME, EditorView

__all__ = ["FRAGMENT_MIME", "PALETTE_MIME", "EditorScene", "EditorView"]
