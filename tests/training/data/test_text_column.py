"""A CSV column of text as the input: tokens, a training-only vocabulary, padding, unknown words, bad input."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from nnstudio.training.data import DatasetError
from nnstudio.training.data.catalogue import dataset_problems, load_dataset
from nnstudio.training.data.text import (
    PAD_ID,
    UNK_ID,
    Vocabulary,
    preview_rows,
    read_vocabulary,
    tokenize,
)


def write_csv(folder: Path, rows: list[tuple[str, str]], header: tuple[str, str] = ("text", "label")) -> Path:
    path = folder / "reviews.csv"
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def section(path: Path, **params) -> dict:
    return {"name": "csv", "params": {"path": str(path), "text_column": "text", **params}}


def unique_word_rows(count: int = 60) -> list[tuple[str, str]]:
    """Each row: a shared word, its label word, and a word no other row has."""
    return [(f"item {'good' if i % 2 else 'bad'} only{i}", "pos" if i % 2 else "neg") for i in range(count)]


def test_tokenizers_lower_case_and_split_words_punctuation_or_characters():
    assert tokenize("Great phone, REALLY!", "word") == ["great", "phone", ",", "really", "!"]
    assert tokenize("Ab c", "char") == ["a", "b", " ", "c"]


def test_the_vocabulary_comes_from_the_training_rows_only_and_other_words_are_unknown(tmp_path):
    data = load_dataset(section(write_csv(tmp_path, unique_word_rows()), vocab_size=1000, max_length=4), seed=0)
    vocab = data.vocabulary
    assert vocab.tokens[:2] == ["<pad>", "<unk>"]
    assert vocab.tokens[2] == "item"  # in every row: the most frequent
    unique = {t for t in vocab.tokens if t.startswith("only")}
    assert len(unique) == len(data.train)  # the words of training rows, none from validation or test
    assert data.input_shape == (4,) and data.input_dtype == "int64" and data.kind == "tokens"
    assert data.vocab_size == 1000
    train, val = data.train.x.numpy(), data.val.x.numpy()
    assert (train[:, 2] != UNK_ID).all() and (val[:, 2] == UNK_ID).all()
    assert (train[:, 3] == PAD_ID).all()  # three tokens, padded to four
    assert data.num_classes == 2 and data.class_names == ["neg", "pos"]


def test_the_vocabulary_keeps_the_most_frequent_tokens_up_to_vocab_size(tmp_path):
    data = load_dataset(section(write_csv(tmp_path, unique_word_rows()), vocab_size=5, max_length=2), seed=0)
    assert data.vocabulary.tokens == ["<pad>", "<unk>", "item", "bad", "good"]
    assert data.train.x.shape[1] == 2  # cut after max_length tokens
    assert int(data.train.x.max()) < 5


def test_the_same_file_and_seed_give_the_same_ids(tmp_path):
    path = write_csv(tmp_path, unique_word_rows())
    first, second = (load_dataset(section(path, tokenizer="char"), seed=3) for _ in range(2))
    assert first.vocabulary.tokens == second.vocabulary.tokens
    assert np.array_equal(first.train.x.numpy(), second.train.x.numpy())


def test_preview_rows_show_text_ids_and_tokens_with_unknown_words():
    vocab = Vocabulary("text", "word", 8, 10)
    vocab.fit(["a good phone", "a bad phone"])
    rows = preview_rows(vocab, ["A good kettle!", "bad"], count=5)
    assert [r.text for r in rows] == ["A good kettle!", "bad"]
    assert rows[0].tokens == ["a", "good", "<unk>", "<unk>"]
    assert rows[0].ids == [vocab.tokens.index("a"), vocab.tokens.index("good"), UNK_ID, UNK_ID]


def test_a_vocabulary_round_trips_through_its_file(tmp_path):
    vocab = Vocabulary("text", "char", 5, 20)
    vocab.fit(["héllo", "world"])
    vocab.save(tmp_path)
    again = read_vocabulary(tmp_path)
    assert again == vocab and again.encode(["hé?"]).tolist() == vocab.encode(["hé?"]).tolist()
    assert read_vocabulary(tmp_path / "nothing") is None
    (tmp_path / "vocabulary.json").write_text('{"format": "other"}', encoding="utf-8")
    with pytest.raises(DatasetError, match="vocabulary.json: not a vocabulary file"):
        read_vocabulary(tmp_path)


@pytest.mark.parametrize("rows, params, expected", [
    ([("1", "a"), ("2", "b"), ("", "a")], {}, "dataset.params.text_column: column 'text' of .* holds no text"),
    (unique_word_rows(), {"text_column": "review"}, "dataset.params.text_column: .* has no column 'review'"),
    (unique_word_rows(), {"text_column": "label"}, "dataset.params.text_column: 'label' is the target column"),
])
def test_bad_text_columns_are_one_line_naming_the_setting(tmp_path, rows, params, expected):
    with pytest.raises(DatasetError, match=expected) as caught:
        load_dataset(section(write_csv(tmp_path, rows), **params), seed=0)
    assert "\n" not in str(caught.value)


def test_a_vocabulary_size_of_zero_is_refused_naming_the_setting(tmp_path):
    problems = dataset_problems(section(write_csv(tmp_path, unique_word_rows()), vocab_size=0))
    assert [place for place, _ in problems] == ["dataset.params.vocab_size"]
    assert "3" in problems[0][1]  # the smallest size that holds padding, unknown and one word


def test_without_text_column_the_csv_dataset_is_unchanged(tmp_path):
    path = write_csv(tmp_path, [(str(i % 7), "pos" if i % 2 else "neg") for i in range(40)], ("x", "label"))
    data = load_dataset({"name": "csv", "params": {"path": str(path)}}, seed=0)
    assert data.kind == "tabular" and data.vocabulary is None and data.input_dtype == "float32"
