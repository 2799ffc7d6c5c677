"""Helpers for the server suite: an HTTP client per tenant and direct database access.

Tests talk to the live server over HTTP. Where a test needs audio rows without
going through uploads and processing (another part of the server), it inserts
them straight into the live server's database, as a processed file would be.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session

from relay_server.db.models import AudioFile, Dataset
from tests.support.live_server import LiveServer


class Api:
    """A tiny HTTP client for one tenant of a live server."""

    def __init__(self, base_url: str, key: str | None) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        if key is not None:
            self.session.headers["X-API-Key"] = key

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, self.base_url + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def close(self) -> None:
        self.session.close()

    # ---- shortcuts that assert success
    def new_dataset(self, name: str = "Dataset", types: tuple[str, ...] = ("glitch", "click"),
                    *, exact_name: bool = False, **extra: Any) -> dict[str, Any]:
        """A new dataset; a tenant's dataset names are unique, so a suffix is added
        unless ``exact_name``."""
        if not exact_name:
            name = f"{name} {uuid.uuid4().hex[:8]}"
        body = {"name": name, "artifact_types": [{"name": t} for t in types], **extra}
        r = self.post("/api/v1/datasets", json=body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def new_set(self, dataset_id: str) -> dict[str, Any]:
        r = self.post(f"/api/v1/datasets/{dataset_id}/annotation-sets")
        assert r.status_code == 201, r.text
        return dict(r.json())


def server_database_url(server: LiveServer) -> str:
    return server.env.get("RELAY_DATABASE_URL") or f"sqlite:///{server.data_dir / 'relay.sqlite3'}"


def add_audio(engine: Engine, dataset_id: str, count: int = 1,
              duration_ms: int | None = 60_000) -> list[str]:
    """Insert processed audio rows into ``dataset_id`` directly; return their ids."""
    with Session(engine) as session:
        dataset = session.scalar(select(Dataset).where(Dataset.id == uuid.UUID(dataset_id)))
        assert dataset is not None
        rows = []
        for i in range(count):
            audio_id = uuid.uuid4()
            rows.append(AudioFile(
                id=audio_id, tenant_id=dataset.tenant_id, dataset_id=dataset.id,
                filename=f"clip-{i}.wav", content_type="audio/wav", file_size=1000,
                storage_key=f"tenants/{dataset.tenant_id}/datasets/{dataset.id}/audio/{audio_id}",
                processing_status="ready" if duration_ms is not None else "pending",
                duration_ms=duration_ms, sample_rate=16000 if duration_ms else None,
                channels=1 if duration_ms else None,
            ))
        session.add_all(rows)
        session.commit()
        return [str(r.id) for r in rows]


@pytest.fixture(scope="session")
def server_db(relay_server: LiveServer) -> Iterator[Engine]:
    """An engine on the shared live server's own database."""
    engine = create_engine(server_database_url(relay_server))
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def api(relay_server: LiveServer) -> Iterator[Api]:
    """The shared server's first tenant."""
    client = Api(relay_server.base_url, relay_server.api_key)
    yield client
    client.close()


@pytest.fixture(scope="session")
def other_api(relay_server: LiveServer) -> Iterator[Api]:
    """A second tenant on the same server."""
    client = Api(relay_server.base_url, relay_server.new_key("tenant-b"))
    yield client
    client.close()


@pytest.fixture
def dataset(api: Api) -> dict[str, Any]:
    """A fresh dataset with types glitch and click."""
    return api.new_dataset(f"ds-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def audio_ids(server_db: Engine, dataset: dict[str, Any]) -> list[str]:
    """Two ready audio files of 60 s in ``dataset``."""
    return add_audio(server_db, dataset["id"], 2, duration_ms=60_000)
