"""A few-shot run's evaluation page: N-way K-shot accuracy with its 95 % confidence interval, per K and per class.

A few-shot embedding has no classifier head: its output is an embedding, so a softmax over it means nothing and
the classifier pages (confusion matrix, mistakes) are not built. The figures come from the recipe's evaluator
(fewshot_trainer.evaluate_fewshot): episodes drawn from classes the network never trained on, the same
episodes as the run's final evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget


@dataclass
class FewShotRow:
    setting: str  # "5-way 1-shot"
    shots: int
    accuracy: float
    ci95: float
    chance: float
    episodes: int
    class_accuracy: dict[str, float]  # class name -> share of its queries labelled right


@dataclass
class FewShotSummary:
    split: str
    classes: list[str]
    rows: list[FewShotRow]
    headline_shots: int  # the K it was trained with


def fewshot_summary(job, report) -> FewShotSummary:
    """The evaluator's episode scores as plain rows, classes named."""
    names = job.data.class_names

    def name(cls: int) -> str:
        return str(names[cls]) if names is not None and 0 <= cls < len(names) else str(cls)

    rows = [FewShotRow(r.shape.describe(), r.shape.shots, r.accuracy, r.ci95, r.chance, r.episodes,
                       {name(c): v for c, v in r.class_accuracy.items()}) for r in report.results]
    return FewShotSummary(report.split, list(report.classes), rows, job.recipe_params["shots"])


def _cell(text: str) -> QTableWidgetItem:
    return QTableWidgetItem(text)


class FewShotPage(QWidget):
    """A caption, one row per K (accuracy ± CI against chance), and each class's accuracy for every K."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.table, self.classes = QTableWidget(), QTableWidget()
        for table in (self.table, self.classes):
            table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout = QVBoxLayout(self)
        layout.addWidget(self.caption)
        layout.addWidget(self.table, 1)
        layout.addWidget(QLabel("Accuracy per class"))
        layout.addWidget(self.classes, 2)

    def show_summary(self, summary: FewShotSummary) -> None:
        self.caption.setText(f"Episodes of the {summary.split} classes {', '.join(summary.classes)}, which the "
                             f"embedding never trained on; trained with K = {summary.headline_shots}. Accuracy is "
                             "the mean over episodes, ± its 95 % confidence interval.")
        table = self.table
        table.clear()
        table.setRowCount(len(summary.rows))
        table.setColumnCount(5)
        table.setHorizontalHeaderLabels(["setting", "accuracy", "± 95 % CI", "chance", "episodes"])
        for row, r in enumerate(summary.rows):
            for column, text in enumerate((r.setting, f"{r.accuracy:.1%}", f"± {r.ci95:.1%}", f"{r.chance:.1%}",
                                           str(r.episodes))):
                table.setItem(row, column, _cell(text))
        self._fill_classes(summary)

    def _fill_classes(self, summary: FewShotSummary) -> None:
        names = list(dict.fromkeys(name for r in summary.rows for name in r.class_accuracy))
        table = self.classes
        table.clear()
        table.setRowCount(len(names))
        table.setColumnCount(1 + len(summary.rows))
        table.setHorizontalHeaderLabels(["class", *(f"{r.shots}-shot" for r in summary.rows)])
        for row, name in enumerate(names):
            table.setItem(row, 0, _cell(name))
            for column, r in enumerate(summary.rows, start=1):
                value = r.class_accuracy.get(name)
                table.setItem(row, column, _cell("" if value is None else f"{value:.1%}"))
