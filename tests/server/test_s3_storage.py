"""S3Storage against a real S3-compatible HTTP server (moto's server on 127.0.0.1).

The emulator accepts uploads without enforcing POST policies, so the policy's
conditions are checked on the generated document itself; enforcement is
covered for LocalStorage in test_storage_policy.py.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.server.conftest import Api
from tests.server.test_audio_upload import make_audio, request_upload, wait_processed
from tests.support.live_server import LiveServer, server_env
from tests.support.moto_s3 import moto_s3

BUCKET = "relay-test"
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1"}

boto3 = pytest.importorskip("boto3")


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto S3 server on a free loopback port, with one bucket."""
    with moto_s3(tmp_path_factory.mktemp("moto"), BUCKET) as url:
        yield url


def _client(endpoint: str):  # type: ignore[no-untyped-def]
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing",
                        aws_secret_access_key="testing", region_name="us-east-1")


@pytest.fixture
def storage(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from relay_server.storage.s3 import S3Storage

    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    return S3Storage(BUCKET, 120, 1000, endpoint_url=s3_endpoint)


def test_presigned_post_round_trip(storage, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    key = "tenants/t/datasets/d/audio/a/take.wav"
    post = storage.presign_upload(key, "audio/wav", 12, "http://ignored/")
    assert post.url.endswith(f"/{BUCKET}") and post.key == key and post.expires_in == 120
    assert post.fields["key"] == key and post.fields["Content-Type"] == "audio/wav"
    assert post.fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    policy = json.loads(base64.b64decode(post.fields["policy"]))
    assert ["content-length-range", 12, 12] in policy["conditions"]
    assert {"Content-Type": "audio/wav"} in policy["conditions"]
    assert {"key": key} in policy["conditions"] and {"bucket": BUCKET} in policy["conditions"]

    assert not storage.exists(key)
    r = requests.post(post.url, data=post.fields, files={"file": ("take.wav", b"hello world!")},
                      timeout=30)
    assert r.status_code == 204, r.text
    assert storage.exists(key) and storage.size(key) == 12
    with storage.open(key) as fh:
        assert fh.read() == b"hello world!"
    with storage.local_copy(key) as path:
        assert path.read_bytes() == b"hello world!"
    assert not path.exists()
    got = requests.get(storage.download_url(key, 60, "http://ignored/"), timeout=30)
    assert got.status_code == 200 and got.content == b"hello world!"

    source = tmp_path / "n.flac"
    source.write_bytes(b"derived")
    storage.put_file("tenants/t/datasets/d/audio/a/derived/n.flac", source, "audio/flac")
    storage.put_bytes("tenants/t/datasets/d/audio/b/x.wav", b"x")
    assert sorted(storage.list_keys("tenants/t/datasets/d/audio/a/")) == [
        "tenants/t/datasets/d/audio/a/derived/n.flac", key]
    assert storage.delete_prefix("tenants/t/datasets/d/audio/a/") == 2
    assert not storage.exists(key)
    assert storage.exists("tenants/t/datasets/d/audio/b/x.wav")
    storage.delete("tenants/t/datasets/d/audio/b/x.wav")
    assert not storage.exists("tenants/t/datasets/d/audio/b/x.wav")


def test_policy_size_is_capped(storage) -> None:  # type: ignore[no-untyped-def]
    post = storage.presign_upload("k.wav", "audio/ogg", 10**9, "")
    policy = json.loads(base64.b64decode(post.fields["policy"]))
    assert ["content-length-range", 1000, 1000] in policy["conditions"]


def test_missing_object_is_reported(storage) -> None:  # type: ignore[no-untyped-def]
    from relay_server.storage.errors import ObjectNotFound

    assert not storage.exists("nope")
    with pytest.raises(ObjectNotFound):
        storage.size("nope")
    with pytest.raises(ObjectNotFound), storage.local_copy("nope"):
        pass


@pytest.fixture
def s3_server(s3_endpoint: str, tmp_path: Path) -> Iterator[LiveServer]:
    env = server_env({"RELAY_STORAGE": "s3", "RELAY_S3_BUCKET": BUCKET,
                      "RELAY_S3_ENDPOINT_URL": s3_endpoint, **AWS_ENV})
    server = LiveServer(tmp_path / "s3-server", env=env).start()
    try:
        yield server
    finally:
        server.stop()


def test_server_on_s3_uploads_processes_and_deletes(s3_server: LiveServer,
                                                    s3_endpoint: str) -> None:
    api = Api(s3_server.base_url, s3_server.api_key)
    dataset = api.new_dataset("on s3")
    data = make_audio(1.0, 24_000, 1)
    ticket = request_upload(api, dataset["id"], "s3.wav", len(data))
    assert ticket["upload_url"].startswith(s3_endpoint)
    r = requests.post(ticket["upload_url"], data=ticket["fields"],
                      files={"file": ("s3.wav", data)}, timeout=30)
    assert r.status_code == 204
    confirm = api.post(f"/api/v1/datasets/{dataset['id']}/audio/confirm",
                       json={"audio_id": ticket["audio_id"]})
    assert confirm.status_code == 200
    item = wait_processed(api, dataset["id"], ticket["audio_id"])
    assert item["processing_status"] == "ready", item
    assert (item["duration_ms"], item["sample_rate"], item["channels"]) == (1000, 24_000, 1)

    client = _client(s3_endpoint)
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=ticket["key"].rsplit("/", 1)[0])
    names = sorted(o["Key"].rsplit("/", 1)[-1] for o in listed["Contents"])
    assert names == ["features.npy", "normalized.flac", "s3.wav"]

    link = api.get(f"/api/v1/datasets/{dataset['id']}/audio/{ticket['audio_id']}/download-url")
    assert requests.get(link.json()["download_url"], timeout=30).content == data
    assert api.delete(f"/api/v1/datasets/{dataset['id']}/audio/{ticket['audio_id']}"
                      ).status_code == 204
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=ticket["key"].rsplit("/", 1)[0])
    assert listed.get("KeyCount", 0) == 0
    api.close()
