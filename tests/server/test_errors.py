"""Error shapes: malformed bodies, wrong content types and bad path ids never give a 500."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.server.conftest import Api


def _assert_validation_shape(body: dict[str, Any]) -> None:
    assert isinstance(body["detail"], list) and body["detail"]
    for item in body["detail"]:
        assert set(item) == {"loc", "msg", "type"}
        assert isinstance(item["loc"], list) and isinstance(item["msg"], str)


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2", b"\xff\xfe", b"null", b"[]",
                                 b'"name"', b"{\"name\": NaN}"])
def test_malformed_json_is_422_not_500(api: Api, raw: bytes) -> None:
    r = api.post("/api/v1/datasets", data=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 422, (raw, r.status_code, r.text)
    _assert_validation_shape(r.json())


def test_invalid_json_message_is_readable(api: Api) -> None:
    r = api.post("/api/v1/datasets", data=b"{\"name\": ", headers={
        "Content-Type": "application/json"})
    item = r.json()["detail"][0]
    assert item["type"] == "json_invalid" and "not valid JSON" in item["msg"]


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x", "application/xml"])
def test_wrong_content_type_is_422(api: Api, ctype: str) -> None:
    r = api.post("/api/v1/datasets", data=b'{"name": "x"}', headers={"Content-Type": ctype})
    assert r.status_code == 422, (ctype, r.text)
    _assert_validation_shape(r.json())


@pytest.mark.parametrize("path", [
    "/api/v1/datasets/not-a-uuid",
    "/api/v1/datasets/123/annotation-sets",
    "/api/v1/datasets/{ds}/annotation-sets/zzz",
    "/api/v1/datasets/{ds}/annotation-sets/zzz/publish",
])
def test_malformed_path_ids_are_404(api: Api, dataset: dict[str, Any], path: str) -> None:
    method = "POST" if path.endswith("publish") else "GET"
    r = api.request(method, path.format(ds=dataset["id"]))
    assert r.status_code == 404
    assert r.json()["detail"].endswith("not found")


def test_malformed_annotation_id_is_404(api: Api, dataset: dict[str, Any]) -> None:
    s = api.new_set(dataset["id"])
    r = api.delete(f"/api/v1/datasets/{dataset['id']}/annotation-sets/{s['id']}/annotations/x")
    assert r.status_code == 404 and r.json() == {"detail": "Annotation not found"}


def test_unknown_route_and_method(api: Api) -> None:
    r = api.get("/api/v1/nothing-here")
    assert r.status_code == 404 and isinstance(r.json()["detail"], str)
    r = api.request("PUT", "/api/v1/datasets")
    assert r.status_code == 405 and isinstance(r.json()["detail"], str)


@pytest.mark.parametrize("body", [
    {"name": "a\x00b"},
    {"name": "ok", "description": "nul\x00"},
    {"name": "ok", "artifact_types": [{"name": "g\x00"}]},
    {"name": "ok", "artifact_types": "glitch"},
    {"name": "ok", "artifact_types": [None]},
    {"name": 5},
])
def test_unstorable_or_mistyped_values_are_422(api: Api, body: dict[str, Any]) -> None:
    r = api.post("/api/v1/datasets", json=body)
    assert r.status_code == 422, r.text
    _assert_validation_shape(r.json())


def test_annotation_bodies_that_would_break_storage(api: Api, dataset: dict[str, Any],
                                                    audio_ids: list[str]) -> None:
    s = api.new_set(dataset["id"])
    url = f"/api/v1/datasets/{dataset['id']}/annotation-sets/{s['id']}/annotations"
    base = {"audio_file_id": audio_ids[0], "artifact_type": "glitch", "start_ms": 0,
            "end_ms": 10}
    raw = ('{"audio_file_id": "' + audio_ids[0] + '", "artifact_type": "glitch", '
           '"start_ms": 0, "end_ms": 10, "extra_data": {"x": NaN}}')
    r = api.post(url, data=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][:2] == ["body", "extra_data"]
    for over in ({"start_ms": 2**70}, {"end_ms": 2**70}, {"confidence": "high"},
                 {"audio_file_id": "nope"}, {"extra_data": {"s": "a\x00"}}):
        r = api.post(url, json={**base, **over})
        assert r.status_code == 422, (over, r.text)
        assert r.json()["detail"][0]["loc"][:2] == ["body", next(iter(over))]
    r = api.post(url, json={**base, "unknown_field": 1})
    assert r.status_code == 201  # unknown fields are ignored
    assert api.get(f"/api/v1/datasets/{uuid.uuid4()}").json() == {"detail": "Dataset not found"}
