"""The app's dataset preview shows a text column's training rows as written, as tokens and as ids."""

from __future__ import annotations

from nnstudio.training.data import load_dataset
from nnstudio.training.data.text import UNK_ID, decoded_rows
from nnstudio.ui.training.preview import DatasetPreview

SECTION = {"name": "csv", "params": {"path": "example:text_sentiment.csv", "target": "sentiment",
                                     "text_column": "review", "max_length": 16, "vocab_size": 40}}


def test_the_preview_lists_tokenised_training_rows(qtbot):
    data = load_dataset(SECTION, 0)
    preview = DatasetPreview()
    qtbot.addWidget(preview)
    preview.show_data(data)
    assert preview.shown == "text"
    table = preview.text_rows
    assert table.rowCount() == 40
    vocab = data.vocabulary
    first_ids = [i for i in data.train.x[0].tolist() if i != 0]
    assert table.item(0, 0).text() == vocab.preview[0]  # the review as written
    assert table.item(0, 1).text() == data.class_names[int(data.train.y[0])]
    assert table.item(0, 2).text() == " · ".join(vocab.tokens[i] for i in first_ids)
    assert table.item(0, 3).text() == " ".join(map(str, first_ids))  # exactly what the model reads
    with_unknown = next(r for r in range(table.rowCount()) if str(UNK_ID) in table.item(r, 3).text().split())
    tokens = table.item(with_unknown, 2)
    assert "<unk>" in tokens.text() and "not in the vocabulary" in tokens.toolTip()


def test_rows_rebuilt_from_ids_read_back_the_tokens():
    data = load_dataset(SECTION, 0)
    rows = decoded_rows(data.vocabulary, data.train.x.numpy(), 3)
    assert [r.ids for r in rows] == [[i for i in x if i != 0] for x in data.train.x[:3].tolist()]
    assert rows[0].text == " ".join(rows[0].tokens)
