"""The Models view against a real Relay Local: a model trained by a real training job,
its figures equal to its ``eval_metrics``, its lineage (job, dataset name, set version),
the "Active only" filter and "Run inference…"."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from PySide6.QtCore import Qt
from sqlalchemy import create_engine, update

from relay_desktop.api import RelayClient
from relay_desktop.api.models import Model
from relay_desktop.services.context import AppContext
from relay_desktop.ui.models import ModelsPanel
from relay_desktop.ui.models.details import VALUE_ROLE
from relay_desktop.ui.models.metrics import read_figures
from relay_desktop.ui.models.panel import ID_ROLE, NAME
from relay_server.db.models import Model as ModelRow
from tests.support.inference_model import install_model, server_database_url
from tests.support.live_server import LiveServer
from tests.support.trainable import DEMO_TYPES, Trainable, trainable_dataset, wait_for_job


@pytest.fixture(scope="module")
def trained(relay_server: LiveServer) -> tuple[Trainable, dict[str, Any]]:
    """A model made by a real training job on the published demo set (a short run)."""
    data = trainable_dataset(relay_server.base_url, relay_server.api_key)
    with requests.Session() as s:
        s.headers["X-API-Key"] = relay_server.api_key
        r = s.post(f"{relay_server.base_url}/api/v1/training-jobs", timeout=30, json={
            "dataset_id": data.dataset_id, "annotation_set_id": data.annotation_set_id,
            "config": {"epochs": 2, "artifact_types": list(DEMO_TYPES)}})
        assert r.status_code == 201, r.text
        job = wait_for_job(s, relay_server.base_url, r.json()["id"])
    assert job["status"] == "completed", job
    return data, job


@pytest.fixture(scope="module")
def inactive_model(relay_server: LiveServer) -> str:
    """A model marked inactive in the server's database (no endpoint changes it)."""
    model_id = install_model(relay_server, relay_server.api_key, name="retired detector")
    engine = create_engine(server_database_url(relay_server))
    try:
        with engine.begin() as conn:
            conn.execute(update(ModelRow).where(ModelRow.id == uuid.UUID(model_id))
                         .values(is_active=False))
    finally:
        engine.dispose()
    return model_id


@pytest.fixture
def panel(qtbot: Any, app_context: AppContext) -> Iterator[ModelsPanel]:
    widget = ModelsPanel()
    qtbot.addWidget(widget)
    widget.resize(900, 800)
    widget.show()
    with qtbot.waitSignal(widget.models_loaded, timeout=15000):
        widget.set_context(app_context)
    yield widget
    widget.set_context(None)


def listed_ids(panel: ModelsPanel) -> list[str]:
    items = (panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount()))
    return [str(item.data(NAME, ID_ROLE)) for item in items if item is not None]


def test_figures_equal_eval_metrics_and_lineage_is_shown(
        qtbot: Any, panel: ModelsPanel, trained: tuple[Trainable, dict[str, Any]],
        live_client: RelayClient) -> None:
    data, job = trained
    model = live_client.models.get(job["model_id"])
    metrics = model.eval_metrics
    assert metrics["per_class"], "a trained model has per-type figures"
    panel.refresh()
    qtbot.waitUntil(lambda: model.id in panel.models, timeout=15000)
    with qtbot.waitSignal(panel.model_selected, timeout=15000):
        panel.select_model(model.id)
    details = panel.details
    assert details.model == model

    table = details.figure_table
    header = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert header[:5] == ["Type", "Precision", "Recall", "F1", "Support"]
    shown = {}
    for row in range(table.rowCount()):
        name = table.item(row, 0).text()
        shown[name] = {key: table.item(row, col).data(VALUE_ROLE)
                       for col, key in enumerate(("precision", "recall", "f1_score",
                                                  "support"), start=1)}
        assert table.item(row, 3).text() == f"{metrics['per_class'][name]['f1_score']:.3f}"
    assert shown == {name: {k: v[k] for k in ("precision", "recall", "f1_score", "support")}
                     for name, v in metrics["per_class"].items()}
    assert list(shown) == [t for t in model.artifact_types if t in shown]
    overall = details.overall.text()
    for key, label in (("precision", "Precision"), ("recall", "Recall"), ("f1_score", "F1")):
        assert f"{label} {metrics[key]:.3f}" in overall
    assert details.types.text() == ", ".join(model.artifact_types)

    # lineage, read through the worker: the job, the dataset by NAME and the set version
    qtbot.waitUntil(lambda: details.lineage is not None, timeout=15000)
    assert details.dataset.text() == data.dataset_name
    assert details.annotation_set.text() == f"v{data.set_version}"
    assert details.job.text().startswith(f"{job['id']} · completed")
    assert "2 epochs" in details.job.text()

    # the list row
    item = next(panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())
                if panel.tree.topLevelItem(i).data(NAME, ID_ROLE) == model.id)
    assert item.text(3) == f"{metrics['f1_score']:.3f}" and item.text(4) == "yes"

    # "Run inference…" hands the model on
    with qtbot.waitSignal(panel.inference_requested, timeout=2000) as sent:
        qtbot.mouseClick(details.run_button, Qt.MouseButton.LeftButton)
    assert sent.args == [model]


