"""Bars drawn in text, for class probabilities (`nnstudio predict`) and feature attributions (`explain`)."""

from __future__ import annotations

from collections.abc import Sequence

WIDTH = 30  # characters for the longest bar


def bar_lines(rows: Sequence[tuple[str, float]], signed: bool = False, width: int = WIDTH) -> list[str]:
    """One line per (label, value): the label, a bar scaled to the largest magnitude, and the value.

    Signed values (attributions) draw negative ones with '-' so that their direction is visible without colour."""
    if not rows:
        return []
    scale = max(abs(value) for _, value in rows) or 1.0
    label_width = max(len(label) for label, _ in rows)
    lines = []
    for label, value in rows:
        length = round(abs(value) / scale * width)
        bar = ("-" if signed and value < 0 else "#") * length
        lines.append(f"  {label:<{label_width}}  {bar:<{width}}  {value:.4g}")
    return lines
