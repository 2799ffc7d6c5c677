"""SyncService and AnnotationSession against a real server through the ApiWorker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from relay_desktop.core.annotations import Region, new_local_id
from relay_desktop.core.journal import Journal
from relay_desktop.services.annotation_session import AnnotationSession
from relay_desktop.services.api_worker import ApiWorker
from relay_desktop.services.sync import SyncService
from tests.api.test_sync import Workspace, server_regions
from tests.support.live_server import LiveServer


@pytest.fixture
def sync(relay_server: LiveServer, tmp_path: Path, qtbot: QtBot) -> Iterator[SyncService]:
    worker = ApiWorker(relay_server.base_url, relay_server.api_key)
    service = SyncService(worker, Journal(tmp_path / "journal.sqlite3"), coalesce_ms=50,
                          backoff_s=(0.2, 0.5))
    yield service
    service.close()
    worker.shutdown(5000)
    service.journal.close()


def open_session(sync: SyncService, ws: Workspace, qtbot: QtBot,
                 set_id: str | None = None) -> AnnotationSession:
    session = AnnotationSession(sync, ws.dataset_id, set_id or ws.set_id)
    with qtbot.waitSignal(session.loaded, timeout=10_000):
        session.open()
    return session


def test_edits_are_saved_then_synced_and_undo_syncs_too(sync: SyncService, ws: Workspace,
                                                         qtbot: QtBot) -> None:
    session = open_session(sync, ws, qtbot)
    assert session.document.type_names() == ["click", "pause"]
    kinds: list[str] = []
    session.state_changed.connect(lambda s: kinds.append(s.kind))
    a, b = new_local_id(), new_local_id()
    assert session.add([Region(a, ws.audio_ids[0], "click", 100, 200)])
    assert session.add([Region(b, ws.audio_ids[1], "pause", 0, 900)])
    for end in range(210, 300, 10):
        session.edit(a, "resize", end_ms=end)
    qtbot.waitUntil(lambda: session.state.kind == "saved", timeout=10_000)
    assert kinds[0] == "saving" and "syncing" in kinds and kinds[-1] == "saved"
    assert server_regions(ws) == sorted([(a, "click", 100, 290), (b, "pause", 0, 900)])
    session.undo_stack.undo()   # the last resize
    session.undo_stack.undo()
    qtbot.waitUntil(lambda: session.state.kind == "saved" and
                    (a, "click", 100, 270) in server_regions(ws), timeout=10_000)
    for _ in range(session.undo_stack.index()):
        session.undo_stack.undo()
    qtbot.waitUntil(lambda: session.state.kind == "saved" and server_regions(ws) == [],
                    timeout=10_000)
    while session.undo_stack.canRedo():
        session.undo_stack.redo()
    qtbot.waitUntil(lambda: session.state.kind == "saved" and
                    server_regions(ws) == sorted([(a, "click", 100, 290), (b, "pause", 0, 900)]),
                    timeout=10_000)


def test_invalid_edits_are_refused_before_they_happen(sync: SyncService, ws: Workspace,
                                                      qtbot: QtBot) -> None:
    session = open_session(sync, ws, qtbot)
    messages: list[str] = []
    session.rejected_edit.connect(messages.append)
    assert not session.add([Region("z", ws.audio_ids[0], "hum", 10, 10)])
    assert len(session.document) == 0 and session.undo_stack.count() == 0
    assert "not one of the dataset's artifact types" in messages[0]
    assert "zero-length" in messages[0]


def test_reopening_shows_the_journal_and_the_server(sync: SyncService, ws: Workspace,
                                                     qtbot: QtBot) -> None:
    ws.client.annotations.create(ws.dataset_id, ws.set_id, {
        "audio_file_id": ws.audio_ids[0], "artifact_type": "click", "start_ms": 5,
        "end_ms": 50})
    session = open_session(sync, ws, qtbot)
    assert [(r.start_ms, r.end_ms) for r in session.document] == [(5, 50)]
    rid = next(iter(session.document)).local_id
    session.edit(rid, "move", start_ms=15, end_ms=60)
    qtbot.waitUntil(lambda: session.state.kind == "saved", timeout=10_000)
    again = open_session(sync, ws, qtbot)
    assert [(r.local_id, r.start_ms, r.end_ms) for r in again.document] == [(rid, 15, 60)]
    assert [(r[2], r[3]) for r in server_regions(ws)] == [(15, 60)]


def test_publish_locks_the_set(sync: SyncService, ws: Workspace, qtbot: QtBot) -> None:
    session = open_session(sync, ws, qtbot)
    session.add([Region("p1", ws.audio_ids[0], "click", 0, 10)])
    session.set_reviewed(ws.audio_ids[1])
    report = session.prepublish()
    assert report.reviewed_files[0].audio_file_id == ws.audio_ids[1]
    with qtbot.waitSignal(session.published, timeout=10_000):
        session.publish()
    assert session.read_only
    detail = ws.client.annotation_sets.get(ws.dataset_id, ws.set_id)
    assert detail.status == "published" and len(detail.annotations) == 1
    messages: list[str] = []
    session.rejected_edit.connect(messages.append)
    assert not session.add([Region("p2", ws.audio_ids[0], "click", 20, 30)])
    assert "read-only" in messages[0]
    reopened = open_session(sync, ws, qtbot)
    assert reopened.read_only and reopened.state.kind == "read_only"


def test_conflict_is_explained_and_edits_move_to_a_new_draft(sync: SyncService, ws: Workspace,
                                                             qtbot: QtBot) -> None:
    session = open_session(sync, ws, qtbot)
    session.add([Region("c1", ws.audio_ids[0], "click", 0, 10)])
    qtbot.waitUntil(lambda: session.state.kind == "saved", timeout=10_000)
    ws.client.annotation_sets.publish(ws.dataset_id, ws.set_id)
    with qtbot.waitSignal(sync.conflict, timeout=10_000) as blocker:
        session.add([Region("c2", ws.audio_ids[0], "pause", 20, 30)])
    assert "published" in blocker.args[1] and "new draft" in blocker.args[1]
    assert session.state.kind == "conflict" and session.state.pending == 1
    with qtbot.waitSignal(session.moved, timeout=10_000) as moved:
        sync.move_to_new_draft(ws.set_id)
    new_id = moved.args[0].id
    assert session.set_id == new_id
    qtbot.waitUntil(lambda: sync.state(new_id).kind == "saved", timeout=10_000)
    assert [r[0] for r in server_regions(ws, new_id)] == ["c1", "c2"]


def test_opening_a_set_published_elsewhere_with_local_edits(sync: SyncService, ws: Workspace,
                                                            qtbot: QtBot) -> None:
    session = open_session(sync, ws, qtbot)
    session.add([Region("k1", ws.audio_ids[0], "click", 0, 10)])
    qtbot.waitUntil(lambda: session.state.kind == "saved", timeout=10_000)
    sync.journal.record(ws.set_id, [("k2", Region("k2", ws.audio_ids[0], "pause", 50, 80))])
    ws.client.annotation_sets.publish(ws.dataset_id, ws.set_id)
    session.close()
    reopened = AnnotationSession(sync, ws.dataset_id, ws.set_id)
    with qtbot.waitSignal(reopened.loaded, timeout=10_000):
        reopened.open()
    assert reopened.read_only
    qtbot.waitUntil(lambda: reopened.state.kind == "conflict", timeout=10_000)
    with qtbot.waitSignal(reopened.loaded, timeout=10_000):
        sync.move_to_new_draft(ws.set_id)
    assert not reopened.read_only and reopened.set_id != ws.set_id
    assert sorted(r.local_id for r in reopened.document) == ["k1", "k2"]
    qtbot.waitUntil(lambda: reopened.state.kind == "saved", timeout=10_000)
    assert [r[0] for r in server_regions(ws, reopened.set_id)] == ["k1", "k2"]
    reopened.close()


def test_a_steady_stream_of_edits_reaches_the_server_while_it_goes_on(
        relay_server: LiveServer, ws: Workspace, tmp_path: Path, qtbot: QtBot) -> None:
    """The coalescing window runs from the first edit: a person editing more often
    than the window sees edits arrive during the stream, not only after a pause."""
    worker = ApiWorker(relay_server.base_url, relay_server.api_key)
    service = SyncService(worker, Journal(tmp_path / "stream.sqlite3"), coalesce_ms=300,
                          backoff_s=(0.2, 0.5))
    try:
        session = open_session(service, ws, qtbot)
        a = new_local_id()
        assert session.add([Region(a, ws.audio_ids[0], "click", 100, 200)])
        seen_during_stream = False
        for step in range(1, 16):   # an edit every 100 ms for 1.5 s: never a 300 ms pause
            qtbot.wait(100)
            session.edit(a, "resize", end_ms=200 + step)
            seen_during_stream = seen_during_stream or bool(server_regions(ws))
        assert seen_during_stream, "no edit reached the server while the edits went on"
        qtbot.waitUntil(lambda: server_regions(ws) == [(a, "click", 100, 215)],
                        timeout=10_000)
    finally:
        service.close()
        worker.shutdown(5000)
        service.journal.close()
