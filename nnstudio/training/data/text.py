"""A CSV column of text as model input: tokens, a vocabulary fitted on the training rows, fixed-length ids.

Id 0 is padding and id 1 the unknown token; the other ids go to the most frequent tokens of the TRAINING
split (ties broken alphabetically, so the same file and seed always give the same ids). Each text becomes
`max_length` ids: cut after max_length tokens, padded with 0 after the end. Validation and test texts are
encoded with the training vocabulary, so a word seen only there reads as unknown, as it would for a user.

The fitted vocabulary travels with the data (DataSplits.vocabulary) and is saved as vocabulary.json in
every checkpoint, so prediction encodes typed text exactly as training did.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nnstudio.training.data.base import DatasetError
from nnstudio.training.data.csv_table import Table, is_missing, parse_number
from nnstudio.training.data.splits import standardise

TOKENIZERS = ("char", "word")
PAD_ID, UNK_ID = 0, 1
RESERVED = ("<pad>", "<unk>")
VOCAB_FILE = "vocabulary.json"
PREVIEW_ROWS = 40  # training texts kept as written, for the dataset preview
FORMAT = "nnstudio.vocabulary"
_WORD = re.compile(r"\w+|[^\w\s]")  # words, and each punctuation mark as a token of its own


def tokenize(text: str, tokenizer: str) -> list[str]:
    """Lower-cased tokens: words and punctuation marks ('word') or characters ('char')."""
    text = text.lower()
    return _WORD.findall(text) if tokenizer == "word" else list(text)


@dataclass
class Vocabulary:
    """How one text column becomes ids. `tokens[i]` is the token of id i; empty until `fit` is called."""

    column: str
    tokenizer: str
    max_length: int
    max_size: int
    tokens: list[str] = field(default_factory=list)
    _ids: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)
    # The first training texts as written, in the training split's order, for the dataset preview; not saved.
    preview: list[str] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._ids = {token: i for i, token in enumerate(self.tokens)}

    def fit(self, texts: list[str]) -> None:
        """Keep the max_size - 2 most frequent tokens of `texts` (the training rows), after the reserved two."""
        counts = Counter(token for text in texts for token in tokenize(text, self.tokenizer))
        ranked = sorted(counts, key=lambda token: (-counts[token], token))
        self.tokens = [*RESERVED, *ranked[:self.max_size - len(RESERVED)]]
        self._ids = {token: i for i, token in enumerate(self.tokens)}

    def ids(self, text: str) -> list[int]:
        """The text's ids, cut to max_length, without padding."""
        get = self._ids.get
        return [get(token, UNK_ID) for token in tokenize(text, self.tokenizer)[:self.max_length]]

    def encode(self, texts: list[str]) -> np.ndarray:
        """An int64 [len(texts), max_length] array of ids, padded with PAD_ID."""
        out = np.full((len(texts), self.max_length), PAD_ID, dtype=np.int64)
        for row, text in enumerate(texts):
            ids = self.ids(text)
            out[row, :len(ids)] = ids
        return out

    def decode(self, ids: list[int]) -> list[str]:
        """The tokens of ids, padding left out."""
        return [self.tokens[i] if 0 <= i < len(self.tokens) else RESERVED[UNK_ID] for i in ids if i != PAD_ID]

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": 1, "column": self.column, "tokenizer": self.tokenizer,
                "max_length": self.max_length, "max_size": self.max_size, "lowercase": True, "tokens": self.tokens}

    @classmethod
    def from_json(cls, data: Any, place: str) -> Vocabulary:
        """Read what to_json wrote; a file that is not one raises DatasetError naming `place`."""
        try:
            if data.get("format") != FORMAT:
                raise ValueError(f"format is {data.get('format')!r}, not {FORMAT!r}")
            tokens = [str(token) for token in data["tokens"]]
            if data["tokenizer"] not in TOKENIZERS or tuple(tokens[:2]) != RESERVED:
                raise ValueError("unknown tokenizer or missing reserved tokens")
            return cls(str(data["column"]), data["tokenizer"], int(data["max_length"]), int(data["max_size"]),
                       tokens)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise DatasetError(f"{place}: not a vocabulary file ({exc})") from None

    def save(self, folder: Path) -> Path:
        path = Path(folder) / VOCAB_FILE
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False), encoding="utf-8")
        return path


def read_vocabulary(folder: str | Path) -> Vocabulary | None:
    """The vocabulary saved in a checkpoint or run folder, or None when it holds none."""
    path = Path(folder) / VOCAB_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path}: cannot be read ({exc})") from None
    return Vocabulary.from_json(data, str(path))


def with_vocabulary(writer: Callable[[Path], None] | None,
                    vocabulary: Vocabulary | None) -> Callable[[Path], None] | None:
    """A checkpoint writer that also saves the vocabulary into the folder being written (atomically with
    the weights, since the writer runs on the staging folder); `writer` itself when there is none."""
    if vocabulary is None:
        return writer

    def write(folder: Path) -> None:
        vocabulary.save(folder)
        if writer is not None:
            writer(folder)

    return write


def text_cells(table: Table, column: str) -> list[str]:
    """The column's cells, refused when none of them holds text (each is empty or a number): such a
    column is a number column that text_column names by mistake."""
    cells = table.column(column)
    if not any(not is_missing(cell) and parse_number(cell) is None for cell in cells):
        raise DatasetError(f"dataset.params.text_column: column {column!r} of {table.path} holds no text (every "
                           f"value is empty or a number); name a column of words or sentences")
    return ["" if is_missing(cell) else cell for cell in cells]


def text_finisher(texts: list[str], vocabulary: Vocabulary, y: np.ndarray,
                  scale_target: bool) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Fit the vocabulary (and a regression target's scale) on the training rows once the split is known,
    then encode every row."""

    def finish(train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        vocabulary.fit([texts[i] for i in train])
        vocabulary.preview = [texts[i] for i in train[:PREVIEW_ROWS]]
        return vocabulary.encode(texts), standardise(y, train) if scale_target else y

    return finish


@dataclass(frozen=True)
class PreviewRow:
    """One tokenised row as the dataset preview shows it."""

    text: str
    ids: list[int]
    tokens: list[str]


def preview_rows(vocabulary: Vocabulary, texts: list[str], count: int = 8) -> list[PreviewRow]:
    """The first `count` texts with their ids (unpadded) and the tokens those ids stand for (<unk> where the
    vocabulary lacks one), so a user sees what the model is really given."""
    rows = []
    for text in texts[:count]:
        ids = vocabulary.ids(text)
        rows.append(PreviewRow(text, ids, [vocabulary.tokens[i] for i in ids]))
    return rows


def training_rows(vocabulary: Vocabulary, x: np.ndarray, count: int = 8) -> list[PreviewRow]:
    """The first training rows for a preview: the texts as written where the vocabulary kept them (a fresh
    load), else rebuilt from the ids in `x`, the training split's inputs (a vocabulary read from a file)."""
    if vocabulary.preview:
        return preview_rows(vocabulary, vocabulary.preview, count)
    return decoded_rows(vocabulary, x, count)


def decoded_rows(vocabulary: Vocabulary, x: np.ndarray, count: int = 8) -> list[PreviewRow]:
    """Preview rows rebuilt from encoded ids (a split's x), for a preview that has only the tensors."""
    rows = []
    for ids in np.asarray(x)[:count].tolist():
        kept = [i for i in ids if i != PAD_ID]
        tokens = vocabulary.decode(kept)
        joiner = " " if vocabulary.tokenizer == "word" else ""
        rows.append(PreviewRow(joiner.join(tokens), kept, tokens))
    return rows
