"""Dataset audio against the real Relay Local: upload, list, extensions, download."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from relay_desktop.api import CancelToken, RelayClient, errors
from relay_desktop.api.models import AudioFile
from tests.api.conftest import unique, write_wav
from tests.support.fault_server import FaultServer, Reply
from tests.support.live_server import LiveServer


def wait_processed(client: RelayClient, dataset_id: str, audio_id: str,
                   timeout: float = 30.0) -> AudioFile:
    deadline = time.monotonic() + timeout
    while True:
        af = client.audio.get(dataset_id, audio_id)
        if af.processing_status in ("ready", "failed") or time.monotonic() > deadline:
            return af
        time.sleep(0.1)


def test_upload_list_get_download_delete(client: RelayClient, wav: Path, tmp_path: Path) -> None:
    ds = client.datasets.create(unique("audio"), ["glitch"])
    seen: list[tuple[int, int]] = []
    conf = client.audio.upload(ds.id, wav, progress=lambda d, t: seen.append((d, t)))
    assert conf.audio_id and conf.status in ("pending", "normalizing", "embedding", "ready")
    assert seen[-1] == (wav.stat().st_size, wav.stat().st_size)

    page = client.audio.list(ds.id)
    assert [a.id for a in page.items] == [conf.audio_id] and page.total == 1
    af = wait_processed(client, ds.id, conf.audio_id)
    assert af.filename == "take-1.wav" and af.content_type == "audio/wav"
    assert af.file_size == wav.stat().st_size
    assert af.processing_status == "ready", af.error_message
    assert af.duration_ms == 1000 and af.sample_rate == 16000 and af.channels == 1
    ready = list(client.audio.iter_items(ds.id, processing_status="ready"))
    assert [a.id for a in ready] == [conf.audio_id]
    assert list(client.audio.iter_items(ds.id, processing_status="failed")) == []

    link = client.audio.download_url(ds.id, conf.audio_id)
    assert link.download_url.startswith(("http://", "https://"))
    dest = client.audio.download(ds.id, conf.audio_id, tmp_path / "dl" / "copy.wav")
    assert dest.read_bytes() == wav.read_bytes()

    client.audio.delete(ds.id, conf.audio_id)
    with pytest.raises(errors.NotFound):
        client.audio.get(ds.id, conf.audio_id)
    assert client.audio.list(ds.id).total == 0


def test_three_steps_by_hand(client: RelayClient, wav: Path) -> None:
    ds = client.datasets.create(unique("steps"), ["glitch"])
    ticket = client.audio.request_upload(ds.id, wav.name, "audio/wav", wav.stat().st_size)
    assert ticket.upload_url and ticket.fields and ticket.expires_in
    assert client.audio.get(ds.id, ticket.audio_id).processing_status == "pending"
    with pytest.raises(errors.ApiStatusError):  # the object is not in storage yet
        client.audio.confirm(ds.id, ticket.audio_id)
    client.audio.send_to_storage(ticket, wav)
    conf = client.audio.confirm(ds.id, ticket.audio_id)
    assert conf.audio_id == ticket.audio_id


def test_tampered_policy_is_storage_error(client: RelayClient, wav: Path) -> None:
    ds = client.datasets.create(unique("tamper"), ["glitch"])
    ticket = client.audio.request_upload(ds.id, wav.name, "audio/wav", wav.stat().st_size)
    bad = type(ticket)(ticket.upload_url, {**ticket.fields, "key": "someone/else.wav"},
                       ticket.key, ticket.expires_in, ticket.object_id)
    with pytest.raises(errors.StorageError) as info:
        client.audio.send_to_storage(bad, wav)
    assert info.value.status_code in (400, 403) and info.value.code


def test_upload_to_missing_dataset_is_not_found(client: RelayClient, wav: Path) -> None:
    with pytest.raises(errors.NotFound):
        client.audio.upload("00000000-0000-0000-0000-00000000beef", wav)


def test_cancelled_upload_leaves_no_pending_record(client: RelayClient, tmp_path: Path) -> None:
    ds = client.datasets.create(unique("cancel"), ["glitch"])
    wav = write_wav(tmp_path / "long.wav", seconds=60)
    token = CancelToken()

    def progress(done: int, total: int) -> None:
        if done > 0:
            token.cancel()

    with pytest.raises(errors.Cancelled):
        client.audio.upload(ds.id, wav, progress=progress, cancel=token)
    assert client.audio.list(ds.id).total == 0


def test_key_not_sent_to_relay_local_storage(relay_server: LiveServer, fault: FaultServer,
                                             wav: Path) -> None:
    """A recording proxy in front of Relay Local sees every request, storage included."""
    fault.script("*", "*", Reply(proxy=relay_server.base_url))
    with RelayClient(fault.url, relay_server.api_key) as c:
        ds = c.datasets.create(unique("proxy"), ["glitch"])
        ticket = c.audio.request_upload(ds.id, wav.name, "audio/wav", wav.stat().st_size)
        storage_path = "/" + ticket.upload_url.split("/", 3)[3]
        c.audio.send_to_storage(type(ticket)(fault.url + storage_path, ticket.fields, ticket.key,
                                             ticket.expires_in, ticket.object_id), wav)
        c.audio.confirm(ds.id, ticket.audio_id)
    storage = [r for r in fault.records if r.path.startswith("/storage")]
    api = [r for r in fault.records if r.path.startswith("/api/")]
    assert storage and api
    assert all(r.header("X-API-Key") is None for r in storage)
    assert all(r.header("X-API-Key") == relay_server.api_key for r in api)
