"""A CSV file read in chunks: one pass builds a byte-offset index of the rows, each row is parsed when asked.

The encoding is the in-memory path's (csv_dataset.py): the same column typing (numeric when more than half of
the present values are numbers, the same error for a stray word), the same one-hot categories, the same target
handling (its `_target`), the same missing-value rule, and means, modes and scales fitted on the training rows
only. Those statistics are accumulated over the training rows in chunks (two passes: means and modes, then
deviations), so they equal the in-memory figures up to the order of floating-point additions.

Held in memory: the row offsets (16 bytes a row), the target column as text until it is encoded, and the
distinct values of categorical columns. A `text_column` is not streamed (data/text.py needs the texts).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nnstudio.training.data.base import DatasetError, LoadContext, RawData
from nnstudio.training.data.csv_dataset import _listing, _names, _target
from nnstudio.training.data.csv_table import DELIMITERS, Table, _header, _sniff, is_missing, parse_number

CHUNK_ROWS = 4096  # rows parsed per chunk while statistics are fitted
PROGRESS_ROWS = 16384


@dataclass
class ColumnStats:
    """What the index pass learns of one feature column, to decide its type as _read_column does."""

    name: str
    present: int = 0
    numeric: int = 0
    first_word: tuple[int, str] | None = None  # (data row, cell) of the first present non-number
    values: set[str] = field(default_factory=set)  # distinct present cells, while they are few
    overflow: bool = False


@dataclass
class RowIndex:
    """Where each data row starts and ends in the file, its last line, and its parsed target cell."""

    path: Path
    delimiter: str
    header: list[str]
    starts: np.ndarray
    ends: np.ndarray
    lines: np.ndarray


def _records(handle: Any, path: Path) -> Iterator[tuple[int, int, int, bytes]]:
    """(start, end, last line, bytes) of each record: lines joined while a quote is open (odd '"' count)."""
    offset = 0
    if handle.read(3) != b"\xef\xbb\xbf":
        handle.seek(0)
    else:
        offset = 3
    line_number, start, parts, quotes = 0, offset, [], 0
    for line in handle:
        line_number += 1
        if b"\x00" in line:
            raise DatasetError(f"{path}: holds NUL bytes, so it is not a text CSV file")
        parts.append(line)
        quotes += line.count(b'"')
        offset += len(line)
        if quotes % 2 == 0:
            yield start, offset, line_number, b"".join(parts)
            start, parts, quotes = offset, [], 0
    if parts:
        yield start, offset, line_number, b"".join(parts)


def _cells(data: bytes, delimiter: str, path: Path, line: int) -> list[str]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DatasetError(f"{path}, line {line}: not UTF-8 text") from None
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as exc:
        raise DatasetError(f"{path}, line {line}: not valid CSV ({exc})") from None
    return [cell.strip() for row in rows[:1] for cell in row]


def _delimiter(path: Path, choice: str) -> str:
    chosen = DELIMITERS.get(choice, choice)
    if chosen:
        return chosen
    with open(path, "rb") as handle:
        for line in handle:
            if line.strip():
                return _sniff(line.decode("utf-8-sig", errors="replace"))
    return ","


def index_csv(path: Path, values: dict[str, Any], context: LoadContext) -> tuple[RowIndex, list[str], dict, list]:
    """One chunked pass: row offsets, the target cells, per-column typing statistics, rows with gaps."""
    if not path.is_file():
        raise DatasetError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
    delimiter = _delimiter(path, values["delimiter"])
    total = path.stat().st_size
    header: list[str] | None = None
    starts, ends, lines, targets, gaps = [], [], [], [], []
    stats: dict[int, ColumnStats] = {}
    target_at = -1
    limit = values["max_categories"]
    with open(path, "rb", buffering=1 << 20) as handle:
        for start, end, line, data in _records(handle, path):
            cells = _cells(data, delimiter, path, line)
            if not any(cells):
                continue
            if header is None:
                header, header_line = _header(path, cells, line), line
                target_at, stats = _columns(header, values, path)
                continue
            if len(cells) != len(header):
                raise DatasetError(f"{path}, line {line}: {len(cells)} fields, but the header on line "
                                   f"{header_line} has {len(header)}")
            row = len(starts)
            starts.append(start), ends.append(end), lines.append(line)
            targets.append(cells[target_at])
            gaps.append(_observe(stats, cells, row, limit))
            if context.progress is not None and row % PROGRESS_ROWS == 0:
                context.progress(end, total)
    if header is None:
        raise DatasetError(f"{path}: the file is empty")
    if not starts:
        raise DatasetError(f"{path}: there is a header but no data rows")
    if context.progress is not None:
        context.progress(total, total)
    index = RowIndex(path, delimiter, header, np.array(starts, np.int64), np.array(ends, np.int64),
                     np.array(lines, np.int64))
    return index, targets, stats, gaps


def _columns(header: list[str], values: dict[str, Any], path: Path) -> tuple[int, dict[int, ColumnStats]]:
    """The target's position and the feature columns, checked like load_csv checks them."""
    target = values["target"].strip() or header[-1]
    for name, param in [(target, "target")] + [(n, "categorical") for n in _names(values["categorical"])] + \
            [(n, "ignore") for n in _names(values["ignore"])]:
        if name not in header:
            raise DatasetError(f"dataset.params.{param}: {path} has no column {name!r}; its columns are "
                               f"{_listing(header)}")
    ignored = set(_names(values["ignore"]))
    features = {i: ColumnStats(name) for i, name in enumerate(header) if name != target and name not in ignored}
    if not features:
        raise DatasetError(f"{path}: no feature columns are left besides the target {target!r}")
    return header.index(target), features


