"""Reading a CSV file into a checked table of text cells, with the standard library only.

Every failure becomes a DatasetError naming the file and, where there is one, the line.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nnstudio.training.data.base import DatasetError

MAX_CSV_BYTES = 256 * 1024 * 1024
MISSING_MARKS = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
DELIMITERS = {"auto": "", ",": ",", ";": ";", "tab": "\t", "|": "|"}


# Called while a file is read with (bytes read so far, total bytes); a CLI draws a bar from it.
Progress = Callable[[int, int], None]
PROGRESS_STEP_ROWS = 4096  # rows between two progress calls


@dataclass
class Table:
    """Header names plus stripped cells; `lines[i]` is the file line where data row i ends."""

    path: Path
    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    positions: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # A dict, not header.index: a file with 80,000 columns looked each one up in a list (quadratic).
        self.positions = {name: index for index, name in enumerate(self.header)}

    def index(self, name: str) -> int:
        """The column's position; KeyError for a name the header does not have."""
        return self.positions[name]

    def column(self, name: str) -> list[str]:
        index = self.positions[name]
        return [row[index] for row in self.rows]

    def where(self, row: int) -> str:
        """'file, line 7 (data row 6)': a place a user can find in an editor."""
        return f"{self.path}, line {self.lines[row]} (data row {row + 1})"


def is_missing(cell: str) -> bool:
    return cell.strip().lower() in MISSING_MARKS


def parse_number(cell: str) -> float | None:
    """The finite float a cell holds, or None when it holds anything else."""
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_table(path: Path, delimiter: str = "auto", progress: Progress | None = None) -> Table:
    """Every row of the file, checked; `progress`, when given, is told how far the reading is."""
    text = _read_text(path)
    separator = DELIMITERS.get(delimiter, delimiter) or _sniff(text)
    source = io.StringIO(text)
    reader = csv.reader(source, delimiter=separator)
    header: list[str] | None = None
    header_line = 0
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for raw in reader:
            cells = [cell.strip() for cell in raw]
            if not any(cells):
                continue  # blank lines carry nothing
            if header is None:
                header, header_line = _header(path, cells, reader.line_num), reader.line_num
                continue
            if len(cells) != len(header):
                raise DatasetError(f"{path}, line {reader.line_num}: {len(cells)} fields, but the header on line "
                                   f"{header_line} has {len(header)}")
            rows.append(cells)
            lines.append(reader.line_num)
            if progress is not None and len(rows) % PROGRESS_STEP_ROWS == 0:
                progress(source.tell(), len(text))
    except csv.Error as exc:
        raise DatasetError(f"{path}, line {reader.line_num}: not valid CSV ({exc})") from None
    if header is None:
        raise DatasetError(f"{path}: the file is empty")
    if not rows:
        raise DatasetError(f"{path}: there is a header but no data rows")
    if progress is not None:
        progress(len(text), len(text))
    return Table(path, header, rows, lines)


def _read_text(path: Path) -> str:
    try:
        if not path.is_file():
            raise DatasetError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
        size = path.stat().st_size
        if size > MAX_CSV_BYTES:
            raise DatasetError(f"{path}: {size / 2**20:.0f} MiB is over the {MAX_CSV_BYTES // 2**20} MiB limit")
        data = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from None
    if "\x00" in text:
        raise DatasetError(f"{path}: holds NUL bytes, so it is not a text CSV file")
    return text


def _sniff(text: str) -> str:
    """The delimiter that occurs most often on the first non-blank line; a comma on a tie or none."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {separator: first.count(separator) for separator in (",", ";", "\t", "|")}
    best = max(counts, key=lambda separator: counts[separator])
    return best if counts[best] > counts[","] else ","


def _header(path: Path, cells: list[str], line: int) -> list[str]:
    """Column names; unnamed columns (like a saved index) get 'column N'."""
    names = [cell or f"column {i + 1}" for i, cell in enumerate(cells)]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DatasetError(f"{path}, line {line}: the header names column {name!r} twice")
        seen.add(name)
    return names
