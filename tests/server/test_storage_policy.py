"""The storage endpoint's presigned-POST checks, as S3 makes them, over real HTTP.

Every refused upload must answer S3-style XML and leave no object (and no
temporary file) behind; the same ticket still works afterwards.
"""

from __future__ import annotations

import base64
import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from relay_server.storage.errors import StorageError
from relay_server.storage.policy import build_post_fields, verify_post
from tests.server.conftest import Api
from tests.server.test_audio_upload import (
    get_audio,
    leftovers,
    make_audio,
    object_path,
    request_upload,
    storage_post,
)
from tests.support.live_server import LiveServer, server_env

DATA = make_audio(0.5)


def _decode(policy: str) -> dict[str, Any]:
    return dict(json.loads(base64.b64decode(policy)))


def _encode(doc: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(doc).encode()).decode()


def _assert_refused(r: requests.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/xml")
    assert f"<Code>{code}</Code>" in r.text
    assert "<Message>" in r.text


def _assert_nothing_stored(server: LiveServer, ticket: dict[str, Any]) -> None:
    assert not object_path(server, ticket["key"]).exists()
    assert leftovers(object_path(server, ticket["key"]).parent) == []


@pytest.fixture
def ticket(api: Api, dataset: dict[str, Any]) -> dict[str, Any]:
    return request_upload(api, dataset["id"], "p.wav", len(DATA))


def test_policy_document_pins_key_size_type_and_expiry(ticket: dict[str, Any]) -> None:
    fields = ticket["fields"]
    assert set(fields) == {"key", "Content-Type", "policy", "x-amz-algorithm",
                           "x-amz-credential", "x-amz-date", "x-amz-signature"}
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    doc = _decode(fields["policy"])
    expires = datetime.fromisoformat(doc["expiration"].replace("Z", "+00:00"))
    assert timedelta(minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=1)
    conditions = doc["conditions"]
    assert {"key": ticket["key"]} in conditions
    assert {"bucket": "relay-local"} in conditions
    assert {"Content-Type": "audio/wav"} in conditions
    assert ["content-length-range", len(DATA), len(DATA)] in conditions
    assert {"x-amz-credential": fields["x-amz-credential"]} in conditions
    assert {"x-amz-date": fields["x-amz-date"]} in conditions


def test_largest_allowed_upload_is_capped_at_500_mib(api: Api, dataset: dict[str, Any]) -> None:
    big = request_upload(api, dataset["id"], "big.wav", 524_288_000)
    ranges = [c for c in _decode(big["fields"]["policy"])["conditions"] if isinstance(c, list)]
    assert ranges == [["content-length-range", 524_288_000, 524_288_000]]


def _tampered(ticket: dict[str, Any], what: str) -> dict[str, str]:
    fields = dict(ticket["fields"])
    if what == "key":
        fields["key"] = ticket["key"].rsplit("/", 1)[0] + "/other.wav"
    elif what == "key-other-tenant":
        fields["key"] = "tenants/" + "0" * 8 + "/x.wav"
    elif what == "policy":
        doc = _decode(fields["policy"])
        doc["conditions"] = [c for c in doc["conditions"] if "key" not in c] + [
            ["starts-with", "$key", "tenants/"]]
        fields["policy"] = _encode(doc)
    elif what == "policy-size":
        doc = _decode(fields["policy"])
        doc["conditions"] = [["content-length-range", 0, 10**9] if isinstance(c, list) else c
                             for c in doc["conditions"]]
        fields["policy"] = _encode(doc)
    elif what == "signature":
        sig = fields["x-amz-signature"]
        fields["x-amz-signature"] = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    elif what == "credential-date":
        parts = fields["x-amz-credential"].split("/")
        parts[1] = "20200101"
        fields["x-amz-credential"] = "/".join(parts)
    elif what == "credential-key":
        fields["x-amz-credential"] = "AKIASOMEONEELSE" + fields["x-amz-credential"][11:]
    elif what == "date":
        fields["x-amz-date"] = "20200101T000000Z"
    elif what == "algorithm":
        fields["x-amz-algorithm"] = "AWS4-HMAC-SHA1"
    elif what == "content-type":
        fields["Content-Type"] = "audio/mpeg"
    elif what == "extra-field":
        fields["acl"] = "public-read"
    elif what == "no-policy":
        del fields["policy"]
    elif what == "no-signature":
        del fields["x-amz-signature"]
    elif what == "garbage-policy":
        fields["policy"] = "not base64 json!"
    return fields


@pytest.mark.parametrize(("what", "status", "code"), [
    ("key", 403, "AccessDenied"),
    ("key-other-tenant", 403, "AccessDenied"),
    ("policy", 403, "SignatureDoesNotMatch"),
    ("policy-size", 403, "SignatureDoesNotMatch"),
    ("signature", 403, "SignatureDoesNotMatch"),
    ("credential-date", 403, "SignatureDoesNotMatch"),
    ("credential-key", 403, "InvalidAccessKeyId"),
    ("date", 403, "AccessDenied"),
    ("algorithm", 403, "AccessDenied"),
    ("content-type", 403, "AccessDenied"),
    ("extra-field", 403, "AccessDenied"),
    ("no-policy", 403, "AccessDenied"),
    ("no-signature", 403, "AccessDenied"),
    ("garbage-policy", 403, "SignatureDoesNotMatch"),
])
def test_tampered_fields_are_refused_and_store_nothing(api: Api, relay_server: LiveServer,
                                                       dataset: dict[str, Any],
                                                       ticket: dict[str, Any], what: str,
                                                       status: int, code: str) -> None:
    r = storage_post(ticket, DATA, _tampered(ticket, what))
    _assert_refused(r, status, code)
    _assert_nothing_stored(relay_server, ticket)
    if what.startswith("key"):
        other = _tampered(ticket, what)["key"]
        assert not (relay_server.data_dir / "objects" / other).exists()
    confirm = api.post(f"/api/v1/datasets/{dataset['id']}/audio/confirm",
                       json={"audio_id": ticket["audio_id"]})
    assert confirm.status_code == 400
    # The genuine ticket still works after the refused attempt.
    assert storage_post(ticket, DATA).status_code == 204
    assert object_path(relay_server, ticket["key"]).read_bytes() == DATA


@pytest.mark.parametrize(("body", "code"), [
    (DATA + b"x", "EntityTooLarge"),
    (DATA * 40, "EntityTooLarge"),
    (DATA[:-1], "EntityTooSmall"),
    (b"", "EntityTooSmall"),
])
def test_body_size_must_match_the_declared_size(relay_server: LiveServer,
                                                ticket: dict[str, Any], body: bytes,
                                                code: str) -> None:
    r = storage_post(ticket, body)
    _assert_refused(r, 400, code)
    _assert_nothing_stored(relay_server, ticket)


def _chunks(fields: dict[str, str], data: bytes, boundary: str) -> Iterator[bytes]:
    for name, value in fields.items():
        yield (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
               f"{value}\r\n").encode()
    yield (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
           'filename="a.wav"\r\n\r\n').encode()
    for start in range(0, len(data), 65536):
        yield data[start:start + 65536]
    yield f"\r\n--{boundary}--\r\n".encode()


def test_oversize_body_is_refused_while_streaming_without_content_length(
        relay_server: LiveServer, ticket: dict[str, Any]) -> None:
    boundary = "relaytestboundary"
    r = requests.post(ticket["upload_url"], data=_chunks(ticket["fields"], DATA * 20, boundary),
                      headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
                      timeout=30)
    assert r.request.headers.get("Transfer-Encoding") == "chunked"
    _assert_refused(r, 400, "EntityTooLarge")
    _assert_nothing_stored(relay_server, ticket)
    ok = requests.post(ticket["upload_url"], data=_chunks(ticket["fields"], DATA, boundary),
                       headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
                       timeout=30)
    assert ok.status_code == 204
    assert object_path(relay_server, ticket["key"]).read_bytes() == DATA


def _read_until_closed(sock: socket.socket) -> str:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks).decode("latin-1")


