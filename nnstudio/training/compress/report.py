"""What a compression did, before and after: one row per model measured, as JSON and as a printed table.

Pruning rows carry parameter counts (total and non-zero); quantisation rows carry the TorchScript file size and
the median latency of one sample on the CPU. Every row carries the score the project's task reports.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nnstudio.metrics import clean_json
from nnstudio.util.atomic import atomic_write_text

REPORT_FILE = "report.json"


@dataclass
class ReportRow:
    label: str  # "original", "pruned 50%", "int8 dynamic"
    metrics: dict[str, float]  # the split's scores, as `nnstudio evaluate` names them
    params_total: int | None = None
    params_nonzero: int | None = None
    sparsity: float | None = None  # fraction of the prunable weights that are zero
    size_bytes: int | None = None  # TorchScript file
    latency_ms: float | None = None  # median, batch 1, after warm-up

    def cells(self, metric: str) -> dict[str, str]:
        """The row as the table's text cells, keyed by column heading."""
        value = self.metrics.get(metric)
        return {
            "model": self.label,
            metric: "" if value is None else f"{value:.4g}",
            "params": "" if self.params_total is None else f"{self.params_total:,}",
            "non-zero": "" if self.params_nonzero is None else f"{self.params_nonzero:,}",
            "sparsity": "" if self.sparsity is None else f"{self.sparsity:.1%}",
            "size": "" if self.size_bytes is None else _size(self.size_bytes),
            "latency": "" if self.latency_ms is None else f"{self.latency_ms:.3f} ms",
        }


@dataclass
class CompressionReport:
    method: str
    split: str
    metric: str  # the headline score shown in the table
    rows: list[ReportRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was done and how (engine, fine-tuning, skipped layers)
    files: list[str] = field(default_factory=list)  # what was written

    def columns(self) -> list[str]:
        """Only the columns some row fills, so a pruning table shows no empty size column."""
        cells = [row.cells(self.metric) for row in self.rows]
        every = ["model", self.metric, "params", "non-zero", "sparsity", "size", "latency"]
        return [c for c in every if c == "model" or any(cell[c] for cell in cells)]

    def table(self) -> list[list[str]]:
        """Heading row first, then one row per model."""
        columns = self.columns()
        return [columns] + [[row.cells(self.metric)[c] for c in columns] for row in self.rows]

    def text(self) -> str:
        table = self.table()
        widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
        lines = [f"{self.method} on the {self.split} split"]
        lines += [
            "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths)))
            for r in table
        ]
        lines += [f"note: {n}" for n in self.notes]
        lines += [f"wrote {f}" for f in self.files]
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {
            "method": self.method,
            "split": self.split,
            "metric": self.metric,
            "rows": [asdict(row) for row in self.rows],
            "notes": self.notes,
            "files": self.files,
        }

    def write(self, out_dir: Path) -> Path:
        path = out_dir / REPORT_FILE
        self.files.append(str(path))
        atomic_write_text(path, json.dumps(clean_json(self.to_json()), indent=2))  # NaN scores become null
        return path


def _size(count: int) -> str:
    for unit in ("B", "KiB", "MiB"):
        if count < 1024 or unit == "MiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count} B"
