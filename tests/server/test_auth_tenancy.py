"""API keys and tenancy: 401s, hashed storage, and another tenant's data is a 404."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from relay_server.auth import hash_key
from relay_server.db.models import ApiKey
from tests.server.conftest import Api
from tests.support.live_server import LiveServer

ENDPOINTS = [
    ("GET", "/api/v1/datasets"),
    ("POST", "/api/v1/datasets"),
    ("GET", "/api/v1/datasets/{ds}"),
    ("PATCH", "/api/v1/datasets/{ds}"),
    ("DELETE", "/api/v1/datasets/{ds}"),
    ("POST", "/api/v1/datasets/{ds}/annotation-sets"),
    ("GET", "/api/v1/datasets/{ds}/annotation-sets"),
    ("GET", "/api/v1/datasets/{ds}/annotation-sets/{set}"),
    ("POST", "/api/v1/datasets/{ds}/annotation-sets/{set}/publish"),
    ("POST", "/api/v1/datasets/{ds}/annotation-sets/{set}/annotations"),
    ("POST", "/api/v1/datasets/{ds}/annotation-sets/{set}/annotations/bulk"),
    ("PATCH", "/api/v1/datasets/{ds}/annotation-sets/{set}/annotations/{ann}"),
    ("DELETE", "/api/v1/datasets/{ds}/annotation-sets/{set}/annotations/{ann}"),
]


@pytest.fixture
def owned(api: Api, dataset: dict[str, Any], audio_ids: list[str]) -> dict[str, str]:
    """A dataset, a draft set and an annotation of the first tenant."""
    s = api.new_set(dataset["id"])
    r = api.post(f"/api/v1/datasets/{dataset['id']}/annotation-sets/{s['id']}/annotations",
                 json={"audio_file_id": audio_ids[0], "artifact_type": "glitch",
                       "start_ms": 1, "end_ms": 2})
    assert r.status_code == 201
    return {"ds": dataset["id"], "set": s["id"], "ann": r.json()["id"],
            "audio": audio_ids[0]}


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_needs_a_key(relay_server: LiveServer, owned: dict[str, str],
                                    method: str, path: str) -> None:
    for key in (None, "", "rl_unknown-key"):
        client = Api(relay_server.base_url, key)
        try:
            r = client.request(method, path.format(**owned), json={"name": "x"})
        finally:
            client.close()
        assert r.status_code == 401, (method, path, key)
        assert "API key" in r.json()["detail"]


def test_401_comes_before_body_parsing(relay_server: LiveServer) -> None:
    client = Api(relay_server.base_url, None)
    try:
        r = client.post("/api/v1/datasets", data="{not json",
                        headers={"Content-Type": "application/json"})
    finally:
        client.close()
    assert r.status_code == 401


def test_keys_are_stored_hashed(relay_server: LiveServer, server_db: Engine) -> None:
    with Session(server_db) as session:
        rows = list(session.scalars(select(ApiKey)))
    hashes = {row.key_hash for row in rows}
    assert hash_key(relay_server.api_key) in hashes
    assert relay_server.api_key not in hashes
    assert all(len(h) == 64 for h in hashes)


@pytest.mark.parametrize(("method", "path"), [e for e in ENDPOINTS if "{ds}" in e[1]])
def test_other_tenant_gets_404_and_changes_nothing(
        api: Api, other_api: Api, owned: dict[str, str], method: str, path: str) -> None:
    body: Any = {"name": "stolen"}
    if "/annotations" in path:
        body = {"audio_file_id": owned["audio"], "artifact_type": "glitch",
                "start_ms": 1, "end_ms": 2}
    if path.endswith("/bulk"):
        body = {"annotations": [body]}
    r = other_api.request(method, path.format(**owned), json=body)
    assert r.status_code == 404, (method, path, r.text)
    assert r.json()["detail"].endswith("not found")
    detail = api.get(f"/api/v1/datasets/{owned['ds']}/annotation-sets/{owned['set']}")
    assert detail.status_code == 200
    assert detail.json()["status"] == "draft"
    assert [a["id"] for a in detail.json()["annotations"]] == [owned["ann"]]
    assert api.get(f"/api/v1/datasets/{owned['ds']}").json()["name"] != "stolen"


def test_other_tenant_lists_are_empty(api: Api, other_api: Api, owned: dict[str, str]) -> None:
    mine = api.get("/api/v1/datasets", params={"page_size": 100}).json()
    assert mine["total"] >= 1
    theirs = other_api.get("/api/v1/datasets").json()
    assert owned["ds"] not in [d["id"] for d in theirs["items"]]
    assert other_api.get(f"/api/v1/datasets/{owned['ds']}/annotation-sets").status_code == 404


def test_new_tenant_sees_an_empty_list(relay_server: LiveServer) -> None:
    client = Api(relay_server.base_url, relay_server.new_key("tenant-empty"))
    try:
        body = client.get("/api/v1/datasets").json()
    finally:
        client.close()
    assert body == {"items": [], "total": 0, "page": 1, "page_size": 20, "has_more": False}


def test_other_tenant_cannot_annotate_with_my_audio(
        other_api: Api, owned: dict[str, str]) -> None:
    ds = other_api.new_dataset("theirs")
    s = other_api.new_set(ds["id"])
    r = other_api.post(f"/api/v1/datasets/{ds['id']}/annotation-sets/{s['id']}/annotations",
                       json={"audio_file_id": owned["audio"], "artifact_type": "glitch",
                             "start_ms": 1, "end_ms": 2})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "audio_file_id"]


def test_create_key_cli_prints_a_working_key_last(relay_server: LiveServer) -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "relay_server", "create-key", "--data-dir",
         str(relay_server.data_dir), "--tenant", "default"],
        capture_output=True, text=True, env=relay_server.env, check=True, timeout=60)
    key = out.stdout.strip().splitlines()[-1]
    assert key.startswith("rl_") and key not in out.stderr
    client = Api(relay_server.base_url, key)
    first = Api(relay_server.base_url, relay_server.api_key)
    try:  # a second key of the same tenant sees the same data
        assert client.get("/api/v1/datasets").json()["total"] == \
            first.get("/api/v1/datasets").json()["total"]
    finally:
        client.close()
        first.close()
    bad = subprocess.run(
        [sys.executable, "-m", "relay_server", "create-key", "--data-dir",
         str(relay_server.data_dir), "--tenant", " "],
        capture_output=True, text=True, env=relay_server.env, timeout=60)
    assert bad.returncode == 2 and "--tenant" in bad.stderr and bad.stdout == ""


def test_serve_answers_keep_alive_requests_without_delayed_acks(api: Api) -> None:
    """`serve` binds a TCP socket asyncio marks TCP_NODELAY; without it every reused
    connection waited ~40 ms for the client's delayed ACK."""
    import statistics
    import time

    samples = []
    for _ in range(15):
        start = time.perf_counter()
        assert api.get("/api/v1/datasets", params={"page_size": 1}).status_code == 200
        samples.append(time.perf_counter() - start)
    assert statistics.median(samples) < 0.035, samples
