"""The storage half of uploads and downloads, against fault servers."""

from __future__ import annotations

import email.parser
import email.policy
from pathlib import Path
from typing import Any

import pytest
import requests

from relay_desktop.api import CancelToken, RelayClient, errors
from relay_desktop.api.uploads import MultipartFileBody, guess_content_type
from tests.support.fault_server import FaultServer, Reply

UPLOAD_URL = "/api/v1/datasets/d/audio/upload-url"
CONFIRM = "/api/v1/datasets/d/audio/confirm"
FIELDS = {"key": "tenant/d/a b.wav", "policy": "eyJ4IjoxfQ==", "x-amz-signature": "f00d",
          "x-amz-credential": "AKIA/20240115/us-east-1/s3/aws4_request",
          "x-amz-algorithm": "AWS4-HMAC-SHA256", "x-amz-date": "20240115T000000Z",
          "x-amz-security-token": "tok"}


def parse_form(content_type: str, body: bytes) -> list[tuple[Any, Any, Any]]:
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    parts = []
    for part in msg.iter_parts():
        parts.append((part.get_param("name", header="content-disposition"),
                      part.get_filename(), part.get_payload(decode=True)))
    return parts


def script_upload(api: FaultServer, storage_url: str, audio_id: str = "a1") -> None:
    api.script("POST", UPLOAD_URL, Reply(200, json={
        "upload_url": storage_url, "fields": FIELDS, "key": FIELDS["key"], "expires_in": 3600,
        "audio_id": audio_id}))
    api.script("POST", CONFIRM, Reply(200, json={"audio_id": audio_id, "status": "pending",
                                                  "message": "Upload confirmed"}))


@pytest.fixture
def audio(tmp_path: Path) -> Path:
    path = tmp_path / "a b.wav"
    path.write_bytes(bytes(range(256)) * 4096 + b"tail")  # 1 MiB + 4 bytes
    return path


def test_three_step_upload_shape(fault: FaultServer, other_host: FaultServer,
                                 fault_client: RelayClient, audio: Path) -> None:
    other_host.script("POST", "/bucket", Reply(204))
    script_upload(fault, other_host.url + "/bucket")
    seen: list[tuple[int, int]] = []
    conf = fault_client.audio.upload("d", audio, progress=lambda d, t: seen.append((d, t)))
    assert conf.audio_id == "a1" and conf.status == "pending"
    assert fault.requests_to("POST", UPLOAD_URL)[0].json() == {
        "filename": "a b.wav", "content_type": "audio/wav", "file_size": audio.stat().st_size}
    assert fault.requests_to("POST", CONFIRM)[0].json() == {"audio_id": "a1"}

    (post,) = other_host.records
    assert int(post.header("Content-Length") or 0) == post.body_length
    assert post.header("Transfer-Encoding") is None
    parts = parse_form(post.header("Content-Type") or "", post.body)
    assert [p[0] for p in parts] == [*FIELDS, "file"]  # fields verbatim, in order, file last
    assert {p[0]: p[2].decode() for p in parts[:-1]} == FIELDS
    assert parts[-1][1] == "a b.wav"
    assert parts[-1][2] == audio.read_bytes()
    size = audio.stat().st_size
    assert seen[0] == (0, size) and seen[-1] == (size, size)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and len(seen) >= 3


@pytest.mark.parametrize("status", [200, 201, 204])
def test_any_2xx_from_storage_is_success(fault: FaultServer, other_host: FaultServer,
                                         fault_client: RelayClient, audio: Path,
                                         status: int) -> None:
    other_host.script("POST", "/bucket", Reply(status, body=b"<PostResponse/>"))
    script_upload(fault, other_host.url + "/bucket")
    assert fault_client.audio.upload("d", audio).audio_id == "a1"


