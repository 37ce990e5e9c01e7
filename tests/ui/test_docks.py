"""Problems, Summary and Code docks, and the background compile that feeds the last two."""

from __future__ import annotations

from concurrent.futures import Future

from nnstudio.analysis import analyze
from nnstudio.model.builder import GraphBuilder
from nnstudio.ui.commands import RemoveNodesCommand, SetParamCommand
from nnstudio.ui.docks import ModelPreview, PreviewResult
from nnstudio.ui.docks.code import CodePanel, PythonHighlighter, readable
from nnstudio.ui.docks.preview import snapshot
from nnstudio.ui.docks.problems import ProblemsPanel
from nnstudio.ui.docks.summary import SummaryPanel

COMPILE_TIMEOUT_MS = 60_000  # the first compile imports torch on the worker thread


def _refresh(qtbot, window) -> PreviewResult:
    with qtbot.waitSignal(window.preview.ready, timeout=COMPILE_TIMEOUT_MS) as blocker:
        window.preview.refresh_now()
    return blocker.args[0]


def test_summary_and_code_show_the_compiled_model(window, qtbot):
    result = _refresh(qtbot, window)
    assert result.ok
    graph = window.document.graph
    table = window.summary.table
    assert table.topLevelItemCount() == len(graph.nodes)
    names = [table.topLevelItem(i).text(0) for i in range(table.topLevelItemCount())]
    assert names == [graph.nodes[n].name for n in window.document.analysis.structure.order]
    fc1 = next(table.topLevelItem(i) for i in range(table.topLevelItemCount())
               if table.topLevelItem(i).text(0) == "fc1")
    assert (fc1.text(2), fc1.text(3)) == ("[N, 64]", "192")  # 2 inputs x 64 + 64 biases
    assert f"{result.summary.total_params:,} parameters" in window.summary.totals.text()
    assert "def forward(self, points)" in window.code.code()
    assert "self.fc1(points)" in window.code.code()


def test_an_invalid_graph_asks_to_fix_the_problems_first(window, qtbot):
    _refresh(qtbot, window)
    document = window.document
    fc2 = document.graph.node_by_name("fc2")
    document.push(RemoveNodesCommand(document, [fc2.id]))
    document.reanalyze_now()
    errors = len(document.analysis.errors)
    result = _refresh(qtbot, window)
    assert result.problems == errors > 0
    assert window.summary.table.topLevelItemCount() == 0
    assert f"Fix the {errors} problems" in window.summary.note.text()
    assert window.code.note.isVisibleTo(window.code) and not window.code.editor.isEnabled()
    assert "def forward" in window.code.code()  # the last good code stays, dimmed


def test_edits_reach_the_code_after_the_debounce(window, qtbot):
    _refresh(qtbot, window)
    window.preview.set_active(True)
    document = window.document
    fc1 = document.graph.node_by_name("fc1")
    with qtbot.waitSignal(window.preview.ready, timeout=COMPILE_TIMEOUT_MS):
        document.push(SetParamCommand(document, fc1.id, "out_features", 33))
    assert any(window.summary.table.topLevelItem(i).text(2) == "[N, 33]"
               for i in range(window.summary.table.topLevelItemCount()))


def test_preview_does_not_compile_while_its_docks_are_hidden(window, qtbot):
    preview = window.preview
    preview.set_active(False)
    document = window.document
    fc1 = document.graph.node_by_name("fc1")
    document.push(SetParamCommand(document, fc1.id, "out_features", 12))
    document.reanalyze_now()
    qtbot.wait(400)  # longer than the debounce
    assert not preview.busy
    with qtbot.waitSignal(preview.ready, timeout=COMPILE_TIMEOUT_MS):
        window.docks["summary"].raise_()  # showing the dock starts the pending compile


def test_snapshot_is_a_private_copy(window):
    copy = snapshot(window.document.project)
    fc1 = window.document.graph.node_by_name("fc1")
    copy.graph.nodes[fc1.id].params["out_features"] = 999
    assert fc1.params.get("out_features") != 999
    assert list(copy.graph.edges) == list(window.document.graph.edges)


def test_stale_results_are_dropped(qtbot, window):
    preview = ModelPreview(delay_ms=0)
    received: list[PreviewResult] = []
    preview.ready.connect(received.append)
    preview.set_document(window.document)
    gone: Future = Future()
    gone.set_result(("stale code", None))
    preview._on_finished(-5, gone)  # a result for a generation long gone
    assert received == []
    preview.shutdown()


def test_problems_panel_lists_errors_first_and_counts_them(qtbot):
    builder = GraphBuilder(name="broken")
    builder.add("Linear", "a", out_features=2)
    builder.add("Input", "x", shape=[2])
    panel = ProblemsPanel()
    qtbot.addWidget(panel)
    analysis = analyze(builder.graph)
    panel.show_analysis(analysis)
    assert panel.tree.topLevelItemCount() == len(analysis.diagnostics)
    severities = [d.is_error for d in panel.diagnostics]
    assert severities == sorted(severities, reverse=True)
    errors = sum(severities)
    assert panel.summary.text().startswith(f"{errors} error")


def test_code_highlighter_marks_keywords(qtbot):
    panel = CodePanel()
    qtbot.addWidget(panel)
    assert isinstance(panel.highlighter, PythonHighlighter)
    panel.show_result(PreviewResult(1, summary=None, code="def forward(self, x):\n    return x\n"))
    block = panel.text_document.firstBlock()
    formats = block.layout().formats()
    assert any(f.start == 0 and f.length == 3 for f in formats)  # 'def'
    assert panel.editor.isReadOnly()


def test_summary_panel_reports_a_compile_failure(qtbot):
    panel = SummaryPanel()
    qtbot.addWidget(panel)
    panel.show_result(PreviewResult(1, error="RuntimeError: plugin build failed"))
    assert "plugin build failed" in panel.note.text()


def test_code_view_drops_fx_memory_releases():
    code = ("\n\ndef forward(self, x):\n    a = self.a(x);  x = None\n"
            "    b = f(a, c);  a = None;  c = None\n    return b\n")
    assert readable(code) == "def forward(self, x):\n    a = self.a(x)\n    b = f(a, c)\n    return b\n"
