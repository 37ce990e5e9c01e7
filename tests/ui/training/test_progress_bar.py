"""The run's progress bar repaints with the next paint pass: QProgressBar.setValue painted at once, ~2.5 ms on
the GUI thread at every update of a run."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject

from nnstudio.ui.training.panel import LazyProgressBar, RunControls


class PaintCounter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def eventFilter(self, watched, event) -> bool:
        self.paints += event.type() == QEvent.Type.Paint
        return False


def test_set_value_paints_later_not_at_once(qtbot):
    controls = RunControls()
    qtbot.addWidget(controls)
    controls.show()
    qtbot.waitExposed(controls)
    bar = controls.progress
    assert isinstance(bar, LazyProgressBar)
    counter = PaintCounter()
    bar.installEventFilter(counter)
    bar.setValue(500)
    assert counter.paints == 0 and bar.value() == 500 and bar.updatesEnabled()
    qtbot.waitUntil(lambda: counter.paints > 0, timeout=2000)
