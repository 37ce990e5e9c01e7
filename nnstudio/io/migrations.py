"""File-format migrations: small functions that each lift a document from version N to N + 1.

Layer-level changes (a renamed param, a new default) are handled by each LayerSpec's own
`version` and `migrate`; this module is for changes to the document's overall layout.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

FORMAT_NAME = "nnstudio.project"
CURRENT_VERSION = 3

Document = dict[str, Any]

# MIGRATIONS[n] turns a version-n document into a version-(n + 1) one. Never edit an entry once
# released; golden files in tests/data/ pin every version we have shipped.


def _v1_to_v2(document: Document) -> Document:
    """Version 2 adds optional keys only: a node's `training` (frozen, update_stats, lr_scale), `init.weights`,
    and the objective's node types (loss, target and stochastic nodes). A version-1 file means the same under
    version 2, so the document passes through unchanged; the version bump stops an older nnstudio from
    silently dropping the new keys."""
    return document


def _v2_to_v3(document: Document) -> Document:
    """Version 3 adds optional keys only: a top-level `search` section (the search space and study of
    `nnstudio search`), and new keys in the dataset and training sections (augmentation, text columns,
    TensorBoard logs). A version-2 file means the same under version 3, so it passes through unchanged; the bump
    stops an older nnstudio from silently dropping the new keys."""
    return document


MIGRATIONS: dict[int, Callable[[Document], Document]] = {1: _v1_to_v2, 2: _v2_to_v3}


def migrate(document: Document, version: int, target: int | None = None) -> Document:
    target = CURRENT_VERSION if target is None else target
    while version < target:
        step = MIGRATIONS.get(version)
        if step is None:
            raise RuntimeError(f"no migration from file version {version}")
        document = step(document)
        version += 1
        document["version"] = version
    return document
