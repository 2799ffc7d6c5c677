"""Dataset and artifact-type names compare normalised: case and extra spaces do not count."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from relay_server.db.models import Dataset
from tests.server.conftest import Api


def _unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def test_names_are_stored_trimmed_with_single_spaces(api: Api) -> None:
    base = _unique("Spaced")
    r = api.post("/api/v1/datasets", json={
        "name": f"  {base.replace(' ', '   ')}  ",
        "artifact_types": [{"name": "  long   pause "}]})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == base
    assert [t["name"] for t in r.json()["artifact_types"]] == ["long pause"]


def test_types_differing_only_in_case_or_spaces_are_one_type(api: Api) -> None:
    r = api.post("/api/v1/datasets", json={"name": _unique("types"), "artifact_types": [
        {"name": "glitch"}, {"name": "click"}, {"name": "Glitch "}]})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert [d["loc"] for d in detail] == [["body", "artifact_types", 2, "name"]]
    assert "'glitch'" in detail[0]["msg"] and "unique" in detail[0]["msg"]


def test_patch_refuses_near_duplicate_types(api: Api, dataset: dict[str, Any]) -> None:
    r = api.patch(f"/api/v1/datasets/{dataset['id']}", json={"artifact_types": [
        {"name": "glitch"}, {"name": "click"}, {"name": "CLICK"}]})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "artifact_types", 2, "name"]


def test_a_second_dataset_with_the_same_name_is_409(api: Api) -> None:
    name = _unique("TTS Glitch")
    api.new_dataset(name, exact_name=True)
    r = api.post("/api/v1/datasets", json={"name": f" {name.upper()}  "})
    assert r.status_code == 409
    assert set(r.json()) == {"detail"}
    assert name in r.json()["detail"] and "already exists" in r.json()["detail"]


def test_renaming_onto_another_dataset_is_409_but_own_name_is_fine(api: Api) -> None:
    a = api.new_dataset(_unique("alpha"))
    b = api.new_dataset(_unique("beta"))
    r = api.patch(f"/api/v1/datasets/{b['id']}", json={"name": a["name"].lower()})
    assert r.status_code == 409 and "already exists" in r.json()["detail"]
    r = api.patch(f"/api/v1/datasets/{a['id']}", json={"name": a["name"].upper()})
    assert r.status_code == 200 and r.json()["name"] == a["name"].upper()


def test_another_tenant_may_use_the_same_name(api: Api, other_api: Api) -> None:
    name = _unique("shared name")
    api.new_dataset(name, exact_name=True)
    assert other_api.new_dataset(name, exact_name=True)["name"] == name


def test_resending_an_unchanged_name_is_fine_even_beside_an_older_twin(
        api: Api, server_db: Engine) -> None:
    """Datasets made before the rule may share a name; editing one must still work."""
    name = _unique("legacy")
    a = api.new_dataset(name, exact_name=True)
    b = api.new_dataset(_unique("other"), exact_name=True)
    with Session(server_db) as session, session.begin():  # as an older server allowed
        session.get(Dataset, uuid.UUID(b["id"])).name = name.upper()  # type: ignore[union-attr]
    r = api.patch(f"/api/v1/datasets/{b['id']}", json={"name": name.upper(),
                                                       "description": "still editable"})
    assert r.status_code == 200, r.text
    assert r.json()["description"] == "still editable"
    assert api.get(f"/api/v1/datasets/{a['id']}").json()["name"] == name
