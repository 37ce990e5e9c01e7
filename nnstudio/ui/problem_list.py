"""The window's one list of problems: the graph's analysis, what stops training, and the last run's failure.

The Problems dock and the status bar both read this list, so they can never disagree (the status bar used
to say "No problems" while the dock listed "dataset: no dataset chosen"). Its sections are filled from
the document, never from what a form happens to show:

- graph: the document's analysis, on every analysis;
- training: the training-readiness check, run by a checker the training tools install once torch is
  imported. It runs at once when a project is loaded and again shortly after every edit;
- run: why the last run failed (divergence, a bad file), cleared by the next Train or another project.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from nnstudio.analysis.diagnostics import Diagnostic

Checker = Callable[[object], list[Diagnostic]]  # the document -> its training problems; never raises
CHECK_DELAY_MS = 300  # after an edit; a little after the Training tools' own check, whose result is taken instead
GRAPH_SUMMARY_CODE = "training-graph"  # "the graph has N errors": only repeats the graph's own problems


class ProblemList(QObject):
    """Sections of diagnostics for one document; `changed` fires whenever the merged list may differ."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = None
        self.checker: Checker | None = None
        self.training_checked = False  # False until the training tools have checked this document
        self._sections: dict[str, list[Diagnostic]] = {"graph": [], "training": [], "run": []}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(CHECK_DELAY_MS)
        self._timer.timeout.connect(self.check_training)

    # --- following the document --------------------------------------------------------------
    def set_document(self, document) -> None:
        """A project was loaded (or the window was created): its own problems replace the old ones."""
        if document is self.document:
            return
        self._disconnect()
        self.document = document
        document.analysis_changed.connect(self._on_analysis)
        document.project.settings_changed.connect(self.schedule_check)
        self._sections = {"graph": list(document.analysis.diagnostics), "training": [], "run": []}
        self.training_checked = False
        if self.checker is not None:
            self.check_training()
        else:
            self.changed.emit()

    def _disconnect(self) -> None:
        old = self.document
        if old is None:
            return
        for signal, slot in (
            (old.analysis_changed, self._on_analysis),
            (old.project.settings_changed, self.schedule_check),
        ):
            with contextlib.suppress(RuntimeError, TypeError):
                signal.disconnect(slot)

    def _on_analysis(self, analysis) -> None:
        self.set_graph(analysis.diagnostics)
        self.schedule_check()  # the graph is part of what training needs

    def schedule_check(self, *_args) -> None:
        if self.checker is not None and self.document is not None:
            self._timer.start()

    # --- sections ----------------------------------------------------------------------------
    def set_graph(self, diagnostics) -> None:
        diagnostics = list(diagnostics)
        if diagnostics != self._sections["graph"]:
            self._sections["graph"] = diagnostics
            self.changed.emit()

    def set_checker(self, checker: Checker | None) -> None:
        """The training tools are ready: check the current document now."""
        self.checker = checker
        if checker is not None and self.document is not None:
            self.check_training()

    def check_training(self) -> None:
        self._timer.stop()
        if self.checker is None or self.document is None:
            return
        self._set("training", self.checker(self.document))

    def set_training(self, document, diagnostics: list[Diagnostic]) -> None:
        """A fresh check from the Training tools; one about another document than this list's is dropped."""
        if document is self.document:
            self._timer.stop()
            self._set("training", diagnostics)

    def set_run(self, document, diagnostics: list[Diagnostic]) -> None:
        if document is self.document:
            self._set("run", diagnostics)

    def _set(self, section: str, diagnostics) -> None:
        if section == "training":
            self.training_checked = True
        self._sections[section] = list(diagnostics)
        self.changed.emit()

    def section(self, name: str) -> list[Diagnostic]:
        return list(self._sections[name])

    # --- reading -----------------------------------------------------------------------------
    @property
    def diagnostics(self) -> list[Diagnostic]:
        """Everything, graph first; the training summary of a broken graph is left out (it repeats it)."""
        graph = self._sections["graph"]
        broken = any(d.is_error for d in graph)
        extra = [
            d
            for d in self._sections["training"] + self._sections["run"]
            if not (broken and d.code == GRAPH_SUMMARY_CODE)
        ]
        return graph + extra

    def summary_text(self) -> str:
        diagnostics = self.diagnostics
        if not diagnostics:
            return (
                "✓ No problems: the graph is valid and ready to train."
                if self.training_checked
                else "✓ No problems: the graph is valid."
            )
        errors = sum(d.is_error for d in diagnostics)
        parts = [_count(errors, "error"), _count(len(diagnostics) - errors, "warning")]
        return ", ".join(p for p in parts if p)


def _count(number: int, word: str) -> str:
    if number == 0:
        return ""
    return f"{number} {word}" + ("" if number == 1 else "s")
