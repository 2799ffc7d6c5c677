"""SyncService: a region the server refuses shows as a sync error until it is edited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from relay_desktop.core.annotations import Region, new_local_id
from relay_desktop.core.journal import Journal
from relay_desktop.services.api_worker import ApiWorker
from relay_desktop.services.sync import SyncService
from tests.api.test_sync import Workspace, server_regions
from tests.support.live_server import LiveServer


@pytest.fixture
def sync(relay_server: LiveServer, tmp_path: Path) -> Iterator[SyncService]:
    worker = ApiWorker(relay_server.base_url, relay_server.api_key)
    service = SyncService(worker, Journal(tmp_path / "journal.sqlite3"), coalesce_ms=20,
                          backoff_s=(0.2,))
    yield service
    service.close()
    worker.shutdown(5000)
    service.journal.close()


def test_a_refused_region_is_an_error_until_edited_then_it_syncs(
        sync: SyncService, ws: Workspace, qtbot: QtBot) -> None:
    """The refusal read on the API thread after a pass reaches the state; fixing it clears it."""
    sync.watch(ws.set_id, ws.dataset_id)
    local_id = new_local_id()
    bad = Region(local_id, ws.audio_ids[0], "no-such-type", 0, 100)
    sync.record(ws.set_id, [(local_id, bad)])
    qtbot.waitUntil(lambda: sync.state(ws.set_id).kind == "error", timeout=10_000)
    state = sync.state(ws.set_id)
    assert list(state.rejected) == [local_id] and state.pending == 1
    assert "refused" in state.message
    sync.record(ws.set_id, [(local_id, bad.with_fields(artifact_type="click"))])
    qtbot.waitUntil(lambda: sync.state(ws.set_id).kind == "saved", timeout=10_000)
    assert server_regions(ws) == [(local_id, "click", 0, 100)]
    assert sync.state(ws.set_id).rejected == {}
