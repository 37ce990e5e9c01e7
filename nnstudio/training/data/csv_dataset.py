"""A CSV file as a dataset: typed columns, one-hot categories, train-only imputation and scaling.

A column is numeric when more than half of its present values are numbers; a stray word in such
a column is reported with its line rather than silently turning the column into categories.
Columns named in `categorical` are always categories. Rows whose target is missing are always
dropped; the `missing` param decides what happens to rows with a missing feature.

With `text_column` set, that column alone is the input: its text becomes `max_length` token ids through a
vocabulary fitted on the training rows (data/text.py), for an Embedding layer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nnstudio.layers.params import ParamKind, ParamSpec, bool_param, choice_param, int_param
from nnstudio.training.data.base import DatasetError, DatasetSpec, LoadContext, RawData, require_classes
from nnstudio.training.data.csv_table import DELIMITERS, Table, is_missing, parse_number, read_table
from nnstudio.training.data.splits import standardise
from nnstudio.training.data.text import TOKENIZERS, Vocabulary, text_cells, text_finisher

AUTO_CLASSES = 20  # auto task: integer targets with at most this many values are classes


@dataclass
class Column:
    """One feature column: numbers (NaN where missing) or category codes (-1 where missing)."""

    name: str
    values: np.ndarray
    categories: list[str] | None = None

    @property
    def missing(self) -> np.ndarray:
        return self.values < 0 if self.categories is not None else np.isnan(self.values)

    def names(self) -> list[str]:
        return [f"{self.name}={c}" for c in self.categories] if self.categories is not None else [self.name]


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _listing(names: list[str], shown: int = 20) -> str:
    """The first column names, for a message that must stay one readable line."""
    more = f" and {len(names) - shown:,} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _require_columns(table: Table, names: list[str], param: str) -> None:
    for name in names:
        if name not in table.positions:
            raise DatasetError(f"dataset.params.{param}: {table.path} has no column {name!r}; its columns are "
                               f"{_listing(table.header)}")


def _read_column(table: Table, name: str, categorical: bool, max_categories: int) -> Column:
    cells = table.column(name)
    present = [i for i, cell in enumerate(cells) if not is_missing(cell)]
    if not present:
        raise DatasetError(f"{table.path}, column {name!r}: every value is missing; list it in 'ignore'")
    numbers = [parse_number(cells[i]) for i in present]
    numeric_count = sum(value is not None for value in numbers)
    if not categorical and 2 * numeric_count > len(present):
        bad = next((i for i, value in zip(present, numbers) if value is None), None)
        if bad is not None:
            raise DatasetError(f"{table.where(bad)}, column {name!r}: {cells[bad]!r} is not a number (the "
                               f"column holds numbers; list it in 'categorical' to treat it as categories)")
        values = np.full(len(cells), np.nan)
        values[present] = numbers
        return Column(name, values)
    categories = sorted({cells[i] for i in present})
    if len(categories) > max_categories:
        raise DatasetError(f"{table.path}, column {name!r}: {len(categories)} different text values, over "
                           f"max_categories={max_categories}; list it in 'ignore' or raise the limit")
    index = {category: k for k, category in enumerate(categories)}
    codes = np.full(len(cells), -1, dtype=np.int64)
    codes[present] = [index[cells[i]] for i in present]
    return Column(name, codes, categories)


def _class_labels(cells: list[str]) -> tuple[np.ndarray, list[str]]:
    """Class indices in sorted order of the values (numerically when they are all numbers)."""
    numbers = [parse_number(cell) for cell in cells]
    if all(value is not None for value in numbers):
        distinct = sorted(set(numbers))
        labels = [_fmt(value) for value in distinct]
        lookup = {value: k for k, value in enumerate(distinct)}
        return np.array([lookup[value] for value in numbers], np.int64), labels
    labels = sorted(set(cells))
    lookup = {label: k for k, label in enumerate(labels)}
    return np.array([lookup[cell] for cell in cells], np.int64), labels


def _fmt(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _looks_like_labels(numbers: list[Any]) -> bool:
    """Whole numbers with few distinct values, each seen twice on average, read as class labels."""
    distinct = len(set(numbers))
    integral = all(float(value).is_integer() for value in numbers)
    return integral and distinct <= AUTO_CLASSES and 2 * distinct <= len(numbers)


def _target(table: Table, name: str, rows: list[int], hint: str) -> tuple[np.ndarray, str, list[str] | None]:
    """(targets, task, class names) for the kept rows, following the task hint."""
    index = table.index(name)
    cells = [table.rows[i][index] for i in rows]
    numbers = [parse_number(cell) for cell in cells]
    numeric = all(value is not None for value in numbers)
    mostly_numeric = 2 * sum(value is not None for value in numbers) > len(numbers)
    task = hint
    if hint == "auto":
        task = "classification" if not numeric or _looks_like_labels(numbers) else "regression"
        task = "regression" if mostly_numeric and not numeric else task  # a stray word: report it below
    if task == "regression" and not numeric:
        bad = next(k for k, value in enumerate(numbers) if value is None)
        raise DatasetError(f"{table.where(rows[bad])}, column {name!r}: {cells[bad]!r} is not a number, but "
                           f"the target column holds numbers (set task to 'classification' for text classes)")
    if task == "regression":
        return np.array(numbers, np.float64).reshape(-1, 1), task, None
    labels, names = _class_labels(cells)
    if task == "binary" and len(names) != 2:
        raise DatasetError(f"dataset.params.task: binary needs exactly 2 distinct values in column {name!r}, "
                           f"found {len(names)}")
    require_classes(names, f"{table.path}, column {name!r}")
    return labels, task, names


def _finisher(columns: list[Column], y: np.ndarray,
              scale_target: bool) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Fit means, modes and scales on the training rows, then encode every row."""

    def finish(train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        numbers = iter(_numeric_block(columns, train).T)
        blocks = []
        for column in columns:
            if column.categories is None:
                blocks.append(next(numbers).reshape(-1, 1))
            else:
                codes = column.values.copy()
                counts = np.bincount(codes[train][codes[train] >= 0], minlength=len(column.categories))
                codes[codes < 0] = int(np.argmax(counts))  # the mode; the first category on a tie
                blocks.append(np.eye(len(column.categories))[codes])
        target = standardise(y, train) if scale_target else y
        return np.concatenate(blocks, axis=1), target

    return finish


def _numeric_block(columns: list[Column], train: np.ndarray) -> np.ndarray:
    """Every numeric column at once, gaps filled with the training mean, then standardised: one array
    operation for all of them, which keeps a file with tens of thousands of columns fast."""
    numeric = [column.values for column in columns if column.categories is None]
    rows = len(columns[0].values) if columns else 0
    matrix = np.empty((rows, len(numeric)), order="F")  # column-major: each feature's statistics as in 1-D
    for index, values in enumerate(numeric):
        matrix[:, index] = values
    gaps = np.isnan(matrix)
    known = (~gaps[train]).sum(axis=0)
    means = np.where(known > 0, np.nansum(matrix[train], axis=0) / np.maximum(known, 1), 0.0)
    matrix[gaps] = np.broadcast_to(means, matrix.shape)[gaps]
    return standardise(matrix, train)


def load_csv(values: dict[str, Any], context: LoadContext) -> RawData:
    path = context.resolve(values["path"], "path")
    table = read_table(path, values["delimiter"], context.progress)
    target = values["target"].strip() or table.header[-1]
    if target not in table.positions:
        raise DatasetError(f"dataset.params.target: {path} has no column {target!r}; its columns are "
                           f"{_listing(table.header)}")
    if values["text_column"].strip():
        return _load_text(table, values, target)
    forced, ignored = set(_names(values["categorical"])), set(_names(values["ignore"]))
    _require_columns(table, _names(values["categorical"]), "categorical")
    _require_columns(table, _names(values["ignore"]), "ignore")
    features = [name for name in table.header if name != target and name not in ignored]
    if not features:
        raise DatasetError(f"{path}: no feature columns are left besides the target {target!r}")
    columns = [_read_column(table, name, name in forced, values["max_categories"]) for name in features]
    keep = np.array([not is_missing(cell) for cell in table.column(target)])
    if values["missing"] == "drop":
        for column in columns:
            keep &= ~column.missing
    rows = np.flatnonzero(keep)
    if len(rows) == 0:
        raise DatasetError(f"{path}: every row misses a value (target or, with missing='drop', a feature)")
    for column in columns:
        column.values = column.values[rows]
    y, task, class_names = _target(table, target, rows.tolist(), values["task"])
    scale = task == "regression" and values["scale_target"]
    width = sum(len(column.names()) for column in columns)
    dropped = len(table.rows) - len(rows)
    description = (f"{path.name}: {len(rows)} rows, {len(columns)} feature columns as {width} inputs, target "
                   f"{target!r} ({task}).{f' {dropped} rows with missing values dropped.' if dropped else ''}")
    return RawData(x=np.empty((len(rows), 0)), y=y, task=task, kind="tabular",
                   num_classes=len(class_names) if class_names else None, class_names=class_names,
                   feature_names=[n for column in columns for n in column.names()], description=description,
                   finish=_finisher(columns, y, scale))


def _load_text(table: Table, values: dict[str, Any], target: str) -> RawData:
    """The text column as token ids (fitted on the training rows by `finish`) and the target as usual."""
    column = values["text_column"].strip()
    _require_columns(table, [column], "text_column")
    if column == target:
        raise DatasetError(f"dataset.params.text_column: {column!r} is the target column; name the column of text "
                           "the model reads")
    cells = text_cells(table, column)
    keep = np.array([not is_missing(cell) for cell in table.column(target)])
    if values["missing"] == "drop":
        keep &= np.array([bool(cell) for cell in cells])
    rows = np.flatnonzero(keep)
    if len(rows) == 0:
        raise DatasetError(f"{table.path}: every row misses its target or, with missing='drop', its text")
    y, task, class_names = _target(table, target, rows.tolist(), values["task"])
    vocabulary = Vocabulary(column, values["tokenizer"], values["max_length"], values["vocab_size"])
    texts = [cells[i] for i in rows]
    dropped = len(table.rows) - len(rows)
    description = (f"{table.path.name}: {len(rows)} rows; column {column!r} as {values['tokenizer']} tokens "
                   f"(at most {values['max_length']}, vocabulary of at most {values['vocab_size']} from the "
                   f"training rows), target {target!r} ({task}).{f' {dropped} rows dropped.' if dropped else ''}")
    return RawData(x=np.empty((len(rows), 0)), y=y, task=task, kind="tokens",
                   num_classes=len(class_names) if class_names else None, class_names=class_names,
                   description=description, vocab_size=values["vocab_size"], vocabulary=vocabulary,
                   finish=text_finisher(texts, vocabulary, y, task == "regression" and values["scale_target"]))


def _check(values: dict[str, Any]) -> list[tuple[str, str]]:
    return [] if values["path"].strip() else [("dataset.params.path", "choose a CSV file")]


CSV_SPEC = DatasetSpec(
    name="csv", title="CSV file", group="Your data",
    summary="A table with a header row; one column is the target, text columns become one-hot inputs.",
    params=(
        ParamSpec("path", ParamKind.STRING, "", "The CSV file; a relative path starts at the project's folder."),
        ParamSpec("target", ParamKind.STRING, "", "Name of the target column; empty means the last column."),
        choice_param("task", "auto", ("auto", "classification", "binary", "regression"),
                     "What to predict. 'auto': text, or a few whole numbers that repeat, are classes; other "
                     "numbers mean regression."),
        choice_param("missing", "drop", ("drop", "impute"),
                     "Rows with a missing feature: drop them, or fill in the training mean (numbers) or "
                     "most common value (text)."),
        ParamSpec("categorical", ParamKind.STRING, "", "Comma-separated columns to treat as categories even if "
                  "they hold numbers."),
        ParamSpec("ignore", ParamKind.STRING, "", "Comma-separated columns to leave out (ids, free text)."),
        choice_param("delimiter", "auto", tuple(DELIMITERS), "Field separator; 'auto' guesses from the header."),
        int_param("max_categories", 50, "The most distinct values a text column may have.", 2, 10_000),
        bool_param("scale_target", True, "For regression, standardise the target with training statistics."),
        ParamSpec("text_column", ParamKind.STRING, "", "A column of text to read as the input, tokenised for an "
                  "Embedding (the other feature columns are then left out); empty: no text."),
        choice_param("tokenizer", "word", TOKENIZERS, "With text_column: split the text into lower-cased words "
                     "and punctuation marks, or into characters."),
        int_param("max_length", 32, "With text_column: tokens kept per text (the Input's shape); shorter texts "
                  "are padded with id 0.", 1, 4096),
        int_param("vocab_size", 1000, "With text_column: ids in the vocabulary, padding (0) and unknown (1) "
                  "included; the most frequent training tokens get the rest. The Embedding needs at least this "
                  "many rows.", 3, 1_000_000),
    ),
    load=load_csv, kind="tabular", task=None, val_fraction=0.2, test_fraction=0.1,
    path_params=("path",), check=_check,
)
