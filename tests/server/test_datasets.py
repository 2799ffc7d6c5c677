"""Datasets over HTTP: create, get, list counts, patch, delete with its cascade."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from relay_server.db.models import Annotation, AnnotationSet, AudioFile
from tests.server.conftest import Api, add_audio
from tests.support.live_server import LiveServer

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def test_create_returns_201_with_defaults_and_z_timestamps(api: Api) -> None:
    r = api.post("/api/v1/datasets", json={
        "name": "TTS Glitch Detection", "description": "Detect glitches",
        "artifact_types": [{"name": "glitch", "description": "pop", "color": "#ff4444"},
                           {"name": "long_pause"}]})
    assert r.status_code == 201
    body = r.json()
    uuid.UUID(body["id"])
    assert body["name"] == "TTS Glitch Detection"
    assert body["description"] == "Detect glitches"
    assert body["artifact_types"] == [
        {"name": "glitch", "description": "pop", "color": "#ff4444"},
        {"name": "long_pause", "description": None, "color": "#FF0000"},
    ]
    assert ISO_Z.match(body["created_at"]) and ISO_Z.match(body["updated_at"])
    assert "audio_count" not in body and "annotation_set_count" not in body


def test_get_has_no_list_only_counts(api: Api, dataset: dict[str, Any]) -> None:
    r = api.get(f"/api/v1/datasets/{dataset['id']}")
    assert r.status_code == 200
    assert r.json() == dataset


def test_get_unknown_is_404_with_detail(api: Api) -> None:
    r = api.get(f"/api/v1/datasets/{uuid.uuid4()}")
    assert r.status_code == 404
    assert r.json() == {"detail": "Dataset not found"}


def test_minimal_create_without_types(api: Api) -> None:
    r = api.post("/api/v1/datasets", json={"name": "bare"})
    assert r.status_code == 201
    assert r.json()["artifact_types"] == [] and r.json()["description"] is None


def test_duplicate_type_names_point_at_the_duplicate(api: Api) -> None:
    r = api.post("/api/v1/datasets", json={"name": "d", "artifact_types": [
        {"name": "glitch"}, {"name": "click"}, {"name": "glitch"}]})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert [d["loc"] for d in detail] == [["body", "artifact_types", 2, "name"]]
    assert "unique" in detail[0]["msg"]


def test_bad_colour_and_name_lengths_are_422(api: Api) -> None:
    for color in ("red", "#12345", "#1234567", "#GGGGGG", "FF0000"):
        r = api.post("/api/v1/datasets", json={"name": "d", "artifact_types": [
            {"name": "glitch", "color": color}]})
        assert r.status_code == 422, color
        assert r.json()["detail"][0]["loc"] == ["body", "artifact_types", 0, "color"]
    for name in ("", "x" * 501, "   "):
        r = api.post("/api/v1/datasets", json={"name": name})
        assert r.status_code == 422
        assert r.json()["detail"][0]["loc"] == ["body", "name"]
    assert api.post("/api/v1/datasets", json={"name": "x" * 500}).status_code == 201
    r = api.post("/api/v1/datasets", json={"name": "d", "artifact_types": [{"name": "x" * 101}]})
    assert r.json()["detail"][0]["loc"] == ["body", "artifact_types", 0, "name"]


def test_missing_name_is_the_documented_422(api: Api) -> None:
    r = api.post("/api/v1/datasets", json={"artifact_types": []})
    assert r.status_code == 422
    item = r.json()["detail"][0]
    assert item["loc"] == ["body", "name"] and item["type"] == "missing"


def test_list_counts_audio_and_sets(api: Api, server_db: Engine) -> None:
    ds = api.new_dataset("counted")
    add_audio(server_db, ds["id"], 3)
    api.new_set(ds["id"])
    api.new_set(ds["id"])
    empty = api.new_dataset("empty")
    items = {d["id"]: d for d in _all_datasets(api)}
    assert items[ds["id"]]["audio_count"] == 3
    assert items[ds["id"]]["annotation_set_count"] == 2
    assert items[empty["id"]]["audio_count"] == 0
    assert items[empty["id"]]["annotation_set_count"] == 0


def _all_datasets(api: Api) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    page = 1
    while True:
        body = api.get("/api/v1/datasets", params={"page": page, "page_size": 100}).json()
        out += body["items"]
        if not body["has_more"]:
            return out
        page += 1


def test_patch_name_and_description_only_changes_them(api: Api, dataset: dict[str, Any]) -> None:
    r = api.patch(f"/api/v1/datasets/{dataset['id']}", json={"name": "Renamed"})
    assert r.status_code == 200
    body = r.json()
    assert body["name"] == "Renamed"
    assert body["artifact_types"] == dataset["artifact_types"]
    assert body["updated_at"] > dataset["updated_at"]
    assert body["created_at"] == dataset["created_at"]
    r = api.patch(f"/api/v1/datasets/{dataset['id']}", json={"description": "about"})
    assert r.json()["description"] == "about" and r.json()["name"] == "Renamed"
    r = api.patch(f"/api/v1/datasets/{dataset['id']}", json={"description": None})
    assert r.json()["description"] is None
    assert api.get(f"/api/v1/datasets/{dataset['id']}").json()["name"] == "Renamed"


def test_patch_rejects_null_name_and_duplicate_types(api: Api, dataset: dict[str, Any]) -> None:
    r = api.patch(f"/api/v1/datasets/{dataset['id']}", json={"name": None})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "name"]
    r = api.patch(f"/api/v1/datasets/{dataset['id']}",
                  json={"artifact_types": [{"name": "a"}, {"name": "a"}]})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "artifact_types", 1, "name"]
    assert api.get(f"/api/v1/datasets/{dataset['id']}").json() == dataset


def test_patch_types_adds_and_removes_unused(api: Api, dataset: dict[str, Any]) -> None:
    r = api.patch(f"/api/v1/datasets/{dataset['id']}", json={"artifact_types": [
        {"name": "glitch", "color": "#00FF00"}, {"name": "long_pause"}]})
    assert r.status_code == 200
    assert [t["name"] for t in r.json()["artifact_types"]] == ["glitch", "long_pause"]
    assert r.json()["artifact_types"][0]["color"] == "#00FF00"


def test_removing_a_used_type_is_409_and_changes_nothing(
        api: Api, dataset: dict[str, Any], audio_ids: list[str]) -> None:
    s = api.new_set(dataset["id"])
    r = api.post(f"/api/v1/datasets/{dataset['id']}/annotation-sets/{s['id']}/annotations",
                 json={"audio_file_id": audio_ids[0], "artifact_type": "click",
                       "start_ms": 10, "end_ms": 20})
    assert r.status_code == 201
    r = api.patch(f"/api/v1/datasets/{dataset['id']}",
                  json={"name": "changed", "artifact_types": [{"name": "glitch"}]})
    assert r.status_code == 409
    assert "'click'" in r.json()["detail"] and "1 annotation" in r.json()["detail"]
    assert api.get(f"/api/v1/datasets/{dataset['id']}").json() == dataset


def test_delete_cascades_rows_and_stored_objects(
        fresh_server: LiveServer, tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    from tests.server.conftest import server_database_url

    api = Api(fresh_server.base_url, fresh_server.api_key)
    keep = api.new_dataset("keep")
    doomed = api.new_dataset("doomed")
    engine = create_engine(server_database_url(fresh_server))
    try:
        audio = add_audio(engine, doomed["id"], 2)
        kept_audio = add_audio(engine, keep["id"], 1)
        s = api.new_set(doomed["id"])
        r = api.post(f"/api/v1/datasets/{doomed['id']}/annotation-sets/{s['id']}/annotations",
                     json={"audio_file_id": audio[0], "artifact_type": "glitch",
                           "start_ms": 0, "end_ms": 5})
        assert r.status_code == 201
        # Stored objects under the dataset's prefix (the layout storage uses).
        objects = fresh_server.data_dir / "objects"
        tenant = _tenant_of(engine, doomed["id"])
        doomed_dir = objects / "tenants" / tenant / "datasets" / doomed["id"]
        keep_dir = objects / "tenants" / tenant / "datasets" / keep["id"]
        for folder in (doomed_dir, keep_dir):
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "a.wav").write_bytes(b"RIFF")

        assert api.delete(f"/api/v1/datasets/{doomed['id']}").status_code == 204
        assert api.get(f"/api/v1/datasets/{doomed['id']}").status_code == 404
        assert api.delete(f"/api/v1/datasets/{doomed['id']}").status_code == 404
        with Session(engine) as session:
            ids = [uuid.UUID(a) for a in audio]
            assert session.scalar(select(func.count()).select_from(AudioFile)
                                  .where(AudioFile.id.in_(ids))) == 0
            assert session.scalar(select(func.count()).select_from(AnnotationSet)
                                  .where(AnnotationSet.id == uuid.UUID(s["id"]))) == 0
            assert session.scalar(select(func.count()).select_from(Annotation)) == 0
            assert session.get(AudioFile, uuid.UUID(kept_audio[0])) is not None
        assert api.get(f"/api/v1/datasets/{keep['id']}").status_code == 200
        assert not doomed_dir.exists()
        assert (keep_dir / "a.wav").read_bytes() == b"RIFF"
    finally:
        engine.dispose()
        api.close()


def _tenant_of(engine: Engine, dataset_id: str) -> str:
    from relay_server.db.models import Dataset

    with Session(engine) as session:
        row = session.get(Dataset, uuid.UUID(dataset_id))
        assert row is not None
        return str(row.tenant_id)