def test_a_huge_declared_length_is_refused_before_reading(relay_server: LiveServer,
                                                          ticket: dict[str, Any]) -> None:
    url = urlsplit(ticket["upload_url"])
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall((f"POST {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
                      "Content-Type: multipart/form-data; boundary=b\r\n"
                      f"Content-Length: {600 * 1024 * 1024}\r\n\r\n").encode())
        reply = _read_until_closed(sock)
    assert reply.startswith("HTTP/1.1 400")
    assert "<Code>EntityTooLarge</Code>" in reply
    _assert_nothing_stored(relay_server, ticket)


def test_an_abandoned_upload_leaves_nothing_behind(relay_server: LiveServer,
                                                   ticket: dict[str, Any]) -> None:
    url = urlsplit(ticket["upload_url"])
    boundary = "b0undary"
    parts = list(_chunks(ticket["fields"], DATA, boundary))
    body_len = sum(len(p) for p in parts)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall((f"POST {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
                      f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                      f"Content-Length: {body_len}\r\n\r\n").encode())
        sent = 0
        for part in parts:  # everything but the last 1000 bytes, then hang up
            piece = part[:max(0, body_len - 1000 - sent)]
            sock.sendall(piece)
            sent += len(piece)
        time.sleep(0.3)
    deadline = time.monotonic() + 5
    while leftovers(object_path(relay_server, ticket["key"]).parent) and (
            time.monotonic() < deadline):
        time.sleep(0.05)
    _assert_nothing_stored(relay_server, ticket)


