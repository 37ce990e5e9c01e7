"""MetricHistory: series derived from records, listeners, thread safety and JSON files."""

from __future__ import annotations

import io
import json
import math
import threading

from nnstudio.metrics import JsonLinesWriter, MetricHistory


def test_records_become_series_keyed_by_kind_and_name():
    history = MetricHistory()
    history.add({"kind": "step", "epoch": 1, "step": 10, "loss": 0.5, "lr": 0.1})
    history.add({"kind": "step", "epoch": 1, "step": 20, "loss": 0.4, "lr": 0.1})
    history.add({"kind": "epoch", "epoch": 1, "step": 20, "val_loss": 0.45})
    loss = history.series("step/loss")
    assert loss.steps == [10, 20] and loss.values == [0.5, 0.4] and loss.epochs == [1, 1]
    assert history.latest("epoch/val_loss") == 0.45
    assert history.series("missing").values == []


def test_layer_records_give_per_node_series_and_histograms():
    history = MetricHistory()
    history.add({"kind": "grads", "epoch": 1, "step": 50, "global_norm": 2.0, "layers": {"n1": 1.5, "n2": None}})
    summary = {"mean": 0.1, "std": 1.0, "zero_fraction": 0.5, "hist": {"lo": 0.0, "hi": 2.0, "counts": [3, 1]}}
    history.add({"kind": "activations", "epoch": 1, "step": 500, "layers": {"n1": summary}})
    assert history.series("grads/n1").values == [1.5]
    assert math.isnan(history.series("grads/n2").values[0])
    assert history.series("activations/n1/zero_fraction").values == [0.5]
    assert history.histograms("activations", "n1") == [{"step": 500, "epoch": 1, "lo": 0.0, "hi": 2.0,
                                                         "counts": [3, 1]}]


def test_non_finite_numbers_are_stored_as_null():
    history = MetricHistory()
    history.add({"kind": "epoch", "epoch": 1, "step": 1, "val_loss": float("nan"), "x": [float("inf")]})
    record = history.records()[0]
    assert record["val_loss"] is None and record["x"] == [None]
    json.dumps(history.to_json(), allow_nan=False)


def test_listeners_receive_new_records_and_can_unsubscribe():
    history = MetricHistory()
    seen = []
    unsubscribe = history.subscribe(seen.append)
    history.add({"kind": "step", "step": 1, "loss": 1.0})
    unsubscribe()
    history.add({"kind": "step", "step": 2, "loss": 0.5})
    assert [r["step"] for r in seen] == [1]


def test_json_lines_writer_writes_one_object_per_record():
    stream = io.StringIO()
    history = MetricHistory()
    history.subscribe(JsonLinesWriter(stream))
    history.add({"kind": "step", "epoch": 1, "step": 1, "loss": 1.0})
    history.add({"kind": "epoch", "epoch": 1, "step": 1, "train_loss": 1.0})
    lines = stream.getvalue().splitlines()
    assert [json.loads(line)["kind"] for line in lines] == ["step", "epoch"]


def test_save_and_load_round_trip(tmp_path):
    history = MetricHistory()
    history.add({"kind": "step", "epoch": 1, "step": 3, "loss": 0.25})
    history.save(tmp_path / "h.json")
    again = MetricHistory.load(tmp_path / "h.json")
    assert again.records() == history.records() and again.series("step/loss").values == [0.25]


def test_reading_while_another_thread_writes():
    history = MetricHistory()

    def write():
        for step in range(2000):
            history.add({"kind": "step", "epoch": 1, "step": step, "loss": float(step)})

    writer = threading.Thread(target=write)
    writer.start()
    while writer.is_alive():
        series = history.series("step/loss")
        assert len(series.steps) == len(series.values)
    writer.join()
    assert len(history.series("step/loss").values) == 2000
    assert len(history.records("step", since=1990)) == 10
