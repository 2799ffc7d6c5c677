"""Audio over real HTTP: the three-step upload, processing results, list, get, delete, download.

The helpers at the top (audio generation, upload, polling) are shared by the
other audio test modules of the server suite.
"""

from __future__ import annotations

import io
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
import soundfile as sf

from tests.server.conftest import Api
from tests.support.live_server import LiveServer

TERMINAL = ("ready", "failed")


# ---- helpers shared by the audio test modules ----
def make_audio(seconds: float, rate: int = 44_100, channels: int = 2, fmt: str = "WAV",
               subtype: str | None = None) -> bytes:
    """A real encoded tone + noise signal (numpy + soundfile)."""
    frames = int(seconds * rate)
    t = np.arange(frames) / rate
    rng = np.random.default_rng(7)
    cols = [0.3 * np.sin(2 * np.pi * (220 + 110 * c) * t) + 0.01 * rng.standard_normal(frames)
            for c in range(channels)]
    buf = io.BytesIO()
    sf.write(buf, np.stack(cols, axis=1).astype(np.float32), rate, format=fmt, subtype=subtype)
    return buf.getvalue()


def request_upload(api: Api, dataset_id: str, filename: str, size: int,
                   content_type: str = "audio/wav") -> dict[str, Any]:
    r = api.post(f"/api/v1/datasets/{dataset_id}/audio/upload-url",
                 json={"filename": filename, "content_type": content_type, "file_size": size})
    assert r.status_code == 201, r.text
    return dict(r.json())


def storage_post(ticket: dict[str, Any], data: bytes,
                 fields: dict[str, str] | None = None) -> requests.Response:
    """The storage POST as a client does it: fields verbatim, the file last, no API key."""
    return requests.post(ticket["upload_url"], data=fields or ticket["fields"],
                         files={"file": ("upload.bin", data, "application/octet-stream")},
                         timeout=60)


def upload(api: Api, dataset_id: str, data: bytes, filename: str = "clip.wav",
           content_type: str = "audio/wav", confirm: bool = True) -> str:
    """upload-url -> storage POST -> confirm; return the audio id."""
    ticket = request_upload(api, dataset_id, filename, len(data), content_type)
    r = storage_post(ticket, data)
    assert r.status_code == 204, r.text
    if confirm:
        c = api.post(f"/api/v1/datasets/{dataset_id}/audio/confirm",
                     json={"audio_id": ticket["audio_id"]})
        assert c.status_code == 200, c.text
    return str(ticket["audio_id"])


def get_audio(api: Api, dataset_id: str, audio_id: str) -> dict[str, Any]:
    r = api.get(f"/api/v1/datasets/{dataset_id}/audio/{audio_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def wait_processed(api: Api, dataset_id: str, audio_id: str,
                   timeout: float = 60.0) -> dict[str, Any]:
    """Poll until the file is ready or failed."""
    deadline = time.monotonic() + timeout
    while True:
        item = get_audio(api, dataset_id, audio_id)
        if item["processing_status"] in TERMINAL or time.monotonic() > deadline:
            return item
        time.sleep(0.1)


def object_path(server: LiveServer, key: str) -> Path:
    return server.data_dir / "objects" / key


def leftovers(folder: Path) -> list[Path]:
    """Every file under ``folder`` (temp files of uploads included)."""
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