@pytest.mark.parametrize(("headers", "body"), [
    ({"Content-Type": "application/json"}, b"{}"),
    ({"Content-Type": "multipart/form-data"}, b"--x\r\n"),
    ({"Content-Type": "multipart/form-data; boundary=zz"}, b"this is not multipart"),
])
def test_malformed_posts_are_400(relay_server: LiveServer, ticket: dict[str, Any],
                                 headers: dict[str, str], body: bytes) -> None:
    r = requests.post(ticket["upload_url"], data=body, headers=headers, timeout=10)
    _assert_refused(r, 400, "MalformedPOSTRequest")
    _assert_nothing_stored(relay_server, ticket)


def test_form_without_file_part_is_refused(relay_server: LiveServer,
                                           ticket: dict[str, Any]) -> None:
    r = requests.post(ticket["upload_url"], files={k: (None, v)
                                                   for k, v in ticket["fields"].items()},
                      timeout=10)
    _assert_refused(r, 400, "MalformedPOSTRequest")
    _assert_nothing_stored(relay_server, ticket)


def test_unknown_bucket_is_404(ticket: dict[str, Any]) -> None:
    r = requests.post(ticket["upload_url"].replace("relay-local", "someone-else"),
                      data=ticket["fields"], files={"file": ("a", DATA)}, timeout=10)
    _assert_refused(r, 404, "NoSuchBucket")


def test_api_key_is_not_needed_nor_used_by_storage(api: Api, relay_server: LiveServer,
                                                   ticket: dict[str, Any]) -> None:
    r = requests.post(ticket["upload_url"], data=ticket["fields"],
                      files={"file": ("a.wav", DATA)},
                      headers={"X-API-Key": "definitely-not-valid"}, timeout=10)
    assert r.status_code == 204
    assert object_path(relay_server, ticket["key"]).read_bytes() == DATA


# ---- expiry, on a private server with short lifetimes ----
@pytest.fixture
def short_ttl_server(tmp_path: Path) -> Iterator[LiveServer]:
    env = server_env({"RELAY_UPLOAD_TTL_S": "1", "RELAY_DOWNLOAD_TTL_S": "1"})
    server = LiveServer(tmp_path / "ttl", env=env).start()
    try:
        yield server
    finally:
        server.stop()


def test_expired_policy_and_download_url_are_refused(short_ttl_server: LiveServer) -> None:
    api = Api(short_ttl_server.base_url, short_ttl_server.api_key)
    dataset = api.new_dataset("ttl")
    late = request_upload(api, dataset["id"], "late.wav", len(DATA))
    prompt = request_upload(api, dataset["id"], "prompt.wav", len(DATA))
    assert late["expires_in"] == 1
    assert storage_post(prompt, DATA).status_code == 204
    link = api.get(f"/api/v1/datasets/{dataset['id']}/audio/{prompt['audio_id']}/download-url"
                   ).json()
    assert link["expires_in"] == 1
    time.sleep(2.1)

    r = storage_post(late, DATA)
    _assert_refused(r, 403, "AccessDenied")
    assert "Request has expired" in r.text
    _assert_nothing_stored(short_ttl_server, late)
    assert get_audio(api, dataset["id"], late["audio_id"])["processing_status"] == "pending"

    expired = requests.get(link["download_url"], timeout=10)
    _assert_refused(expired, 403, "AccessDenied")
    assert "Request has expired" in expired.text
    fresh = api.get(f"/api/v1/datasets/{dataset['id']}/audio/{prompt['audio_id']}/download-url"
                    ).json()
    assert requests.get(fresh["download_url"], timeout=10).content == DATA
    api.close()


# ---- the policy checker itself ----
def test_verify_post_checks_every_condition_kind() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    fields = build_post_fields("s3cret", "relay-local", "a/b.wav", "audio/wav", 10, 10, 60, now)
    lowered = {k.lower(): v for k, v in fields.items()}
    size = verify_post("s3cret", "relay-local", lowered, 1000, now + timedelta(seconds=59))
    assert (size.minimum, size.maximum) == (10, 10)
    capped = build_post_fields("s3cret", "relay-local", "k", "audio/wav", 1, 10**12, 60, now)
    size = verify_post("s3cret", "relay-local", {k.lower(): v for k, v in capped.items()},
                       1000, now)
    assert size.maximum == 1000
    for secret, bucket, when, code in [
        ("other", "relay-local", now, "SignatureDoesNotMatch"),
        ("s3cret", "elsewhere", now, "AccessDenied"),
        ("s3cret", "relay-local", now + timedelta(seconds=60), "AccessDenied"),
    ]:
        with pytest.raises(StorageError) as info:
            verify_post(secret, bucket, lowered, 1000, when)
        assert info.value.code == code and info.value.status_code == 403
