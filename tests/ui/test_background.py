"""Background work that never touches Qt off the GUI thread, and garbage collection on the GUI thread."""

from __future__ import annotations

import gc
import threading
from concurrent.futures import Future

import pytest

from nnstudio.ui.background import FuturePoller, GuiThreadCollector, start_thread


def test_the_result_arrives_on_the_gui_thread(qtbot):
    poller = FuturePoller()
    release = threading.Event()
    seen: list[tuple[object, bool]] = []

    def work() -> str:
        release.wait(10)
        return "done"

    poller.watch(start_thread(work, "test-worker"),
                 lambda f: seen.append((f.result(), threading.current_thread() is threading.main_thread())))
    assert poller.pending == 1 and seen == []
    release.set()
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    assert seen == [("done", True)]
    assert poller.pending == 0


def test_a_failure_is_handed_over_not_raised_on_the_worker(qtbot):
    poller = FuturePoller()
    failures: list[BaseException | None] = []
    poller.watch(start_thread(lambda: 1 / 0, "test-failing"), lambda f: failures.append(f.exception()))
    qtbot.waitUntil(lambda: bool(failures), timeout=10_000)
    assert isinstance(failures[0], ZeroDivisionError)


def test_stopped_poller_calls_nothing_back(qtbot):
    poller = FuturePoller()
    calls: list[Future] = []
    future: Future = Future()
    poller.watch(future, calls.append)
    poller.stop()
    future.set_result(1)
    qtbot.wait(100)
    assert calls == []


@pytest.fixture
def own_collector(qapp):
    """A collector installed by this test alone; the session's is put back afterwards."""
    GuiThreadCollector.uninstall()
    yield
    GuiThreadCollector.uninstall()
    GuiThreadCollector.install(qapp)


def test_collector_turns_automatic_collection_off_and_collects_when_due(qapp, own_collector, monkeypatch):
    collector = GuiThreadCollector.install(qapp)
    assert GuiThreadCollector.install(qapp) is collector  # one per process
    assert not gc.isenabled()
    collected: list[int] = []
    monkeypatch.setattr(gc, "collect", collected.append)
    monkeypatch.setattr(gc, "get_count", lambda: (5, 0, 0))
    collector.collect_if_due()
    assert collected == []  # below every threshold
    threshold0, threshold1, _ = collector.thresholds
    monkeypatch.setattr(gc, "get_count", lambda: (threshold0 + 1, 0, 0))
    collector.collect_if_due()
    monkeypatch.setattr(gc, "get_count", lambda: (threshold0 + 1, threshold1 + 1, 0))
    collector.collect_if_due()
    assert collected == [0, 1]
    GuiThreadCollector.uninstall()
    assert gc.isenabled()
