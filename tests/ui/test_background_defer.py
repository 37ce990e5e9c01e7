"""While a run trains, the GUI thread's full collection waits for the run's end: it walked everything made since
startup (the run's data libraries included) and stalled the live plots for 60-90 ms each time."""

from __future__ import annotations

import gc

import pytest

from nnstudio.ui.background import GuiThreadCollector


@pytest.fixture
def own_collector(qapp):
    GuiThreadCollector.uninstall()
    yield GuiThreadCollector.install(qapp)
    GuiThreadCollector.defer_full = False
    GuiThreadCollector.uninstall()
    GuiThreadCollector.install(qapp)


def test_a_due_full_collection_waits_while_deferred(own_collector, monkeypatch):
    collected: list[int] = []
    monkeypatch.setattr(gc, "collect", collected.append)
    t0, t1, t2 = own_collector.thresholds
    monkeypatch.setattr(gc, "get_count", lambda: (t0 + 1, t1 + 1, t2 + 1))
    GuiThreadCollector.defer_full = True
    own_collector.collect_if_due()
    assert collected == [1]  # the young generations are still collected
    GuiThreadCollector.defer_full = False
    own_collector.collect_if_due()
    assert collected == [1, 2]  # and the full one runs once the run is over
