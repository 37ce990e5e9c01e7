"""The metric history as CSV: one row per record, one column per scalar, layers named by node name.

Per-layer values get a column each, e.g. `grad_norm[dense1]` or `act_std[relu1]`, so a spreadsheet can
plot any of them without parsing JSON. Each loss term of a step gets a column too (`loss_kl`, beside the
epoch rows' `train_loss_kl`). Histograms are left out (they are not scalars).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

LAYER_COLUMNS = {
    "grads": (("", "grad_norm"),),
    "activations": (("mean", "act_mean"), ("std", "act_std"), ("zero_fraction", "act_dead_fraction")),
    "weights": (("mean", "weight_mean"), ("std", "weight_std"), ("zero_fraction", "weight_zero_fraction")),
}
FIRST = ("kind", "epoch", "step")


def flatten(record: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """One record as {column: scalar}."""
    row: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, bool):
            row[key] = str(value).lower()
        elif isinstance(value, (int, float, str)) or value is None:
            row[key] = value
    terms = record.get("terms")
    if isinstance(terms, dict):  # a step of a graph with loss nodes: loss_<term>, as the epoch rows name them
        row.update({f"loss_{name}": value for name, value in terms.items()
                    if isinstance(value, (int, float)) and not isinstance(value, bool)})
    layers = record.get("layers")
    kind = record.get("kind")
    if isinstance(layers, dict) and kind in LAYER_COLUMNS:
        for node_id, entry in layers.items():
            name = names.get(node_id, node_id)
            for field, prefix in LAYER_COLUMNS[kind]:
                value = entry if not field else (entry.get(field) if isinstance(entry, dict) else None)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    row[f"{prefix}[{name}]"] = value
    return row


def history_csv(records: Iterable[dict[str, Any]]) -> str:
    """CSV text for a run's records; columns are the union over all rows, kind/epoch/step first."""
    records = list(records)
    names: dict[str, str] = {}
    for record in records:
        if record.get("kind") == "start" and isinstance(record.get("layers"), dict):
            names = {str(k): str(v) for k, v in record["layers"].items()}
    rows = [flatten(record, names) for record in records]
    columns = list(FIRST)
    seen = set(columns)
    for row in rows:
        for key in row:
            if key not in seen:
                seen.add(key)
                columns.append(key)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()


def write_history_csv(records: Iterable[dict[str, Any]], path: Path) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".csv":
        path = path.with_suffix(".csv")
    path.write_text(history_csv(records), encoding="utf-8")
    return path