def test_active_only_filter_and_select_an_inactive_model(
        qtbot: Any, panel: ModelsPanel, inactive_model: str, live_client: RelayClient) -> None:
    with qtbot.waitSignal(panel.models_loaded, timeout=15000):
        panel.refresh()
    assert inactive_model in listed_ids(panel)
    with qtbot.waitSignal(panel.models_loaded, timeout=15000) as loaded:
        panel.active_only.setChecked(True)
    assert inactive_model not in listed_ids(panel)
    assert all(m.is_active for m in loaded.args[0])
    assert {m.id for m in loaded.args[0]} == {m.id for m in
                                              live_client.models.iter_items(is_active=True)}
    # selecting a model the filter hides lists every model again and shows it
    with qtbot.waitSignal(panel.model_selected, timeout=15000,
                          check_params_cb=lambda m: m is not None and m.id == inactive_model):
        panel.select_model(inactive_model)
    assert not panel.active_only.isChecked()
    assert panel.details.active.text() == "no"
    # a model installed without figures or lineage says so instead of inventing them
    assert panel.details.overall.text() == "This model has no evaluation figures."
    assert panel.details.figure_table.rowCount() == 0
    assert panel.details.dataset.text() == "unknown"


def test_baseline_and_extra_figures_are_shown_beside_the_model(qtbot: Any) -> None:
    """A server that adds a baseline and extra per-type numbers gets them shown."""
    from relay_desktop.ui.models.details import ModelDetails

    metrics = {"precision": 0.9, "recall": 0.8, "f1_score": 0.847, "tolerance_ms": 20,
               "per_class": {"click": {"precision": 0.95, "recall": 0.9, "f1_score": 0.924,
                                       "support": 12, "median_start_error_ms": 2.5},
                             "glitch": {"precision": 0.7, "recall": 0.6, "f1_score": 0.646,
                                        "support": 30}},
               "baseline": {"f1_score": 0.51, "per_class": {"click": {"f1_score": 0.47}}}}
    model = Model(id="m", name="with extras", description=None,
                  artifact_types=("glitch", "click"), training_job_id=None,
                  eval_metrics=metrics, is_active=True, created_at=None)
    details = ModelDetails()
    qtbot.addWidget(details)
    details.show_model(model)
    table = details.figure_table
    header = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert header == ["Type", "Precision", "Recall", "F1", "Support", "Baseline F1",
                      "Median start error (ms)"]
    assert [table.item(r, 0).text() for r in range(2)] == ["glitch", "click"]
    assert table.item(1, 5).data(VALUE_ROLE) == 0.47 and table.item(0, 5).text() == "—"
    assert table.item(1, 6).data(VALUE_ROLE) == 2.5
    assert "baseline F1 0.510" in details.overall.text()
    assert details.others.text() == "Tolerance (ms): 20"
    assert read_figures(metrics, model.artifact_types).baseline is not None
