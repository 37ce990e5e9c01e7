"""A main window with the training tools installed, on a small, fast project."""

from __future__ import annotations

import pytest

from tests.ui.training.app_helpers import TrainingApp, make_project


@pytest.fixture
def training_app(qtbot, tmp_path):
    apps = []

    def make(project=None) -> TrainingApp:
        app = TrainingApp(qtbot, tmp_path, project if project is not None else make_project())
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()
