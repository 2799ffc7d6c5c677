"""Annotations over HTTP: create, bulk (all-or-nothing), patch, delete, validation, locks."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.server.conftest import Api, add_audio


@pytest.fixture
def draft(api: Api, dataset: dict[str, Any]) -> dict[str, Any]:
    return api.new_set(dataset["id"])


def _base(dataset: dict[str, Any], s: dict[str, Any]) -> str:
    return f"/api/v1/datasets/{dataset['id']}/annotation-sets/{s['id']}/annotations"


def _item(audio_id: str, **over: Any) -> dict[str, Any]:
    return {"audio_file_id": audio_id, "artifact_type": "glitch", "start_ms": 100,
            "end_ms": 200, **over}


def _count(api: Api, dataset: dict[str, Any], s: dict[str, Any]) -> int:
    r = api.get(f"/api/v1/datasets/{dataset['id']}/annotation-sets/{s['id']}")
    return len(r.json()["annotations"])


def test_create_returns_the_annotation(api: Api, dataset: dict[str, Any],
                                       draft: dict[str, Any], audio_ids: list[str]) -> None:
    r = api.post(_base(dataset, draft), json=_item(audio_ids[0], extra_data={"note": "pop"}))
    assert r.status_code == 201
    body = r.json()
    uuid.UUID(body["id"])
    assert body["annotation_set_id"] == draft["id"]
    assert body["audio_file_id"] == audio_ids[0]
    assert (body["artifact_type"], body["start_ms"], body["end_ms"]) == ("glitch", 100, 200)
    assert body["confidence"] == 1.0
    assert body["extra_data"] == {"note": "pop"}
    assert body["created_at"].endswith("Z")
    stored = api.get(f"/api/v1/datasets/{dataset['id']}/annotation-sets/{draft['id']}")
    assert stored.json()["annotations"] == [body]


@pytest.mark.parametrize(("override", "field"), [
    ({"artifact_type": "hiss"}, "artifact_type"),
    ({"start_ms": 200, "end_ms": 200}, "end_ms"),
    ({"start_ms": 300, "end_ms": 200}, "end_ms"),
    ({"end_ms": 60_001}, "end_ms"),
    ({"start_ms": -1}, "start_ms"),
    ({"confidence": 1.5}, "confidence"),
    ({"confidence": -0.1}, "confidence"),
    ({"extra_data": [1, 2]}, "extra_data"),
    ({"artifact_type": ""}, "artifact_type"),
])
def test_single_create_validation_locations(api: Api, dataset: dict[str, Any],
                                            draft: dict[str, Any], audio_ids: list[str],
                                            override: dict[str, Any], field: str) -> None:
    r = api.post(_base(dataset, draft), json=_item(audio_ids[0], **override))
    assert r.status_code == 422, r.text
    locs = [d["loc"] for d in r.json()["detail"]]
    assert ["body", field] in locs
    assert all(isinstance(d["msg"], str) and d["msg"] for d in r.json()["detail"])
    assert _count(api, dataset, draft) == 0


def test_audio_of_another_dataset_is_422_at_audio_file_id(
        api: Api, dataset: dict[str, Any], draft: dict[str, Any], server_db: Engine) -> None:
    other = api.new_dataset("other")
    foreign = add_audio(server_db, other["id"], 1)[0]
    for audio_id in (foreign, str(uuid.uuid4())):
        r = api.post(_base(dataset, draft), json=_item(audio_id))
        assert r.status_code == 422
        assert r.json()["detail"][0]["loc"] == ["body", "audio_file_id"]


def test_unknown_duration_skips_the_end_check(api: Api, dataset: dict[str, Any],
                                              draft: dict[str, Any], server_db: Engine) -> None:
    pending = add_audio(server_db, dataset["id"], 1, duration_ms=None)[0]
    r = api.post(_base(dataset, draft), json=_item(pending, end_ms=10_000_000))
    assert r.status_code == 201
    r = api.post(_base(dataset, draft), json=_item(pending, end_ms=2**60))
    assert r.status_code == 422  # beyond what the server stores


def test_confidence_bounds_are_inclusive(api: Api, dataset: dict[str, Any],
                                         draft: dict[str, Any], audio_ids: list[str]) -> None:
    for value in (0, 1, 0.5):
        r = api.post(_base(dataset, draft), json=_item(audio_ids[0], confidence=value))
        assert r.status_code == 201 and r.json()["confidence"] == value
    r = api.post(_base(dataset, draft), json=_item(audio_ids[0], end_ms=60_000))
    assert r.status_code == 201  # ending exactly at the duration is fine


def test_bulk_creates_all(api: Api, dataset: dict[str, Any], draft: dict[str, Any],
                          audio_ids: list[str]) -> None:
    items = [_item(audio_ids[i % 2], start_ms=i * 10, end_ms=i * 10 + 5) for i in range(50)]
    r = api.post(_base(dataset, draft) + "/bulk", json={"annotations": items})
    assert r.status_code == 201
    body = r.json()
    assert body["created"] == 50 and len(body["annotations"]) == 50
    assert [a["start_ms"] for a in body["annotations"]] == [i * 10 for i in range(50)]
    assert len({a["id"] for a in body["annotations"]}) == 50
    assert _count(api, dataset, draft) == 50


def test_bulk_empty_list_creates_nothing(api: Api, dataset: dict[str, Any],
                                         draft: dict[str, Any]) -> None:
    r = api.post(_base(dataset, draft) + "/bulk", json={"annotations": []})
    assert r.status_code == 201 and r.json() == {"created": 0, "annotations": []}


def test_bulk_is_all_or_nothing_and_lists_every_bad_item(
        api: Api, dataset: dict[str, Any], draft: dict[str, Any], audio_ids: list[str]) -> None:
    items = [_item(audio_ids[0], start_ms=i, end_ms=i + 1) for i in range(6)]
    items[1]["artifact_type"] = "hiss"
    items[3]["end_ms"] = 0
    items[4]["audio_file_id"] = str(uuid.uuid4())
    r = api.post(_base(dataset, draft) + "/bulk", json={"annotations": items})
    assert r.status_code == 422
    locs = [d["loc"] for d in r.json()["detail"]]
    assert locs == [["body", "annotations", 1, "artifact_type"],
                    ["body", "annotations", 3, "end_ms"],
                    ["body", "annotations", 4, "audio_file_id"]]
    assert _count(api, dataset, draft) == 0


def test_bulk_schema_errors_are_located_per_item(
        api: Api, dataset: dict[str, Any], draft: dict[str, Any], audio_ids: list[str]) -> None:
    items = [_item(audio_ids[0]), _item(audio_ids[0], confidence=2), _item(audio_ids[0])]
    del items[2]["start_ms"]
    r = api.post(_base(dataset, draft) + "/bulk", json={"annotations": items})
    assert r.status_code == 422
    locs = [d["loc"] for d in r.json()["detail"]]
    assert locs == [["body", "annotations", 1, "confidence"],
                    ["body", "annotations", 2, "start_ms"]]
    assert _count(api, dataset, draft) == 0


def test_bulk_batch_cap(api: Api, dataset: dict[str, Any], draft: dict[str, Any],
                        audio_ids: list[str]) -> None:
    one = _item(audio_ids[0], start_ms=0, end_ms=1)
    r = api.post(_base(dataset, draft) + "/bulk", json={"annotations": [one] * 10_001})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "annotations"]
    assert "10000" in r.json()["detail"][0]["msg"].replace(",", "")
    assert _count(api, dataset, draft) == 0


def test_patch_is_partial_and_revalidated(api: Api, dataset: dict[str, Any],
                                          draft: dict[str, Any], audio_ids: list[str]) -> None:
    created = api.post(_base(dataset, draft), json=_item(audio_ids[0])).json()
    url = f"{_base(dataset, draft)}/{created['id']}"
    r = api.patch(url, json={"end_ms": 400, "confidence": 0.25})
    assert r.status_code == 200
    body = r.json()
    assert (body["start_ms"], body["end_ms"], body["confidence"]) == (100, 400, 0.25)
    assert body["artifact_type"] == "glitch" and body["id"] == created["id"]
    assert body["created_at"] == created["created_at"]
    r = api.patch(url, json={"start_ms": 500})  # would end before it starts
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "end_ms"]
    r = api.patch(url, json={"artifact_type": "hiss"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "artifact_type"]
    r = api.patch(url, json={"start_ms": None})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "start_ms"]
    r = api.patch(url, json={"audio_file_id": audio_ids[1], "artifact_type": "click",
                             "extra_data": {"k": [1, "two"]}})
    assert r.status_code == 200
    assert (r.json()["audio_file_id"], r.json()["artifact_type"]) == (audio_ids[1], "click")
    assert r.json()["extra_data"] == {"k": [1, "two"]}
    stored = api.get(f"/api/v1/datasets/{dataset['id']}/annotation-sets/{draft['id']}").json()
    assert stored["annotations"] == [r.json()]


def test_delete_then_404(api: Api, dataset: dict[str, Any], draft: dict[str, Any],
                         audio_ids: list[str]) -> None:
    created = api.post(_base(dataset, draft), json=_item(audio_ids[0])).json()
    url = f"{_base(dataset, draft)}/{created['id']}"
    r = api.delete(url)
    assert r.status_code == 204 and r.content == b""
    assert _count(api, dataset, draft) == 0
    r = api.delete(url)
    assert r.status_code == 404 and r.json() == {"detail": "Annotation not found"}
    assert api.patch(url, json={"end_ms": 300}).status_code == 404


def test_published_set_refuses_every_write_with_409(
        api: Api, dataset: dict[str, Any], draft: dict[str, Any], audio_ids: list[str]) -> None:
    created = api.post(_base(dataset, draft), json=_item(audio_ids[0])).json()
    pub = api.post(f"/api/v1/datasets/{dataset['id']}/annotation-sets/{draft['id']}/publish")
    assert pub.status_code == 200
    url = f"{_base(dataset, draft)}/{created['id']}"
    expected = (f"Annotation set v{draft['version']} is published and cannot be changed; "
                "create a new draft to edit labels")
    for r in (api.post(_base(dataset, draft), json=_item(audio_ids[0])),
              api.post(_base(dataset, draft) + "/bulk", json={"annotations": [
                  _item(audio_ids[0])]}),
              api.patch(url, json={"end_ms": 300}),
              api.delete(url)):
        assert r.status_code == 409
        assert r.json() == {"detail": expected}
    detail = api.get(f"/api/v1/datasets/{dataset['id']}/annotation-sets/{draft['id']}").json()
    assert detail["annotations"] == [created]


def test_annotation_of_another_set_is_404(api: Api, dataset: dict[str, Any],
                                          draft: dict[str, Any], audio_ids: list[str]) -> None:
    created = api.post(_base(dataset, draft), json=_item(audio_ids[0])).json()
    other = api.new_set(dataset["id"])
    r = api.patch(f"{_base(dataset, other)}/{created['id']}", json={"end_ms": 300})
    assert r.status_code == 404
    assert api.delete(f"{_base(dataset, other)}/{created['id']}").status_code == 404
    assert _count(api, dataset, draft) == 1
