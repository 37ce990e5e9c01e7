"""Compress a run's model (prune or quantise to int8) from the Runs tab, and show the report's table.

The work (loading data, pruning, fine-tuning, calibrating, timing) runs on a worker thread that only fills a
future (ui/background.py); the dialog polls it on the GUI thread, so closing the dialog mid-way is safe. The
choices come from the core's METHODS table, as the CLI's flags do. Errors are one line in the dialog.
"""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nnstudio.layers.registry import Registry
from nnstudio.training.compress.methods import METHODS, SWEEP_AMOUNTS, CompressOptions
from nnstudio.ui.background import FuturePoller, start_thread


def compress_run(
    project_text: str,
    registry: Registry,
    base_dir: Path | None,
    checkpoint: Path,
    options: CompressOptions,
    out_dir: Path,
):
    """The worker's job: the run's own project snapshot, its checkpoint, compressed into `out_dir`."""
    from nnstudio.io import ProjectFileError, loads
    from nnstudio.training.compress import CompressError, compress, load_trained

    options.check()
    try:
        project = loads(project_text, registry)
    except ProjectFileError as exc:
        raise CompressError(str(exc)) from None
    return compress(load_trained(project, base_dir, checkpoint), options, out_dir)


class CompressDialog(QDialog):
    def __init__(
        self,
        project_text: str,
        registry: Registry,
        base_dir: Path | None,
        checkpoint: Path,
        run_name: str,
        out_dir: Path,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Compress {run_name}")
        self.setObjectName("compress_dialog")
        self._inputs = (project_text, registry, base_dir, checkpoint)
        self.report = None
        self.method = QComboBox()
        for method in METHODS.values():
            self.method.addItem(method.title, method.name)
            self.method.setItemData(self.method.count() - 1, method.summary, Qt.ItemDataRole.ToolTipRole)
        self.amount = QDoubleSpinBox()
        self.amount.setRange(0.01, 0.99)
        self.amount.setSingleStep(0.05)
        self.amount.setValue(0.5)
        self.sweep = QCheckBox("Sweep sparsities " + ", ".join(f"{a:g}" for a in SWEEP_AMOUNTS))
        self.finetune = QSpinBox()
        self.finetune.setRange(0, 1000)
        self.finetune.setSuffix(" epoch(s)")
        self.out = QLineEdit(str(out_dir))
        form = QFormLayout()
        form.addRow("Method:", self.method)
        form.addRow("Prune fraction:", self.amount)
        form.addRow("", self.sweep)
        form.addRow("Fine-tune after pruning:", self.finetune)
        form.addRow("Write into:", self.out)
        self.run_button = QPushButton("Compress")
        self.run_button.setObjectName("compress_run")
        self.run_button.clicked.connect(self.start)
        self.status = QLabel("Choose a method and press Compress.")
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, 0)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.run_button)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.notes)
        layout.addWidget(buttons)
        self.poller = FuturePoller(self)
        self.method.currentIndexChanged.connect(self._update_fields)
        self.sweep.toggled.connect(self._update_fields)
        self._update_fields()

    def options(self) -> CompressOptions:
        name = self.method.currentData()
        pruning = METHODS[name].kind == "prune"
        return CompressOptions(
            method=name,
            amount=self.amount.value(),
            sweep=pruning and self.sweep.isChecked(),
            finetune=self.finetune.value() if pruning else 0,
        )

    def start(self) -> None:
        """Compress on a worker thread; the button stays off until it is done."""
        options, out = self.options(), Path(self.out.text().strip() or ".")
        self.run_button.setEnabled(False)
        self.status.setText(f"Compressing ({METHODS[options.method].title})…")
        future = start_thread(lambda: compress_run(*self._inputs, options, out), "nnstudio-compress")
        self.poller.watch(future, self._finished)

    @property
    def busy(self) -> bool:
        return self.poller.pending > 0

    def _finished(self, future: Future) -> None:
        from nnstudio.training.compress import CompressError

        self.run_button.setEnabled(True)
        try:
            report = future.result()
        except CompressError as exc:
            self.status.setText(f"Cannot compress: {exc}")
            return
        except Exception as exc:  # anything else still gets one line, never a traceback dialog
            self.status.setText(f"Compression failed: {type(exc).__name__}: {exc}")
            return
        self.report = report
        self.status.setText(f"{report.method} on the {report.split} split.")
        self._show_table(report.table())
        self.notes.setText("\n".join(report.notes + [f"Wrote {f}" for f in report.files]))

    def _show_table(self, table: list[list[str]]) -> None:
        heading, *rows = table
        self.table.clear()
        self.table.setColumnCount(len(heading))
        self.table.setRowCount(len(rows))
        self.table.setHorizontalHeaderLabels(heading)
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(cell))

    def _update_fields(self) -> None:
        pruning = METHODS[self.method.currentData()].kind == "prune"
        self.sweep.setEnabled(pruning)
        self.amount.setEnabled(pruning and not self.sweep.isChecked())
        self.finetune.setEnabled(pruning)

    def done(self, result: int) -> None:
        self.poller.stop()  # a late result must not reach a closed dialog
        super().done(result)
