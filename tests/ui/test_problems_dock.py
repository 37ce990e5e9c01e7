"""Issue 13: the Problems dock wraps a long problem and carries its whole text as a tooltip."""

from __future__ import annotations

from nnstudio.analysis.diagnostics import error
from nnstudio.ui.docks import ProblemsPanel
from nnstudio.ui.problem_list import ProblemList


def test_problem_rows_wrap_and_carry_their_whole_text(qtbot):
    model = ProblemList()
    panel = ProblemsPanel(model=model)
    qtbot.addWidget(panel)
    panel.resize(260, 300)
    panel.show()
    long = "node 'fc1' (Linear): " + "the input has 7 features but in_features is 9; " * 4
    model.set_graph([error("shape-mismatch", long, node_id="n1"), error("cycle", "a cycle")])
    assert model.summary_text() == panel.summary.text() == "2 errors"
    long_item, short_item = panel.tree.topLevelItem(0), panel.tree.topLevelItem(1)
    assert long_item.toolTip(0) == long and long_item.toolTip(1) == long
    assert panel.tree.wordWrap()
    long_rect = panel.tree.visualItemRect(long_item)
    short_rect = panel.tree.visualItemRect(short_item)
    assert long_rect.height() > 2 * short_rect.height()  # wrapped onto several lines, not cut off
