"""The coalescer that limits GUI updates, and the throughput meter."""

from __future__ import annotations

from nnstudio.ui.training.throttle import Coalescer, Progress, RateMeter


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_updates_are_coalesced_to_the_rate():
    clock = FakeClock()
    coalescer = Coalescer(rate=30, clock=clock)
    sent = []
    for step in range(1, 3001):  # 3000 steps in one simulated second
        clock.now = step / 3000
        coalescer.add_record({"kind": "step", "step": step})
        coalescer.set_progress(Progress(1, 1, step, 3000))
        update = coalescer.take_if_due()
        if update is not None:
            sent.append(update)
    last = coalescer.take()
    if last is not None:
        sent.append(last)
    assert 29 <= len(sent) <= 32
    steps = [r["step"] for update in sent for r in update.records]
    assert steps == list(range(1, 3001)), "every record arrives once, in order"
    assert sent[-1].progress.step == 3000, "only the latest progress is kept"


def test_take_returns_none_when_nothing_is_pending():
    coalescer = Coalescer(clock=FakeClock())
    assert coalescer.take() is None
    coalescer.set_boundary("grid")
    assert coalescer.take().boundary == "grid"
    assert coalescer.take() is None


def test_rate_meter_measures_a_sliding_window_and_resets():
    clock = FakeClock()
    meter = RateMeter(clock=clock, window=1.0)
    assert meter.steps_per_second() is None
    for i in range(50):
        clock.now = i * 0.1
        meter.mark(i * 10)  # 100 steps/s
    assert abs(meter.steps_per_second() - 100.0) < 1e-6
    meter.reset()
    assert meter.steps_per_second() is None


def test_progress_fraction():
    assert Progress(1, 2, 50, 200).fraction == 0.25
    assert Progress(1, 2, 500, 200).fraction == 1.0
