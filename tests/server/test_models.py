"""Models over HTTP: shape, the ``is_active`` filter, pagination, tenancy.

Models are made by training (tests/server/test_training_jobs.py trains real
ones); here rows are written straight into the live server's database, as a
finished training job writes them, so that inactive models (which no endpoint
makes) and long lists can be checked quickly.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from relay_server.db.base import utcnow
from relay_server.db.models import Model, Tenant
from tests.server.conftest import Api
from tests.support.live_server import LiveServer

METRICS = {"precision": 0.9, "recall": 0.8, "f1_score": 0.847,
           "per_class": {"glitch": {"precision": 0.9, "recall": 0.8, "f1_score": 0.847,
                                    "support": 12}}}


@pytest.fixture
def tenant(relay_server: LiveServer, server_db: Engine) -> Iterator[tuple[Api, uuid.UUID]]:
    """A tenant of its own (so its lists hold only this test's models) and its id."""
    name = f"models-{uuid.uuid4().hex[:8]}"
    client = Api(relay_server.base_url, relay_server.new_key(name))
    with Session(server_db) as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.name == name))
    assert tenant_id is not None
    yield client, tenant_id
    client.close()


def add_models(engine: Engine, tenant_id: uuid.UUID, active: list[bool]) -> list[str]:
    with Session(engine) as session:
        rows = [Model(tenant_id=tenant_id, name=f"Model #{i + 1}", description=None,
                      artifact_types=["glitch"], training_job_id=uuid.uuid4(),
                      dataset_id=uuid.uuid4(), annotation_set_id=uuid.uuid4(),
                      eval_metrics=METRICS, is_active=flag,
                      storage_key=f"tenants/{tenant_id}/models/{i}.bin", created_at=utcnow())
                for i, flag in enumerate(active)]
        session.add_all(rows)
        session.commit()
        return [str(r.id) for r in rows]


def ids(page: dict[str, Any]) -> list[str]:
    return [m["id"] for m in page["items"]]


def test_model_has_the_documented_fields(tenant: tuple[Api, uuid.UUID],
                                         server_db: Engine) -> None:
    api, tenant_id = tenant
    [model_id] = add_models(server_db, tenant_id, [True])
    r = api.get(f"/api/v1/models/{model_id}")
    assert r.status_code == 200, r.text
    m = r.json()
    assert {"id", "name", "description", "artifact_types", "training_job_id", "eval_metrics",
            "is_active", "created_at", "dataset_id", "annotation_set_id"} <= set(m)
    assert m["name"] == "Model #1" and m["description"] is None
    assert m["artifact_types"] == ["glitch"] and m["eval_metrics"] == METRICS
    assert m["is_active"] is True and m["created_at"].endswith("Z")
    assert "storage_key" not in m  # where the bytes live is the server's business


def test_is_active_filter_and_pagination(tenant: tuple[Api, uuid.UUID],
                                         server_db: Engine) -> None:
    api, tenant_id = tenant
    made = add_models(server_db, tenant_id, [True, False, True, True, False])
    everything = api.get("/api/v1/models").json()
    assert ids(everything) == made and everything["total"] == 5
    active = api.get("/api/v1/models", params={"is_active": "true"}).json()
    assert ids(active) == [made[0], made[2], made[3]] and active["total"] == 3
    inactive = api.get("/api/v1/models", params={"is_active": "false"}).json()
    assert ids(inactive) == [made[1], made[4]]
    first = api.get("/api/v1/models", params={"page_size": 2}).json()
    assert ids(first) == made[:2] and first["has_more"] and first["page_size"] == 2
    last = api.get("/api/v1/models", params={"page_size": 2, "page": 3}).json()
    assert ids(last) == made[4:] and not last["has_more"] and last["total"] == 5
    beyond = api.get("/api/v1/models", params={"page": 9}).json()
    assert beyond["items"] == [] and beyond["total"] == 5 and not beyond["has_more"]


@pytest.mark.parametrize(("params", "loc"), [
    ({"is_active": "maybe"}, ["query", "is_active"]),
    ({"page": 0}, ["query", "page"]),
    ({"page_size": 101}, ["query", "page_size"]),
])
def test_bad_query_parameters_are_422(api: Api, params: dict[str, Any],
                                      loc: list[str]) -> None:
    r = api.get("/api/v1/models", params=params)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == loc


def test_another_tenants_model_is_404_and_unlisted(tenant: tuple[Api, uuid.UUID],
                                                   other_api: Api, server_db: Engine) -> None:
    api, tenant_id = tenant
    [model_id] = add_models(server_db, tenant_id, [True])
    r = other_api.get(f"/api/v1/models/{model_id}")
    assert r.status_code == 404 and r.json() == {"detail": "Model not found"}
    assert model_id not in ids(other_api.get("/api/v1/models",
                                             params={"page_size": 100}).json())
    assert api.get(f"/api/v1/models/{model_id}").status_code == 200


def test_unknown_and_malformed_ids_are_404(api: Api) -> None:
    for path in (f"/api/v1/models/{uuid.uuid4()}", "/api/v1/models/not-a-uuid"):
        r = api.get(path)
        assert r.status_code == 404 and r.json() == {"detail": "Model not found"}


def test_a_new_tenant_has_no_models(tenant: tuple[Api, uuid.UUID]) -> None:
    api, _ = tenant
    assert api.get("/api/v1/models").json() == {"items": [], "total": 0, "page": 1,
                                                "page_size": 20, "has_more": False}
