"""The "Train model…" dialog against a live Relay Local: pre-flight, refusal, the sets menu.

Small datasets are made with rows inserted straight into the server's database
(ready files with durations, or files still pending), so each precondition can
fail on its own without uploading minutes of audio.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from relay_desktop.api import RelayClient
from relay_desktop.api.errors import ValidationFailed
from relay_desktop.api.models import AnnotationSet
from relay_desktop.core.training.preflight import (
    ENOUGH_AUDIO,
    FILES_READY,
    PUBLISHED,
    TYPES_LABELLED,
)
from relay_desktop.services.context import AppContext
from relay_desktop.ui.annotations.sets_panel import SetsPanel
from relay_desktop.ui.training import TrainingDialog, server_checks
from tests.gui.conftest import unique
from tests.support.live_server import LiveServer

TYPES = ("click", "glitch")
ENOUGH_ROWS = 150   # insert_audio_rows' durations (1000 + 17 i ms) add up to 5 min 40 s


def make_set(client: RelayClient, server: LiveServer, bulk_audio: Callable[..., None], *,
             ready: int, pending: int = 0, publish: bool = True,
             labelled: Sequence[str] = TYPES) -> AnnotationSet:
    """A dataset of ``ready`` + ``pending`` inserted files and a set labelling ``labelled``."""
    dataset = client.datasets.create(unique("train-dialog"),
                                     artifact_types=[{"name": t} for t in TYPES])
    bulk_audio(server, dataset.id, ready)
    if pending:
        bulk_audio(server, dataset.id, pending, ("pending",))
    audio = next(iter(client.audio.iter_items(dataset.id, processing_status="ready")))
    draft = client.annotation_sets.create(dataset.id)
    if labelled:
        client.annotations.bulk_create(dataset.id, draft.id, [
            {"audio_file_id": audio.id, "artifact_type": t, "start_ms": 100 * i,
             "end_ms": 100 * i + 50} for i, t in enumerate(labelled)])
    if publish:
        client.annotation_sets.publish(dataset.id, draft.id)
    return next(s for s in client.annotation_sets.iter_items(dataset.id) if s.id == draft.id)


def open_dialog(qtbot: Any, context: AppContext, annotation_set: AnnotationSet
                ) -> TrainingDialog:
    dialog = TrainingDialog(context, annotation_set)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.data_loaded, timeout=15000):
        dialog.show()
    return dialog


def results(dialog: TrainingDialog) -> dict[str, bool]:
    return {c.key: c.passed for c in dialog.checks()}


def test_a_draft_set_fails_the_published_check(qtbot: Any, app_context: AppContext,
                                               live_client: RelayClient,
                                               relay_server: LiveServer,
                                               bulk_audio: Callable[..., None]) -> None:
    draft = make_set(live_client, relay_server, bulk_audio, ready=ENOUGH_ROWS, publish=False)
    dialog = open_dialog(qtbot, app_context, draft)
    assert results(dialog) == {PUBLISHED: False, FILES_READY: True, ENOUGH_AUDIO: True,
                               TYPES_LABELLED: True}
    failed = dialog.checks()[0]
    assert "Publish" in failed.fix
    assert not dialog.train_button.isEnabled()
    shown = dialog.checks_list.topLevelItem(0)
    assert shown is not None and shown.text(2) == failed.fix


def test_files_not_ready_and_too_little_audio_each_fail(qtbot: Any, app_context: AppContext,
                                                        live_client: RelayClient,
                                                        relay_server: LiveServer,
                                                        bulk_audio: Callable[..., None]
                                                        ) -> None:
    small = make_set(live_client, relay_server, bulk_audio, ready=3, pending=2)
    dialog = open_dialog(qtbot, app_context, small)
    assert results(dialog) == {PUBLISHED: True, FILES_READY: False, ENOUGH_AUDIO: False,
                               TYPES_LABELLED: True}
    checks = {c.key: c for c in dialog.checks()}
    assert "2 of 5" in checks[FILES_READY].detail and "(pending)" in checks[FILES_READY].detail
    assert "Upload" in checks[ENOUGH_AUDIO].fix
    assert not dialog.train_button.isEnabled()
    assert "small dataset" in dialog.advice.text()   # seconds of audio: the guide's small band


def test_a_type_without_annotations_fails_until_unticked(qtbot: Any, app_context: AppContext,
                                                         live_client: RelayClient,
                                                         relay_server: LiveServer,
                                                         bulk_audio: Callable[..., None]
                                                         ) -> None:
    only_clicks = make_set(live_client, relay_server, bulk_audio, ready=ENOUGH_ROWS,
                           labelled=("click",))
    dialog = open_dialog(qtbot, app_context, only_clicks)
    assert sorted(dialog.type_boxes) == sorted(TYPES) and dialog.all_types.isChecked()
    assert results(dialog)[TYPES_LABELLED] is False
    assert "glitch" in dialog.checks()[3].fix
    assert not dialog.train_button.isEnabled()
    dialog.type_boxes["glitch"].setChecked(False)
    assert not dialog.all_types.isChecked()
    assert all(results(dialog).values())
    assert dialog.train_button.isEnabled()


def test_form_enforces_ranges_and_defaults(qtbot: Any, app_context: AppContext,
                                           live_client: RelayClient, relay_server: LiveServer,
                                           bulk_audio: Callable[..., None]) -> None:
    ok = make_set(live_client, relay_server, bulk_audio, ready=ENOUGH_ROWS)
    dialog = open_dialog(qtbot, app_context, ok)
    assert dialog.config().to_json() == {
        "artifact_types": list(TYPES), "epochs": 20, "validation_split": 0.2,
        "learning_rate": 0.001, "batch_size": 32, "chunk_size_ms": 500, "stride_ms": 250}
    dialog.set_value("epochs", 500)
    dialog.set_value("batch_size", 2)
    dialog.set_value("validation_split", 0.9)
    assert (dialog.spins["epochs"].value(), dialog.spins["batch_size"].value(),
            dialog.spins["validation_split"].value()) == (100, 8, 0.5)
    dialog.set_value("chunk_size_ms", 200)
    assert dialog.spins["stride_ms"].value() == 200   # never longer than a chunk
    dialog.apply_advice()
    assert dialog.spins["validation_split"].value() == 0.3   # 5.7 min: a small dataset
    dialog.reset_defaults()
    assert dialog.config().epochs == 20 and dialog.config().stride_ms == 250
    assert dialog.train_button.isEnabled()


def test_the_servers_refusal_is_shown_in_the_list(qtbot: Any, app_context: AppContext,
                                                  live_client: RelayClient,
                                                  relay_server: LiveServer,
                                                  bulk_audio: Callable[..., None]) -> None:
    ok = make_set(live_client, relay_server, bulk_audio, ready=ENOUGH_ROWS)
    dialog = open_dialog(qtbot, app_context, ok)
    assert all(results(dialog).values()) and dialog.train_button.isEnabled()
    # meanwhile a new file arrives that is not processed yet: the server refuses
    bulk_audio(relay_server, ok.dataset_id, 1, ("pending",))
    created: list[Any] = []
    dialog.job_created.connect(created.append)
    with qtbot.waitSignal(dialog.refused, timeout=15000) as refused:
        dialog.train_button.click()
    server = refused.args[0]
    assert [c.key for c in server] == [FILES_READY]
    assert "not ready" in server[0].fix and "(pending)" in server[0].fix
    shown = [dialog.checks_list.topLevelItem(i) for i in range(
        dialog.checks_list.topLevelItemCount())]
    assert any(item is not None and item.text(2) == server[0].fix for item in shown)
    assert not dialog.train_button.isEnabled() and not created
    with qtbot.waitSignal(dialog.data_loaded, timeout=15000):
        dialog.recheck_button.click()
    assert results(dialog)[FILES_READY] is False   # the recheck sees it too
    assert [j for j in live_client.training_jobs.iter_items(dataset_id=ok.dataset_id)] == []


def test_a_field_refusal_becomes_a_check_naming_the_field(live_client: RelayClient,
                                                        relay_server: LiveServer,
                                                        bulk_audio: Callable[..., None]
                                                        ) -> None:
    ok = make_set(live_client, relay_server, bulk_audio, ready=2)
    with pytest.raises(ValidationFailed) as out_of_range:
        live_client.training_jobs.create(ok.dataset_id, ok.id, {
            "artifact_types": ["click"], "epochs": 0})
    checks = server_checks(out_of_range.value)
    assert [(c.detail, c.passed) for c in checks] == [("config.epochs was refused.", False)]
    with pytest.raises(ValidationFailed) as unknown:
        live_client.training_jobs.create(ok.dataset_id, ok.id, {
            "artifact_types": ["click", "zap"]})
    checks = server_checks(unknown.value)
    assert [c.detail for c in checks] == ["config.artifact_types.1 was refused."]
    assert "zap" in checks[0].fix and "click" in checks[0].fix


def test_sets_panel_offers_train_model_for_published_sets(qtbot: Any, app_context: AppContext,
                                                          live_client: RelayClient,
                                                          relay_server: LiveServer,
                                                          bulk_audio: Callable[..., None]
                                                          ) -> None:
    published = make_set(live_client, relay_server, bulk_audio, ready=2)
    draft = live_client.annotation_sets.create(published.dataset_id)
    panel = SetsPanel(app_context.worker)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.sets_loaded, timeout=15000):
        panel.set_dataset(published.dataset_id)
    panel.select_set(draft.id)
    assert not panel.train_action.isEnabled()
    menu = panel.context_menu()
    assert panel.train_action in menu.actions()
    panel.select_set(published.id)
    assert panel.train_action.isEnabled()
    with qtbot.waitSignal(panel.train_requested, timeout=1000) as requested:
        panel.train_action.trigger()
    assert requested.args[0].id == published.id


def test_opened_without_a_set_offers_the_published_ones(qtbot: Any, app_context: AppContext,
                                                        live_client: RelayClient,
                                                        relay_server: LiveServer,
                                                        bulk_audio: Callable[..., None]
                                                        ) -> None:
    published = make_set(live_client, relay_server, bulk_audio, ready=2)
    dialog = TrainingDialog(app_context)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.set_combo.count() > 0, timeout=15000)
    index = next(i for i in range(dialog.set_combo.count())
                 if dialog.set_combo.itemData(i)[1] == published.id)
    with qtbot.waitSignal(dialog.data_loaded, timeout=15000):
        dialog.set_combo.setCurrentIndex(index)
    qtbot.waitUntil(lambda: dialog.data is not None
                    and dialog.data.annotation_set.id == published.id, timeout=15000)
    assert results(dialog)[ENOUGH_AUDIO] is False