def test_s3_xml_error_becomes_storage_error(fault: FaultServer, other_host: FaultServer,
                                            fault_client: RelayClient, audio: Path) -> None:
    other_host.script("POST", "/bucket", Reply.s3_error(
        400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"))
    script_upload(fault, other_host.url + "/bucket")
    fault.script("DELETE", "/api/v1/datasets/d/audio/a1", Reply(204))
    with pytest.raises(errors.StorageError) as info:
        fault_client.audio.upload("d", audio)
    assert info.value.code == "EntityTooLarge" and info.value.status_code == 400
    assert "exceeds the maximum allowed size" in str(info.value)
    assert fault.count("POST", CONFIRM) == 0
    # the pending record is cleaned up through the extension
    assert fault.count("DELETE", "/api/v1/datasets/d/audio/a1") == 1


def test_expired_policy_gets_one_fresh_ticket(fault: FaultServer, other_host: FaultServer,
                                              fault_client: RelayClient, audio: Path) -> None:
    other_host.script("POST", "/bucket", [
        Reply.s3_error(403, "AccessDenied", "Invalid according to Policy: Policy expired."),
        Reply(204)])
    fault.script("POST", UPLOAD_URL, [
        Reply(200, json={"upload_url": other_host.url + "/bucket", "fields": FIELDS,
                         "key": "k1", "expires_in": 1, "audio_id": "old"}),
        Reply(200, json={"upload_url": other_host.url + "/bucket", "fields": FIELDS,
                         "key": "k2", "expires_in": 3600, "audio_id": "new"})])
    fault.script("POST", CONFIRM, Reply(200, json={"audio_id": "new", "status": "pending"}))
    conf = fault_client.audio.upload("d", audio)
    assert conf.audio_id == "new"
    assert fault.count("POST", UPLOAD_URL) == 2 and other_host.count("POST", "/bucket") == 2
    assert fault.requests_to("POST", CONFIRM)[0].json() == {"audio_id": "new"}
    assert fault.count("DELETE", "/api/v1/datasets/d/audio/old") == 1  # tried; 404 -> ignored


def test_expired_twice_gives_up(fault: FaultServer, other_host: FaultServer,
                                fault_client: RelayClient, audio: Path) -> None:
    other_host.script("POST", "/bucket", Reply.s3_error(403, "AccessDenied", "Policy expired"))
    script_upload(fault, other_host.url + "/bucket")
    with pytest.raises(errors.StorageError) as info:
        fault_client.audio.upload("d", audio)
    assert info.value.expired
    assert fault.count("POST", UPLOAD_URL) == 2 and fault.count("POST", CONFIRM) == 0


def test_cancel_between_chunks(fault: FaultServer, other_host: FaultServer,
                               fault_client: RelayClient, tmp_path: Path) -> None:
    big = tmp_path / "big.flac"
    with open(big, "wb") as fh:
        fh.truncate(16 * 1024 * 1024)
    token = CancelToken()
    sink = other_host.sink("/bucket")
    script_upload(fault, sink)
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        seen.append(done)
        if done >= 3 * 1024 * 1024:
            token.cancel()

    with pytest.raises(errors.Cancelled):
        fault_client.audio.upload("d", big, progress=progress, cancel=token)
    assert max(seen) < 16 * 1024 * 1024
    assert fault.count("POST", CONFIRM) == 0
    assert fault.requests_to("POST", UPLOAD_URL)[0].json()["content_type"] == "audio/flac"


def test_storage_connection_drop_is_connection_error(fault: FaultServer,
                                                     other_host: FaultServer,
                                                     fault_client: RelayClient,
                                                     audio: Path) -> None:
    other_host.script("POST", "/bucket", Reply(drop="before_read"))
    script_upload(fault, other_host.url + "/bucket")
    with pytest.raises(errors.ApiConnectionError):
        fault_client.audio.upload("d", audio)
    assert other_host.count("POST", "/bucket") == 1  # a storage POST is never retried blindly


def test_body_is_reiterable_and_matches_requests_encoding(tmp_path: Path) -> None:
    path = tmp_path / 'we"ird\nname.ogg'
    path.write_bytes(b"x" * 10)
    body = MultipartFileBody({"a": "1"}, path)
    first = b"".join(body)
    assert first == b"".join(body)
    assert len(first) == len(body)
    assert b'filename="we%22ird%0Aname.ogg"' in first
    assert b"Content-Type: audio/ogg" in first


@pytest.mark.parametrize(("name", "ctype"), [
    ("a.wav", "audio/wav"), ("a.MP3", "audio/mpeg"), ("a.m4a", "audio/mp4"),
    ("a.mp4", "audio/mp4"), ("a.ogg", "audio/ogg"), ("a.flac", "audio/flac"),
    ("a.webm", "audio/webm"), ("a.aac", "audio/aac"), ("a.unknownext", "application/octet-stream"),
])
def test_content_type_guess(name: str, ctype: str) -> None:
    assert guess_content_type(name) == ctype


def test_inference_upload_uses_inference_field_names(fault: FaultServer, other_host: FaultServer,
                                                     fault_client: RelayClient,
                                                     audio: Path) -> None:
    other_host.script("POST", "/bucket", Reply(204))
    fault.script("POST", "/api/v1/inference-jobs/j/files/upload-url", Reply(200, json={
        "file_id": "f1", "upload_url": other_host.url + "/bucket",
        "upload_fields": {"key": "inf/f1.wav", "policy": "p"}, "s3_key": "inf/f1.wav",
        "expires_in": 3600}))
    fault.script("POST", "/api/v1/inference-jobs/j/files/confirm", Reply(200, json={
        "id": "f1", "inference_job_id": "j", "original_filename": "a b.wav",
        "s3_key": "inf/f1.wav", "duration_ms": None, "status": "queued", "error_message": None,
        "detections": None, "detection_count": 0, "processed_at": None}))
    f = fault_client.inference_jobs.upload_file("j", audio)
    assert f.id == "f1" and f.status == "queued" and f.detections is None
    body = fault.requests_to("POST", "/api/v1/inference-jobs/j/files/upload-url")[0].json()
    assert body == {"filename": "a b.wav", "file_size_bytes": audio.stat().st_size,
                    "content_type": "audio/wav"}
    assert fault.requests_to("POST", "/api/v1/inference-jobs/j/files/confirm")[0].json() == {
        "file_id": "f1"}
    parts = parse_form(other_host.records[0].header("Content-Type") or "",
                       other_host.records[0].body)
    assert [p[0] for p in parts] == ["key", "policy", "file"]
    assert "x-api-key" not in other_host.records[0].headers


# -- downloads ----------------------------------------------------------------


def test_download_streams_to_file_with_progress(fault: FaultServer, other_host: FaultServer,
                                                fault_client: RelayClient,
                                                tmp_path: Path) -> None:
    payload = bytes(range(256)) * 8192  # 2 MiB
    other_host.script("GET", "/obj", Reply(200, body=payload, content_type="audio/wav"))
    fault.script("GET", "/api/v1/datasets/d/audio/a/download-url", Reply(200, json={
        "download_url": other_host.url + "/obj?sig=1", "expires_in": 3600}))
    seen: list[tuple[int, int]] = []
    dest = tmp_path / "out" / "a.wav"
    got = fault_client.audio.download("d", "a", dest, progress=lambda d, t: seen.append((d, t)))
    assert got == dest and dest.read_bytes() == payload
    assert seen[-1] == (len(payload), len(payload))
    assert other_host.records[0].header("X-API-Key") is None
    assert list(dest.parent.iterdir()) == [dest]


def test_download_cancel_leaves_nothing(fault: FaultServer, other_host: FaultServer,
                                        fault_client: RelayClient, tmp_path: Path) -> None:
    other_host.script("GET", "/obj", Reply(200, body=b"x" * (4 * 1024 * 1024)))
    fault.script("GET", "/api/v1/datasets/d/audio/a/download-url",
                 Reply(200, json={"download_url": other_host.url + "/obj"}))
    token = CancelToken()
    dest = tmp_path / "a.wav"
    dest.write_bytes(b"old")

    def progress(done: int, total: int) -> None:
        if done > 0:
            token.cancel()

    with pytest.raises(errors.Cancelled):
        fault_client.audio.download("d", "a", dest, progress=progress, cancel=token)
    assert dest.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [dest]


def test_download_storage_error(fault: FaultServer, other_host: FaultServer,
                                fault_client: RelayClient, tmp_path: Path) -> None:
    other_host.script("GET", "/obj", Reply.s3_error(403, "AccessDenied", "Request has expired"))
    fault.script("GET", "/api/v1/datasets/d/audio/a/download-url",
                 Reply(200, json={"download_url": other_host.url + "/obj"}))
    with pytest.raises(errors.StorageError) as info:
        fault_client.audio.download("d", "a", tmp_path / "a.wav")
    assert info.value.code == "AccessDenied" and "download" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_plain_requests_session_has_no_key(fault_client: RelayClient) -> None:
    assert not any(k.lower() == "x-api-key" for k in fault_client.session.headers)
    assert isinstance(fault_client.session, requests.Session)
