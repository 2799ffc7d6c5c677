"""The SQLite journal: durable edits, per-set pending state, reconciliation, moving sets."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from relay_desktop.core.annotations import Region
from relay_desktop.core.journal import Journal, ServerAnnotation


def reg(local_id: str, start: int = 0, end: int = 100, t: str = "click") -> Region:
    return Region(local_id, "audio-1", t, start, end)


def server(sid: str, client_id: str | None, region: Region) -> ServerAnnotation:
    return ServerAnnotation(sid, client_id, region.fields())


def test_settings_are_wal_and_full_sync(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite3")
    mode = j._db.execute("PRAGMA journal_mode").fetchone()[0]
    sync = j._db.execute("PRAGMA synchronous").fetchone()[0]
    assert (mode, sync) == ("wal", 2)
    j.close()


def test_edits_survive_reopening_and_coalesce(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    j = Journal(path)
    j.ensure_set("S", "D", "http://x")
    assert j.record("S", [("a", reg("a"))]) == 1
    for end in range(101, 111):
        j.record("S", [("a", reg("a", 0, end))])
    j.record("S", [("b", reg("b")), ("b", None)])
    j.close()
    j = Journal(path)
    assert [r.end_ms for r in j.local_regions("S")] == [110]
    plan = j.plan("S")
    assert [op.payload["end_ms"] for op in plan.creates] == [110]
    assert [op.local_id for op in plan.forgets] == ["b"]
    assert [(p.set_id, p.dataset_id, p.pending) for p in j.pending_sets()] == [("S", "D", 2)]


def test_created_then_edited_becomes_a_patch(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite3")
    j.ensure_set("S", "D")
    j.record("S", [("a", reg("a"))])
    op = j.plan("S").creates[0]
    j.mark_inflight("S", [(op.local_id, op.rev)])
    j.record("S", [("a", reg("a", 0, 300))])  # edited while the create was in flight
    j.record_created("S", [("a", op.rev, server("A1", "a", reg("a")))])
    plan = j.plan("S")
    assert plan.creates == [] and [(u.server_id, u.payload) for u in plan.updates] == \
        [("A1", {"end_ms": 300})]
    j.record_updated("S", "a", plan.updates[0].rev, reg("a", 0, 300).fields())
    assert j.pending_count("S") == 0
    j.record("S", [("a", None)])
    assert [d.server_id for d in j.plan("S").deletes] == ["A1"]


def test_lost_create_response_is_reconciled_not_resent(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite3")
    j.ensure_set("S", "D")
    j.record("S", [("a", reg("a")), ("b", reg("b"))])
    j.mark_inflight("S", [(op.local_id, op.rev) for op in j.plan("S").creates])
    assert j.has_inflight("S")
    # the server created "a" but the answer was lost; "b" never arrived
    found = j.reconcile_inflight("S", [server("A1", "a", reg("a"))])
    assert found == 1 and not j.has_inflight("S")
    assert [op.local_id for op in j.plan("S").creates] == ["b"]
    assert j.server_id_of("S", "a") == "A1"


def test_merge_server_state_keeps_local_edits(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite3")
    regions = j.merge_server("S", "D", [server("X1", None, reg("tmp", 0, 10)),
                                        server("Y1", "y", reg("y", 5, 50))])
    assert sorted(r.local_id for r in regions) == ["srv-X1", "y"]
    assert j.pending_count("S") == 0
    j.record("S", [("y", reg("y", 5, 60))])
    # reopening: the server still has the old y; the local edit wins; X1 deleted elsewhere
    regions = j.merge_server("S", "D", [server("Y1", "y", reg("y", 5, 50))])
    assert [(r.local_id, r.end_ms) for r in regions] == [("y", 60)]
    assert [(u.server_id, u.payload) for u in j.plan("S").updates] == [("Y1", {"end_ms": 60})]


def test_move_to_new_set_turns_everything_into_creates(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite3")
    j.merge_server("OLD", "D", [server("Y1", "y", reg("y"))])
    j.record("OLD", [("z", reg("z", 10, 20))])
    j.set_reviewed("OLD", "audio-9")
    j.set_conflict("OLD", "published elsewhere")
    assert j.conflict("OLD") == "published elsewhere"
    assert j.move_to_set("OLD", "NEW", "D") == 2
    assert sorted(op.local_id for op in j.plan("NEW").creates) == ["y", "z"]
    assert j.local_regions("OLD") == []
    assert j.reviewed("NEW") == {"audio-9"}
    assert [p.set_id for p in j.pending_sets()] == ["NEW"]


def test_rejected_revision_is_not_retried_until_edited(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite3")
    j.ensure_set("S", "D")
    j.record("S", [("a", reg("a", 0, 100, "hum"))])
    op = j.plan("S").creates[0]
    j.record_rejected("S", "a", op.rev, "unknown type hum")
    assert len(j.plan("S")) == 0
    assert j.rejected("S") == {"a": "unknown type hum"}
    j.record("S", [("a", reg("a", 0, 100, "click"))])
    assert len(j.plan("S").creates) == 1 and j.rejected("S") == {}


def test_a_corrupt_journal_gives_a_clear_error(tmp_path: Path) -> None:
    import pytest

    from relay_desktop.core.journal import JournalError

    path = tmp_path / "j.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(JournalError, match="cannot be opened"):
        Journal(path)
    assert path.read_bytes().startswith(b"this is not")  # nothing overwritten


def test_journal_is_readable_by_plain_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    j = Journal(path)
    j.ensure_set("S", "D")
    j.record("S", [("a", reg("a"))])
    other = sqlite3.connect(path)
    assert other.execute("SELECT COUNT(*) FROM regions").fetchone()[0] == 1
    other.close()
    j.close()