def _observe(stats: dict[int, ColumnStats], cells: list[str], row: int, limit: int) -> bool:
    """Count one row's cells into the column statistics; True when a feature is missing."""
    gap = False
    for at, column in stats.items():
        cell = cells[at]
        if is_missing(cell):
            gap = True
            continue
        column.present += 1
        if parse_number(cell) is not None:
            column.numeric += 1
        elif column.first_word is None:
            column.first_word = (row, cell)
        if not column.overflow:
            column.values.add(cell)
            column.overflow = len(column.values) > limit
    return gap


@dataclass
class Encoder:
    """Per-column encoding, fitted on the training rows: numeric (mean, scale) or categories (codes, mode)."""

    positions: list[int]
    numeric: list[bool]
    categories: list[list[str] | None]
    means: np.ndarray = field(default_factory=lambda: np.zeros(0))
    scales: np.ndarray = field(default_factory=lambda: np.ones(0))
    modes: list[int] = field(default_factory=list)
    lookups: list[dict[str, int]] = field(default_factory=list)

    @property
    def width(self) -> int:
        return sum(1 if numeric else len(c or []) for numeric, c in zip(self.numeric, self.categories))

    def numbers(self, rows: list[list[str]]) -> np.ndarray:
        """[rows, numeric columns] float64, NaN where a value is missing."""
        at = [p for p, numeric in zip(self.positions, self.numeric) if numeric]
        out = np.full((len(rows), len(at)), np.nan)
        for r, cells in enumerate(rows):
            for c, p in enumerate(at):
                value = parse_number(cells[p])
                if value is not None:
                    out[r, c] = value
        return out

    def encode(self, cells: list[str]) -> np.ndarray:
        """One row as the in-memory path encodes it: gaps filled, numbers standardised, categories one-hot."""
        out = np.zeros(self.width)
        numbers = self.numbers([cells])[0]
        numbers = np.where(np.isnan(numbers), self.means, numbers)
        numbers = (numbers - self.means) / self.scales
        k, n, c = 0, 0, 0
        for position, numeric, categories in zip(self.positions, self.numeric, self.categories):
            if numeric:
                out[k] = numbers[n]
                k, n = k + 1, n + 1
                continue
            code = self.lookups[c].get(cells[position], -1)
            out[k + (code if code >= 0 else self.modes[c])] = 1.0
            k, c = k + len(categories), c + 1
        return out


def _encoder(stats: dict[int, ColumnStats], index: RowIndex, forced: set[str], limit: int) -> Encoder:
    """Column types and categories exactly as csv_dataset._read_column decides them."""
    positions, numeric, categories = [], [], []
    for at, column in stats.items():
        where = f"{index.path}, column {column.name!r}"
        if column.present == 0:
            raise DatasetError(f"{where}: every value is missing; list it in 'ignore'")
        if column.name not in forced and 2 * column.numeric > column.present:
            if column.first_word is not None:
                row, cell = column.first_word
                raise DatasetError(f"{index.path}, line {index.lines[row]} (data row {row + 1}), column "
                                   f"{column.name!r}: {cell!r} is not a number (the column holds numbers; list it "
                                   "in 'categorical' to treat it as categories)")
            positions.append(at), numeric.append(True), categories.append(None)
            continue
        if column.overflow:
            raise DatasetError(f"{where}: more than {limit} different text values, over max_categories={limit}; "
                               "list it in 'ignore' or raise the limit")
        positions.append(at), numeric.append(False), categories.append(sorted(column.values))
    encoder = Encoder(positions, numeric, categories)
    encoder.lookups = [{value: k for k, value in enumerate(c)} for c in categories if c is not None]
    return encoder


def read_rows(index: RowIndex, rows: np.ndarray) -> Iterator[list[list[str]]]:
    """The parsed cells of `rows` (positions in the index), in chunks, read in file order."""
    order = np.sort(rows)
    with open(index.path, "rb", buffering=1 << 20) as handle:
        for first in range(0, len(order), CHUNK_ROWS):
            chunk = []
            for row in order[first:first + CHUNK_ROWS]:
                handle.seek(int(index.starts[row]))
                data = handle.read(int(index.ends[row] - index.starts[row]))
                chunk.append(_cells(data, index.delimiter, index.path, int(index.lines[row])))
            yield chunk


