"""The persisted upload queue: rows and tickets survive a reopen; commits are whole."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from relay_desktop.api.batch_upload.rows import UploadRow, UploadState, UploadTarget
from relay_desktop.api.batch_upload.store import QueueStore, StoredTicket, upload_state_path
from relay_desktop.core.paths import AppPaths
from relay_desktop.core.uploads.store import queue_path


def row(name: str, state: UploadState = UploadState.WAITING, **kw: object) -> UploadRow:
    return UploadRow(id=f"id-{name}", path=Path("/music") / name,
                     target=UploadTarget("dataset", "ds-1", "Voices"), size=1234, state=state,
                     **kw)  # type: ignore[arg-type]


def test_rows_and_tickets_survive_a_reopen_in_queue_order(tmp_path: Path) -> None:
    store = QueueStore(tmp_path / "q.sqlite3")
    ticket = StoredTicket("http://h/storage", {"key": "k", "policy": "p"}, 1e10, 5.0)
    store.save([row("b.wav"), row("a.wav", UploadState.UPLOADING, remote_id="r1",
                                  content_type="audio/wav", sha256="ab" * 32)],
               {"id-a.wav": ticket})
    store.save([row("b.wav", UploadState.SKIPPED, reason="The file is empty.")])
    store.close()
    loaded = QueueStore(tmp_path / "q.sqlite3").load()
    assert [r.path.name for r, _ in loaded] == ["b.wav", "a.wav"]
    (b, b_ticket), (a, a_ticket) = loaded
    assert b.state is UploadState.SKIPPED and b.reason == "The file is empty."
    assert b_ticket is None
    assert a.remote_id == "r1" and a.target == UploadTarget("dataset", "ds-1", "Voices")
    assert a_ticket == ticket and a_ticket.usable
    assert not StoredTicket.intent(3.0).usable


def test_clearing_a_ticket_and_deleting_rows(tmp_path: Path) -> None:
    store = QueueStore(tmp_path / "q.sqlite3")
    store.save([row("a.wav")], {"id-a.wav": StoredTicket("u", {}, 1.0)})
    store.save([row("a.wav", UploadState.PROCESSING)], {"id-a.wav": None})
    assert store.load()[0][1] is None
    store.delete(["id-a.wav"])
    assert store.load() == []


def test_unknown_states_and_broken_tickets_are_skipped_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite3"
    QueueStore(path).save([row("a.wav"), row("b.wav")])
    with sqlite3.connect(str(path)) as db:
        db.execute("UPDATE uploads SET state='exploded' WHERE id='id-a.wav'")
        db.execute("UPDATE uploads SET ticket='{not json' WHERE id='id-b.wav'")
    [(only, ticket)] = QueueStore(path).load()
    assert only.path.name == "b.wav" and ticket is None


def test_each_connection_and_server_has_its_own_queue_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = AppPaths(tmp_path / "d", tmp_path / "c", tmp_path / "cfg")
    assert queue_path(paths, "local") == tmp_path / "d" / "uploads" / "local.sqlite3"
    a = queue_path(paths, "", "http://a:1")
    assert a != queue_path(paths, "", "http://b:1") and a.parent == tmp_path / "d" / "uploads"
    assert queue_path(paths, "../../x").parent == tmp_path / "d" / "uploads"
    monkeypatch.setenv("RELAY_DESKTOP_HOME", str(tmp_path / "home"))
    cli = upload_state_path("http://a:1/")
    assert cli.parent == tmp_path / "home" / "data" / "uploads"
    assert cli == upload_state_path("http://a:1") != upload_state_path("http://b:1")
