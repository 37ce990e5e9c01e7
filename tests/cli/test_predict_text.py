"""`nnstudio predict --text`: typed text through the vocabulary saved with the checkpoint."""

from __future__ import annotations

import json

import pytest

from nnstudio.cli import main
from nnstudio.training.data.text import read_vocabulary


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("text") / "run"
    assert main(["train", "example:text_sentiment", "--epochs", "1", "--out", str(out)]) == 0
    return out / "checkpoints" / "last"


def test_typed_reviews_are_classified_by_their_words(trained, capsys):
    capsys.readouterr()
    verdicts = {}
    for text in ("The kettle is awful and noisy!", "my new lamp is really lovely"):
        assert main(["predict", "example:text_sentiment", "--checkpoint", str(trained), "--text", text,
                     "--json"]) == 0
        verdicts[text] = json.loads(capsys.readouterr().out)["predicted"]
    assert verdicts == {"The kettle is awful and noisy!": "negative", "my new lamp is really lovely": "positive"}


def test_the_checkpoint_holds_the_vocabulary_that_encodes_the_text(trained):
    vocabulary = read_vocabulary(trained)
    assert vocabulary is not None and vocabulary.column == "review" and vocabulary.max_length == 16
    assert vocabulary.encode(["zzz awful"]).tolist()[0][:3] == [1, vocabulary.tokens.index("awful"), 0]


def test_text_for_a_project_without_a_text_column_is_one_line_exit_2(tmp_path, capsys):
    from tests.cli.test_train import write_project

    path = write_project(tmp_path)
    assert main(["train", str(path), "--epochs", "1", "--out", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    code = main(["predict", str(path), "--checkpoint", str(tmp_path / "run" / "checkpoints" / "last"), "--text", "hi"])
    assert code == 2
    assert capsys.readouterr().err.strip() == ("nnstudio predict: --text: this project's input is not a text column "
                                               "(set dataset.params.text_column)")