def fit(encoder: Encoder, index: RowIndex, train: np.ndarray) -> None:
    """Means and modes in one chunked pass over the training rows, the scales in a second (as numpy's std)."""
    count = np.zeros(sum(encoder.numeric))
    total = np.zeros_like(count)
    codes = [np.zeros(len(c), np.int64) for c in encoder.categories if c is not None]
    categorical = [p for p, numeric in zip(encoder.positions, encoder.numeric) if not numeric]
    for chunk in read_rows(index, train):
        numbers = encoder.numbers(chunk)
        count += (~np.isnan(numbers)).sum(axis=0)
        total += np.nansum(numbers, axis=0)
        for c, position in enumerate(categorical):
            for cells in chunk:
                code = encoder.lookups[c].get(cells[position], -1)
                if code >= 0:
                    codes[c][code] += 1
    means = np.where(count > 0, total / np.maximum(count, 1), 0.0)
    squares = np.zeros_like(count)
    for chunk in read_rows(index, train):
        numbers = encoder.numbers(chunk)
        squares += np.nansum((numbers - means) ** 2, axis=0)  # a filled gap is the mean: it adds 0
    std = np.sqrt(squares / max(len(train), 1))
    encoder.means, encoder.scales = means, np.where(std > 1e-12, std, 1.0)
    encoder.modes = [int(np.argmax(counts)) for counts in codes]


class CsvRows(torch.utils.data.Dataset):
    """A map-style dataset of encoded CSV rows: (float32 [features], index, None), parsed when asked."""

    def __init__(self, index: RowIndex, rows: np.ndarray, encoder: Encoder) -> None:
        self.index, self.rows, self.encoder = index, rows, encoder
        self._handle: Any = None

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, item: int) -> tuple[torch.Tensor, int, None]:
        if self._handle is None:
            self._handle = open(self.index.path, "rb")  # noqa: SIM115 - kept open for the process's reads
        row = int(self.rows[item])
        self._handle.seek(int(self.index.starts[row]))
        data = self._handle.read(int(self.index.ends[row] - self.index.starts[row]))
        cells = _cells(data, self.index.delimiter, self.index.path, int(self.index.lines[row]))
        return torch.from_numpy(self.encoder.encode(cells).astype(np.float32)), item, None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_handle": None}


def stream_csv(values: dict[str, Any], context: LoadContext) -> tuple[RawData, Any, tuple[int, ...]]:
    """The streamed counterpart of csv_dataset.load_csv: RawData with positions for inputs, a factory of the
    splits' datasets, and the input shape."""
    if values["text_column"].strip():
        raise DatasetError("dataset.streaming: a CSV with a text_column is not streamed (its vocabulary needs every "
                           "text); set dataset.streaming to \"memory\"")
    path = context.resolve(values["path"], "path")
    index, targets, stats, gaps = index_csv(path, values, context)
    encoder = _encoder(stats, index, set(_names(values["categorical"])), values["max_categories"])
    keep = np.array([not is_missing(cell) for cell in targets])
    if values["missing"] == "drop":
        keep &= ~np.array(gaps)
    rows = np.flatnonzero(keep)
    if len(rows) == 0:
        raise DatasetError(f"{path}: every row misses a value (target or, with missing='drop', a feature)")
    name = values["target"].strip() or index.header[-1]
    table = Table(path, [name], [[cell] for cell in targets], index.lines.tolist())
    y, task, class_names = _target(table, name, rows.tolist(), values["task"])
    del table, targets
    scale = task == "regression" and values["scale_target"]

    def finish(train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from nnstudio.training.data.splits import standardise

        fit(encoder, index, rows[train])
        return np.empty((len(rows), 0)), standardise(y, train) if scale else y

    def items(positions: np.ndarray) -> CsvRows:
        return CsvRows(index, rows[positions], encoder)

    names = _feature_names(stats, encoder)
    dropped = len(index.starts) - len(rows)
    gone = f" {dropped} rows with missing values dropped." if dropped else ""
    description = (f"{path.name}: {len(rows)} rows, {len(encoder.positions)} feature columns as {encoder.width} "
                   f"inputs, target {name!r} ({task}).{gone}")
    raw = RawData(x=np.arange(len(rows), dtype=np.float64).reshape(-1, 1), y=y, task=task, kind="tabular",
                  num_classes=len(class_names) if class_names else None, class_names=class_names,
                  feature_names=names, description=description, finish=finish)
    return raw, items, (encoder.width,)


def _feature_names(stats: dict[int, ColumnStats], encoder: Encoder) -> list[str]:
    names = []
    for position, categories in zip(encoder.positions, encoder.categories):
        column = stats[position].name
        names += [column] if categories is None else [f"{column}={c}" for c in categories]
    return names