# ---- the three-step upload ------------------------------------------------------------------
@pytest.mark.parametrize(("fmt", "subtype", "rate", "channels", "ctype", "name"), [
    ("WAV", "PCM_16", 44_100, 2, "audio/wav", "speech take 1.wav"),
    ("FLAC", "PCM_24", 22_050, 1, "audio/flac", "take.flac"),
    ("OGG", "VORBIS", 48_000, 2, "audio/ogg", "take.ogg"),
    ("MP3", "MPEG_LAYER_III", 44_100, 1, "audio/mpeg", "take.mp3"),
])
def test_three_step_upload_reaches_ready(api: Api, relay_server: LiveServer,
                                         dataset: dict[str, Any], fmt: str, subtype: str,
                                         rate: int, channels: int, ctype: str,
                                         name: str) -> None:
    data = make_audio(2.5, rate, channels, fmt, subtype)
    ticket = request_upload(api, dataset["id"], name, len(data), ctype)
    assert ticket["upload_url"] == relay_server.base_url + "/storage/relay-local"
    assert ticket["expires_in"] == 3600 and ticket["fields"]["key"] == ticket["key"]
    r = storage_post(ticket, data)
    assert r.status_code == 204 and r.content == b""
    assert object_path(relay_server, ticket["key"]).read_bytes() == data

    c = api.post(f"/api/v1/datasets/{dataset['id']}/audio/confirm",
                 json={"audio_id": ticket["audio_id"]})
    assert c.status_code == 200
    assert c.json()["audio_id"] == ticket["audio_id"]
    assert c.json()["status"] in ("pending", "normalizing", "embedding", "ready")
    assert c.json()["message"]

    item = wait_processed(api, dataset["id"], ticket["audio_id"])
    assert item["processing_status"] == "ready", item
    assert item["error_message"] is None
    assert abs(item["duration_ms"] - 2500) <= 5
    assert (item["sample_rate"], item["channels"]) == (rate, channels)
    assert item["file_size"] == len(data) and item["content_type"] == ctype
    assert item["filename"] == name and item["dataset_id"] == dataset["id"]
    assert item["created_at"].endswith("Z") and item["updated_at"].endswith("Z")

    derived = object_path(relay_server, ticket["key"]).parent / "derived"
    norm, norm_rate = sf.read(derived / "normalized.flac")
    assert norm_rate == 16_000 and norm.ndim == 1
    assert abs(len(norm) - 40_000) <= 2 and 0.95 <= np.abs(norm).max() <= 1.0
    feats = np.load(derived / "features.npy")
    assert feats.shape == (3, 128) and np.isfinite(feats).all()


def test_object_keys_are_scoped_and_sanitised(api: Api, relay_server: LiveServer,
                                              dataset: dict[str, Any]) -> None:
    ticket = request_upload(api, dataset["id"], "../../etc/pass wd\u202e.wav", 10)
    key = ticket["key"]
    prefix = f"tenants/{_tenant_of(relay_server, dataset)}/datasets/{dataset['id']}/audio/"
    assert key.startswith(prefix)
    audio_id, name = key[len(prefix):].split("/")
    assert audio_id == ticket["audio_id"]
    assert name == "pass_wd.wav"
    assert ".." not in key and "\u202e" not in key
    item = get_audio(api, dataset["id"], ticket["audio_id"])
    assert item["filename"] == "../../etc/pass wd\u202e.wav"  # the display name is kept
    assert item["processing_status"] == "pending"


def _tenant_of(server: LiveServer, dataset: dict[str, Any]) -> str:
    from sqlalchemy import create_engine, select

    from relay_server.db.models import Dataset
    from tests.server.conftest import server_database_url

    engine = create_engine(server_database_url(server))
    try:
        with engine.connect() as conn:
            return str(conn.scalar(select(Dataset.tenant_id).where(
                Dataset.id == uuid.UUID(dataset["id"]))))
    finally:
        engine.dispose()


@pytest.mark.parametrize(("body", "field"), [
    ({"filename": "", "content_type": "audio/wav", "file_size": 10}, "filename"),
    ({"filename": "x" * 501, "content_type": "audio/wav", "file_size": 10}, "filename"),
    ({"filename": "a\x07b.wav", "content_type": "audio/wav", "file_size": 10}, "filename"),
    ({"filename": "a.txt", "content_type": "text/plain", "file_size": 10}, "content_type"),
    ({"filename": "a.wav", "content_type": "video/mp4", "file_size": 10}, "content_type"),
    ({"filename": "a.wav", "content_type": "audio/wav", "file_size": 0}, "file_size"),
    ({"filename": "a.wav", "content_type": "audio/wav", "file_size": 524_288_001}, "file_size"),
    ({"filename": "a.wav", "content_type": "audio/wav", "file_size": "12"}, "file_size"),
    ({"filename": "a.wav", "content_type": "audio/wav"}, "file_size"),
])
def test_upload_url_validation(api: Api, dataset: dict[str, Any], body: dict[str, Any],
                               field: str) -> None:
    r = api.post(f"/api/v1/datasets/{dataset['id']}/audio/upload-url", json=body)
    assert r.status_code == 422, r.text
    assert ["body", field] in [item["loc"][:2] for item in r.json()["detail"]]
    listing = api.get(f"/api/v1/datasets/{dataset['id']}/audio").json()
    assert listing["total"] == 0  # nothing half-created


