"""MetricHistory.save: the same file as one json.dumps, written without holding the GIL for the whole history.

json's C encoder keeps the GIL for one whole call; a long run's history encoded in one call stalled the live
GUI for 100+ ms at every checkpoint. save() now encodes one record per call, and must write the same text.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnstudio.metrics.history import MetricHistory

numbers = st.one_of(st.integers(-(10**6), 10**6), st.floats(allow_nan=False, allow_infinity=False))
values = st.recursive(
    st.one_of(numbers, st.text(max_size=5), st.none(), st.booleans()),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=8,
)
records = st.lists(
    st.dictionaries(st.text(max_size=6), values, max_size=4).map(
        lambda r: {**r, "kind": "step", "epoch": 1, "step": 1}
    ),
    max_size=6,
)


@settings(max_examples=50, deadline=None)
@given(records)
def test_save_writes_what_one_json_dumps_would(tmp_path_factory, found):
    history = MetricHistory(found)
    path = tmp_path_factory.mktemp("history") / "history.json"
    history.save(path)
    text = path.read_text(encoding="utf-8")
    assert text == json.dumps(history.to_json(), allow_nan=False)
    assert MetricHistory.load(path).records() == history.records()


def test_an_empty_history_saves_and_loads(tmp_path):
    MetricHistory().save(tmp_path / "h.json")
    assert MetricHistory.load(tmp_path / "h.json").records() == []


def test_a_non_finite_value_is_refused_as_before(tmp_path):
    history = MetricHistory([{"kind": "step", "epoch": 1, "step": 1, "loss": math.nan}])
    with pytest.raises(ValueError):
        history.save(tmp_path / "h.json")


def test_no_single_encode_call_covers_the_whole_history(tmp_path, monkeypatch):
    import nnstudio.metrics.history as module

    calls = []
    real = json.dumps
    monkeypatch.setattr(module.json, "dumps", lambda obj, **kw: calls.append(obj) or real(obj, **kw))
    records = [{"kind": "step", "epoch": 1, "step": i, "loss": 1.0 / i} for i in range(1, 50)]
    MetricHistory(records).save(tmp_path / "h.json")
    assert calls and all(not (isinstance(obj, dict) and "records" in obj) for obj in calls)
    assert all(not isinstance(obj, list) for obj in calls)
