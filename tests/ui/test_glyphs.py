"""Every palette glyph must render with the fonts a plain Linux desktop has (DejaVu), not as a box."""

import pytest

pytest.importorskip("PySide6")
from PySide6.QtGui import QFont, QFontMetrics

from nnstudio.layers import default_registry


def test_every_glyph_is_in_the_default_font(qapp):
    metrics = QFontMetrics(QFont())
    missing = [(s.type, s.glyph) for s in default_registry()
               if not all(metrics.inFontUcs4(ord(ch)) for ch in s.glyph)]
    assert missing == []
