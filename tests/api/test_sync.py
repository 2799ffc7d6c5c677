"""Pushing the journal to a live server: coalescing, lost responses, rejections, conflicts.

Also the shared set-up of the sync tests (a dataset with audio files and a draft)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from relay_desktop.api import RelayClient, errors
from relay_desktop.core.annotations import Region
from relay_desktop.core.annotations.push import SetLocked, push_set
from relay_desktop.core.journal import Journal
from tests.support.fault_server import FaultServer, Reply

TYPES = [{"name": "click", "color": "#ff0000"}, {"name": "pause", "color": "#00aa00"}]


@dataclass
class Workspace:
    client: RelayClient
    dataset_id: str
    set_id: str
    audio_ids: list[str]


def make_workspace(base_url: str, api_key: str, files: int = 2) -> Workspace:
    """A new dataset with ``files`` audio records (upload requested) and an empty draft."""
    client = RelayClient(base_url, api_key, timeout=(5.0, 30.0))
    ds = client.datasets.create(f"sync-{uuid.uuid4().hex[:8]}", artifact_types=TYPES)
    audio = [client.audio.request_upload(ds.id, f"f{i}.wav", "audio/wav", 1000).audio_id
             for i in range(files)]
    draft = client.annotation_sets.create(ds.id)
    return Workspace(client, ds.id, draft.id, audio)


def server_regions(ws: Workspace, set_id: str | None = None) -> list[tuple[str, str, int, int]]:
    detail = ws.client.annotation_sets.get(ws.dataset_id, set_id or ws.set_id)
    return sorted((str(a.extra_data.get("client_id")), a.artifact_type, a.start_ms, a.end_ms)
                  for a in detail.annotations)


# --------------------------------------------------------------------------- tests
def reg(ws: Workspace, local_id: str, start: int, end: int, t: str = "click",
        file: int = 0) -> Region:
    return Region(local_id, ws.audio_ids[file], t, start, end)


def test_push_coalesces_a_burst_of_edits_into_one_bulk_create(ws: Workspace,
                                                               tmp_path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    journal.ensure_set(ws.set_id, ws.dataset_id)
    for i in range(20):
        journal.record(ws.set_id, [(f"r{i}", reg(ws, f"r{i}", i * 100, i * 100 + 50))])
    for step in range(10):  # ten drags of one region
        journal.record(ws.set_id, [("r0", reg(ws, "r0", 0, 60 + step))])
    journal.record(ws.set_id, [("r1", None)])  # created and deleted before any sync
    result = push_set(ws.client, journal, ws.dataset_id, ws.set_id)
    assert (result.created, result.requests, result.remaining) == (19, 1, 0)
    on_server = server_regions(ws)
    assert len(on_server) == 19
    assert ("r0", "click", 0, 69) in on_server
    assert not any(r[0] == "r1" for r in on_server)
    # now edits of synced regions: patch and delete, each once
    journal.record(ws.set_id, [("r2", reg(ws, "r2", 200, 299, "pause"))])
    journal.record(ws.set_id, [("r2", reg(ws, "r2", 210, 299, "pause"))])
    journal.record(ws.set_id, [("r3", None)])
    result = push_set(ws.client, journal, ws.dataset_id, ws.set_id)
    assert (result.updated, result.deleted, result.requests) == (1, 1, 2)
    on_server = server_regions(ws)
    assert ("r2", "pause", 210, 299) in on_server and len(on_server) == 18
    assert journal.pending_count(ws.set_id) == 0
    assert push_set(ws.client, journal, ws.dataset_id, ws.set_id).requests == 0


def test_a_lost_bulk_response_is_reconciled_not_created_twice(ws: Workspace, relay_server,
                                                              tmp_path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    journal.ensure_set(ws.set_id, ws.dataset_id)
    journal.record(ws.set_id, [(f"x{i}", reg(ws, f"x{i}", i * 10, i * 10 + 5))
                               for i in range(5)])
    base = f"/api/v1/datasets/{ws.dataset_id}/annotation-sets/{ws.set_id}"
    with FaultServer() as proxy:
        up = relay_server.base_url
        proxy.script("POST", base + "/annotations/bulk",
                     [Reply(proxy=up, drop="after_read"), Reply(proxy=up)])
        proxy.proxy("GET", base, up)
        client = RelayClient(proxy.url, relay_server.api_key)
        with pytest.raises(errors.ApiConnectionError):
            push_set(client, journal, ws.dataset_id, ws.set_id)
        assert len(server_regions(ws)) == 5  # the server did create them
        assert journal.has_inflight(ws.set_id)
        result = push_set(client, journal, ws.dataset_id, ws.set_id)
        client.close()
    assert result.reconciled == 5 and result.created == 0
    assert proxy.count("POST", base + "/annotations/bulk") == 1
    assert [r[0] for r in server_regions(ws)] == [f"x{i}" for i in range(5)]
    assert journal.pending_count(ws.set_id) == 0


def test_invalid_region_is_rejected_alone_with_the_reason(ws: Workspace, tmp_path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    journal.ensure_set(ws.set_id, ws.dataset_id)
    journal.record(ws.set_id, [("good", reg(ws, "good", 0, 10)),
                               ("bad", reg(ws, "bad", 0, 10, "hum"))])
    result = push_set(ws.client, journal, ws.dataset_id, ws.set_id)
    assert result.created == 1 and set(result.rejected) == {"bad"}
    assert "hum" in result.rejected["bad"]
    assert [r[0] for r in server_regions(ws)] == ["good"]
    assert journal.rejected(ws.set_id).keys() == {"bad"}
    journal.record(ws.set_id, [("bad", reg(ws, "bad", 0, 10, "pause"))])  # fixed by the user
    push_set(ws.client, journal, ws.dataset_id, ws.set_id)
    assert sorted(r[0] for r in server_regions(ws)) == ["bad", "good"]


def test_published_elsewhere_keeps_edits_for_a_new_draft(ws: Workspace, tmp_path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    journal.ensure_set(ws.set_id, ws.dataset_id)
    journal.record(ws.set_id, [("a", reg(ws, "a", 0, 10))])
    push_set(ws.client, journal, ws.dataset_id, ws.set_id)
    journal.record(ws.set_id, [("b", reg(ws, "b", 20, 30)), ("a", reg(ws, "a", 0, 15))])
    ws.client.annotation_sets.publish(ws.dataset_id, ws.set_id)  # "someone else" publishes
    with pytest.raises(SetLocked, match="published"):
        push_set(ws.client, journal, ws.dataset_id, ws.set_id)
    assert journal.pending_count(ws.set_id) == 2
    new_set = ws.client.annotation_sets.create(ws.dataset_id)
    assert journal.move_to_set(ws.set_id, new_set.id, ws.dataset_id) == 2
    push_set(ws.client, journal, ws.dataset_id, new_set.id)
    assert server_regions(ws, new_set.id) == [("a", "click", 0, 15), ("b", "click", 20, 30)]
    assert server_regions(ws) == [("a", "click", 0, 10)]  # the published set is untouched


def test_a_region_deleted_on_the_server_is_created_again(ws: Workspace, tmp_path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    journal.ensure_set(ws.set_id, ws.dataset_id)
    journal.record(ws.set_id, [("a", reg(ws, "a", 0, 10))])
    push_set(ws.client, journal, ws.dataset_id, ws.set_id)
    server_id = journal.server_id_of(ws.set_id, "a")
    assert server_id
    ws.client.annotations.delete(ws.dataset_id, ws.set_id, server_id)
    journal.record(ws.set_id, [("a", reg(ws, "a", 0, 20))])
    push_set(ws.client, journal, ws.dataset_id, ws.set_id)   # PATCH -> 404: lost
    push_set(ws.client, journal, ws.dataset_id, ws.set_id)   # created again
    assert server_regions(ws) == [("a", "click", 0, 20)]


def test_a_refused_bulk_create_is_resent_once_after_checking(ws: Workspace, relay_server,
                                                             tmp_path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    journal.ensure_set(ws.set_id, ws.dataset_id)
    journal.record(ws.set_id, [(f"y{i}", reg(ws, f"y{i}", i * 10, i * 10 + 5)) for i in range(3)])
    base = f"/api/v1/datasets/{ws.dataset_id}/annotation-sets/{ws.set_id}"
    with FaultServer() as proxy:
        up = relay_server.base_url
        proxy.script("POST", base + "/annotations/bulk",
                     [Reply(503, json={"detail": "busy"}), Reply(proxy=up)])
        proxy.proxy("GET", base, up)
        client = RelayClient(proxy.url, relay_server.api_key)
        with pytest.raises(errors.ServerError):
            push_set(client, journal, ws.dataset_id, ws.set_id)
        assert server_regions(ws) == []
        result = push_set(client, journal, ws.dataset_id, ws.set_id)
        client.close()
    assert (result.reconciled, result.created, result.requests) == (0, 3, 2)  # GET, then POST
    assert proxy.count("GET", base) == 1
    assert [r[0] for r in server_regions(ws)] == ["y0", "y1", "y2"]
