"""Annotation sets over HTTP: versions, list, detail ordering, publish and its statistics."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from relay_server.routers.annotation_sets import union_length
from tests.server.conftest import Api

ISO_Z_SUFFIX = "Z"


def _sets(dataset_id: str) -> str:
    return f"/api/v1/datasets/{dataset_id}/annotation-sets"


def _bulk(api: Api, dataset_id: str, set_id: str, items: list[dict[str, Any]]) -> None:
    r = api.post(f"{_sets(dataset_id)}/{set_id}/annotations/bulk", json={"annotations": items})
    assert r.status_code == 201, r.text


def test_create_is_a_draft_with_increasing_versions(api: Api, dataset: dict[str, Any]) -> None:
    first = api.new_set(dataset["id"])
    second = api.new_set(dataset["id"])
    assert (first["version"], second["version"]) == (1, 2)
    assert first["status"] == "draft" and first["published_at"] is None
    assert first["dataset_id"] == dataset["id"]
    assert first["total_annotations"] == 0 and first["annotations_by_type"] == {}
    assert first["created_at"].endswith(ISO_Z_SUFFIX)


def test_versions_are_per_dataset(api: Api) -> None:
    a = api.new_dataset("a")
    b = api.new_dataset("b")
    assert api.new_set(a["id"])["version"] == 1
    assert api.new_set(b["id"])["version"] == 1
    assert api.new_set(a["id"])["version"] == 2


def test_concurrent_creates_get_distinct_versions(api: Api, relay_server: Any) -> None:
    ds = api.new_dataset("race")

    def create(_: int) -> tuple[int, int]:
        client = Api(relay_server.base_url, relay_server.api_key)
        try:
            r = client.post(_sets(ds["id"]))
            return r.status_code, r.json().get("version", -1)
        finally:
            client.close()

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(create, range(16)))
    assert all(code == 201 for code, _ in results), results
    assert sorted(v for _, v in results) == list(range(1, 17))


def test_create_in_unknown_dataset_is_404(api: Api) -> None:
    r = api.post(_sets(str(uuid.uuid4())))
    assert r.status_code == 404 and r.json() == {"detail": "Dataset not found"}


def test_list_is_ordered_by_version_with_total(api: Api, dataset: dict[str, Any]) -> None:
    made = [api.new_set(dataset["id"]) for _ in range(3)]
    body = api.get(_sets(dataset["id"])).json()
    assert body["total"] == 3 and body["has_more"] is False
    assert [s["id"] for s in body["items"]] == [s["id"] for s in made]
    assert body["page_size"] == 100
    page = api.get(_sets(dataset["id"]), params={"page": 2, "page_size": 2}).json()
    assert [s["version"] for s in page["items"]] == [3] and page["has_more"] is False


def test_detail_has_annotations_ordered_by_file_then_start(
        api: Api, dataset: dict[str, Any], audio_ids: list[str]) -> None:
    s = api.new_set(dataset["id"])
    a, b = sorted(audio_ids)
    _bulk(api, dataset["id"], s["id"], [
        {"audio_file_id": b, "artifact_type": "glitch", "start_ms": 5, "end_ms": 6},
        {"audio_file_id": a, "artifact_type": "click", "start_ms": 900, "end_ms": 950},
        {"audio_file_id": a, "artifact_type": "glitch", "start_ms": 100, "end_ms": 200},
        {"audio_file_id": b, "artifact_type": "click", "start_ms": 1, "end_ms": 2},
    ])
    r = api.get(f"{_sets(dataset['id'])}/{s['id']}")
    assert r.status_code == 200
    got = [(x["audio_file_id"], x["start_ms"]) for x in r.json()["annotations"]]
    assert got == [(a, 100), (a, 900), (b, 1), (b, 5)]
    assert r.json()["total_annotations"] == 4  # a draft reports live counts


def test_publish_computes_union_statistics_and_locks(
        api: Api, dataset: dict[str, Any], audio_ids: list[str]) -> None:
    s = api.new_set(dataset["id"])
    a, b = audio_ids
    _bulk(api, dataset["id"], s["id"], [
        {"audio_file_id": a, "artifact_type": "glitch", "start_ms": 0, "end_ms": 1000},
        {"audio_file_id": a, "artifact_type": "click", "start_ms": 500, "end_ms": 1500},
        {"audio_file_id": a, "artifact_type": "click", "start_ms": 3000, "end_ms": 3100},
        {"audio_file_id": b, "artifact_type": "glitch", "start_ms": 500, "end_ms": 1500},
    ])
    r = api.post(f"{_sets(dataset['id'])}/{s['id']}/publish")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "published" and body["published_at"].endswith("Z")
    assert body["total_annotations"] == 4
    # a: [0,1500) + [3000,3100) = 1600; b: 1000. Overlap on a is counted once.
    assert body["total_positive_duration_ms"] == 2600
    assert body["annotations_by_type"] == {"glitch": 2, "click": 2}
    again = api.post(f"{_sets(dataset['id'])}/{s['id']}/publish")
    assert again.status_code == 409
    assert "v1" in again.json()["detail"] and "published" in again.json()["detail"]
    detail = api.get(f"{_sets(dataset['id'])}/{s['id']}").json()
    assert detail["status"] == "published" and len(detail["annotations"]) == 4
    assert detail["total_positive_duration_ms"] == 2600


def test_publishing_an_empty_set_is_allowed(api: Api, dataset: dict[str, Any]) -> None:
    s = api.new_set(dataset["id"])
    r = api.post(f"{_sets(dataset['id'])}/{s['id']}/publish")
    assert r.status_code == 200
    assert r.json()["total_annotations"] == 0 and r.json()["annotations_by_type"] == {}


def test_concurrent_publish_has_exactly_one_winner(
        api: Api, relay_server: Any, dataset: dict[str, Any]) -> None:
    s = api.new_set(dataset["id"])

    def publish(_: int) -> int:
        client = Api(relay_server.base_url, relay_server.api_key)
        try:
            return client.post(f"{_sets(dataset['id'])}/{s['id']}/publish").status_code
        finally:
            client.close()

    with ThreadPoolExecutor(6) as pool:
        codes = sorted(pool.map(publish, range(6)))
    assert codes == [200] + [409] * 5


def test_set_must_belong_to_the_dataset_in_the_path(api: Api) -> None:
    a = api.new_dataset("a")
    b = api.new_dataset("b")
    s = api.new_set(a["id"])
    assert api.get(f"{_sets(b['id'])}/{s['id']}").status_code == 404
    r = api.post(f"{_sets(b['id'])}/{s['id']}/publish")
    assert r.status_code == 404 and r.json() == {"detail": "Annotation set not found"}
    assert api.get(f"{_sets(a['id'])}/{s['id']}").json()["status"] == "draft"


def test_unknown_set_and_dataset_are_404(api: Api, dataset: dict[str, Any]) -> None:
    r = api.get(f"{_sets(dataset['id'])}/{uuid.uuid4()}")
    assert r.status_code == 404 and r.json() == {"detail": "Annotation set not found"}
    r = api.get(_sets(str(uuid.uuid4())))
    assert r.status_code == 404 and r.json() == {"detail": "Dataset not found"}


def test_union_length() -> None:
    assert union_length([]) == 0
    assert union_length([(0, 10)]) == 10
    assert union_length([(0, 10), (5, 15)]) == 15
    assert union_length([(0, 10), (10, 20)]) == 20
    assert union_length([(20, 30), (0, 10), (2, 3)]) == 20
    assert union_length([(0, 100), (10, 20), (30, 40)]) == 100