@pytest.mark.parametrize("ctype", ["audio/wav", "audio/x-wav", "audio/mpeg", "audio/mp4",
                                   "audio/ogg", "audio/flac", "audio/webm", "audio/aac",
                                   "AUDIO/OGG; codecs=opus"])
def test_upload_url_accepts_the_documented_audio_types(api: Api, dataset: dict[str, Any],
                                                       ctype: str) -> None:
    ticket = request_upload(api, dataset["id"], "a.bin", 524_288_000, ctype)
    assert ticket["fields"]["Content-Type"] == ctype


def test_upload_url_for_unknown_or_foreign_dataset_is_404(api: Api, other_api: Api,
                                                          dataset: dict[str, Any]) -> None:
    body = {"filename": "a.wav", "content_type": "audio/wav", "file_size": 10}
    r = api.post(f"/api/v1/datasets/{uuid.uuid4()}/audio/upload-url", json=body)
    assert r.status_code == 404 and r.json() == {"detail": "Dataset not found"}
    r = other_api.post(f"/api/v1/datasets/{dataset['id']}/audio/upload-url", json=body)
    assert r.status_code == 404
    r = requests.post(f"{api.base_url}/api/v1/datasets/{dataset['id']}/audio/upload-url",
                      json=body, timeout=10)
    assert r.status_code == 401


# ---- confirm ----
def test_confirm_errors(api: Api, other_api: Api, dataset: dict[str, Any]) -> None:
    base = f"/api/v1/datasets/{dataset['id']}/audio/confirm"
    assert api.post(base, json={"audio_id": str(uuid.uuid4())}).status_code == 404
    data = make_audio(0.5)
    ticket = request_upload(api, dataset["id"], "a.wav", len(data))

    early = api.post(base, json={"audio_id": ticket["audio_id"]})
    assert early.status_code == 400
    assert "not been uploaded" in early.json()["detail"]
    assert get_audio(api, dataset["id"], ticket["audio_id"])["processing_status"] == "pending"

    assert storage_post(ticket, data).status_code == 204
    foreign = other_api.post(base, json={"audio_id": ticket["audio_id"]})
    assert foreign.status_code == 404
    assert api.post(base, json={"audio_id": "not-a-uuid"}).status_code == 422
    assert api.post(base, json={"audio_id": ticket["audio_id"]}).status_code == 200
    again = api.post(base, json={"audio_id": ticket["audio_id"]})
    assert again.status_code == 409 and "already confirmed" in again.json()["detail"]
    assert wait_processed(api, dataset["id"], ticket["audio_id"])["processing_status"] == "ready"


# ---- failures reach "failed" with words a person understands ----
def _header_only_wav() -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.zeros((0, 1), dtype=np.float32), 16_000, format="WAV", subtype="PCM_16")
    return buf.getvalue()


