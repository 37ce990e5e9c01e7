"""The Code tab shows the whole module, constructors included, from the same core function as `nnstudio code`."""

from __future__ import annotations

from nnstudio.compile import build_module
from nnstudio.io.export.python_model import code_listing
from nnstudio.ui.docks.code import readable
from nnstudio.ui.docks.preview import snapshot
from tests.io.export.test_module_source import run_listing

COMPILE_TIMEOUT_MS = 60_000  # the first compile imports torch on the worker thread


def test_the_code_tab_shows_init_and_forward_and_runs(window, qtbot) -> None:
    with qtbot.waitSignal(window.preview.ready, timeout=COMPILE_TIMEOUT_MS):
        window.preview.refresh_now()
    shown = window.code.code()
    project = snapshot(window.document.project)
    compiled = build_module(project)
    assert shown == readable(code_listing(project, compiled))
    assert "    def __init__(self) -> None:" in shown and "        self.fc1 = nn.Linear(" in shown
    assert "import torch" in shown and "def forward(self, points):" in shown
    run_listing(shown, project, compiled)


def test_class_names_and_docstrings_over_several_lines_are_highlighted(qtbot) -> None:
    from nnstudio.ui.docks import PreviewResult
    from nnstudio.ui.docks.code import CodePanel

    panel = CodePanel()
    qtbot.addWidget(panel)
    code = 'class Net(nn.Module):\n    """One\n    two\n    three"""\n    x = 1\n'
    panel.show_result(PreviewResult(1, summary=None, code=code))
    blocks = []
    block = panel.text_document.firstBlock()
    while block.isValid():
        blocks.append(block)
        block = block.next()
    green = panel.highlighter.RULES[5][1].foreground().color()

    def coloured(index: int) -> list[tuple[int, int]]:
        return [(f.start, f.length) for f in blocks[index].layout().formats() if f.format.foreground().color() == green]

    first = blocks[0].layout().formats()
    assert any(f.start == 6 and f.length == 3 for f in first)  # the class name 'Net'
    assert coloured(1) == [(4, 6)] and coloured(2) == [(0, 7)] and coloured(3) == [(0, 12)]
    assert coloured(4) == []