@pytest.mark.parametrize(("data", "ctype", "expected"), [
    (_header_only_wav(), "audio/wav", "The file is empty"),
    (b"Dear diary, this is not audio at all.\n" * 40, "audio/wav", "Not an audio file"),
    (make_audio(2.0)[:30_000], "audio/wav", "The file is corrupt"),
    (b"RIFF\x10\x00\x00\x00WAVEfmt " + bytes(range(200)), "audio/wav", "The file is corrupt"),
    (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00" + b"\x00" * 500, "audio/mp4",
     "Unsupported format"),
], ids=["no-samples", "text-renamed-wav", "truncated-wav", "garbage-wav", "m4a"])
def test_bad_files_reach_failed_with_a_clear_message(api: Api, relay_server: LiveServer,
                                                     dataset: dict[str, Any], data: bytes,
                                                     ctype: str, expected: str) -> None:
    audio_id = upload(api, dataset["id"], data, "bad.wav", ctype)
    item = wait_processed(api, dataset["id"], audio_id)
    assert item["processing_status"] == "failed"
    assert item["error_message"].startswith(expected), item["error_message"]
    assert item["duration_ms"] is None
    failed = api.get(f"/api/v1/datasets/{dataset['id']}/audio",
                     params={"processing_status": "failed"}).json()
    assert [i["id"] for i in failed["items"]] == [audio_id]
    objects = relay_server.data_dir / "objects"
    deadline = time.monotonic() + 5  # derived objects are dropped right after the status
    while list(objects.rglob(f"*{audio_id}/derived/*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not list(objects.rglob(f"*{audio_id}/derived/*"))  # no half-made derived objects


# ---- list ----
def test_list_pages_in_creation_order_and_filters_by_status(api: Api,
                                                            dataset: dict[str, Any]) -> None:
    ids = [request_upload(api, dataset["id"], f"f{i}.wav", 100)["audio_id"] for i in range(5)]
    ready_id = upload(api, dataset["id"], make_audio(0.3), "ready.wav")
    assert wait_processed(api, dataset["id"], ready_id)["processing_status"] == "ready"
    base = f"/api/v1/datasets/{dataset['id']}/audio"

    seen = []
    for page in (1, 2, 3):
        body = api.get(base, params={"page": page, "page_size": 2}).json()
        assert (body["total"], body["page"], body["page_size"]) == (6, page, 2)
        assert body["has_more"] is (page < 3)
        seen += [i["id"] for i in body["items"]]
    assert seen == [*ids, ready_id]
    beyond = api.get(base, params={"page": 4, "page_size": 2}).json()
    assert beyond["items"] == [] and beyond["has_more"] is False

    pending = api.get(base, params={"processing_status": "pending"}).json()
    assert [i["id"] for i in pending["items"]] == ids and pending["total"] == 5
    ready = api.get(base, params={"processing_status": "ready"}).json()
    assert [i["id"] for i in ready["items"]] == [ready_id]
    assert api.get(base, params={"processing_status": "failed"}).json()["total"] == 0

    bad = api.get(base, params={"processing_status": "done"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "processing_status"]
    assert api.get(base, params={"page_size": 0}).status_code == 422
    assert api.get(f"/api/v1/datasets/{uuid.uuid4()}/audio").status_code == 404


def test_other_tenants_see_nothing(api: Api, other_api: Api, dataset: dict[str, Any]) -> None:
    audio_id = request_upload(api, dataset["id"], "mine.wav", 10)["audio_id"]
    base = f"/api/v1/datasets/{dataset['id']}/audio"
    assert other_api.get(base).status_code == 404
    for method in ("GET", "DELETE"):
        assert other_api.request(method, f"{base}/{audio_id}").status_code == 404
    assert other_api.get(f"{base}/{audio_id}/download-url").status_code == 404
    assert get_audio(api, dataset["id"], audio_id)["id"] == audio_id


# ---- get / delete / download (Relay Local extensions) ----
def test_delete_removes_row_objects_and_annotations(api: Api, relay_server: LiveServer,
                                                    dataset: dict[str, Any]) -> None:
    data = make_audio(1.0)
    ticket = request_upload(api, dataset["id"], "gone.wav", len(data))
    assert storage_post(ticket, data).status_code == 204
    api.post(f"/api/v1/datasets/{dataset['id']}/audio/confirm",
             json={"audio_id": ticket["audio_id"]})
    audio_id = ticket["audio_id"]
    assert wait_processed(api, dataset["id"], audio_id)["processing_status"] == "ready"
    keep = upload(api, dataset["id"], make_audio(1.0), "keep.wav")
    assert wait_processed(api, dataset["id"], keep)["processing_status"] == "ready"
    draft = api.new_set(dataset["id"])
    ann_base = f"/api/v1/datasets/{dataset['id']}/annotation-sets/{draft['id']}/annotations"
    for target in (audio_id, keep):
        r = api.post(ann_base, json={"audio_file_id": target, "artifact_type": "glitch",
                                     "start_ms": 100, "end_ms": 200})
        assert r.status_code == 201, r.text
    published = api.new_set(dataset["id"])
    pub_base = f"/api/v1/datasets/{dataset['id']}/annotation-sets/{published['id']}"
    for target, kind in ((audio_id, "glitch"), (audio_id, "click"), (keep, "click")):
        r = api.post(pub_base + "/annotations", json={
            "audio_file_id": target, "artifact_type": kind, "start_ms": 0, "end_ms": 300})
        assert r.status_code == 201, r.text
    assert api.post(pub_base + "/publish").json()["total_annotations"] == 3
    folder = object_path(relay_server, ticket["key"]).parent
    assert len(leftovers(folder)) == 3  # original, normalised copy, features

    r = api.delete(f"/api/v1/datasets/{dataset['id']}/audio/{audio_id}")
    assert r.status_code == 204 and r.content == b""
    assert api.get(f"/api/v1/datasets/{dataset['id']}/audio/{audio_id}").status_code == 404
    assert api.delete(f"/api/v1/datasets/{dataset['id']}/audio/{audio_id}").status_code == 404
    assert not folder.exists()
    detail = api.get(f"/api/v1/datasets/{dataset['id']}/annotation-sets/{draft['id']}").json()
    assert [a["audio_file_id"] for a in detail["annotations"]] == [keep]
    stats = api.get(pub_base).json()
    assert (stats["total_annotations"], stats["annotations_by_type"]) == (1, {"click": 1})
    assert stats["total_positive_duration_ms"] == 300 and stats["status"] == "published"
    assert get_audio(api, dataset["id"], keep)["processing_status"] == "ready"


def test_download_url_full_and_range(api: Api, dataset: dict[str, Any]) -> None:
    data = make_audio(1.0)
    ticket = request_upload(api, dataset["id"], "dl.wav", len(data))
    base = f"/api/v1/datasets/{dataset['id']}/audio/{ticket['audio_id']}/download-url"
    early = api.get(base)
    assert early.status_code == 409 and "not been uploaded" in early.json()["detail"]
    assert storage_post(ticket, data).status_code == 204

    link = api.get(base).json()
    assert link["expires_in"] == 3600
    assert link["download_url"].startswith(api.base_url + "/storage/relay-local/")
    full = requests.get(link["download_url"], timeout=10)  # no API key needed
    assert full.status_code == 200 and full.content == data
    assert full.headers["accept-ranges"] == "bytes"
    part = requests.get(link["download_url"], headers={"Range": "bytes=100-199"}, timeout=10)
    assert part.status_code == 206 and part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    tail = requests.get(link["download_url"], headers={"Range": "bytes=-10"}, timeout=10)
    assert tail.status_code == 206 and tail.content == data[-10:]
    head = requests.head(link["download_url"], timeout=10)
    assert head.status_code == 200 and int(head.headers["content-length"]) == len(data)


@pytest.mark.parametrize("tamper", ["signature", "expires", "key", "missing"])
def test_download_url_tampering_is_refused(api: Api, dataset: dict[str, Any],
                                           tamper: str) -> None:
    data = make_audio(0.3)
    audio_id = upload(api, dataset["id"], data, "t.wav", confirm=False)
    url = api.get(f"/api/v1/datasets/{dataset['id']}/audio/{audio_id}/download-url"
                  ).json()["download_url"]
    path, query = url.split("?")
    params = dict(p.split("=") for p in query.split("&"))
    if tamper == "signature":
        params["Signature"] = params["Signature"][:-1] + ("0" if params["Signature"][-1] != "0"
                                                          else "1")
    elif tamper == "expires":
        params["Expires"] = str(int(params["Expires"]) + 3600)
    elif tamper == "key":
        path = path.replace("/t.wav", "/other.wav")
    else:
        del params["Signature"]
    r = requests.get(path + "?" + "&".join(f"{k}={v}" for k, v in params.items()), timeout=10)
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/xml")
    code = "AccessDenied" if tamper == "missing" else "SignatureDoesNotMatch"
    assert f"<Code>{code}</Code>" in r.text
    assert data not in r.content
