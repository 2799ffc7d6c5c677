"""server_list: page through 10,000 audio files over HTTP vs the same query on the database.

A real Relay Local runs as a subprocess with its own data folder. 10,000 audio
rows are inserted into one dataset directly through the ORM (set-up, not
measured). The value is the p95 latency of one page (page_size 100) of
``GET /api/v1/datasets/{id}/audio`` over HTTP, every page in order; the
baseline is the p95 of the same work run directly on the database in this
process (the page's count and its ordered, offset select, loaded as ORM rows).
Target: p95 <= 50 ms per page. ``--quick`` uses 2,000 rows.
"""

from __future__ import annotations

import math
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from benchmarks import result
from relay_server.db.base import utcnow
from relay_server.db.models import AudioFile, Dataset
from relay_server.db.session import make_engine
from tests.support.live_server import LiveServer

PAGE_SIZE = 100
TARGET_MS = 50.0


def p95(samples: list[float]) -> float:
    """The 95th percentile (nearest-rank) of ``samples``."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def database_url(server: LiveServer) -> str:
    return server.env.get("RELAY_DATABASE_URL") or f"sqlite:///{server.data_dir / 'relay.sqlite3'}"


def seed_audio(url: str, dataset_id: str, count: int) -> None:
    """Insert ``count`` ready audio rows into the dataset through the ORM."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            dataset = session.get(Dataset, uuid.UUID(dataset_id))
            assert dataset is not None
            rows = []
            for i in range(count):
                audio_id = uuid.uuid4()
                now = utcnow()
                rows.append({
                    "id": audio_id, "tenant_id": dataset.tenant_id, "dataset_id": dataset.id,
                    "filename": f"clip-{i:05d}.wav", "content_type": "audio/wav",
                    "file_size": 160_044, "processing_status": "ready",
                    "storage_key": f"tenants/{dataset.tenant_id}/datasets/{dataset.id}/"
                                   f"audio/{audio_id}/clip-{i:05d}.wav",
                    "duration_ms": 5_000, "sample_rate": 16_000, "channels": 1,
                    "created_at": now, "updated_at": now,
                })
            session.execute(insert(AudioFile), rows)
            session.commit()
    finally:
        engine.dispose()


def time_http(server: LiveServer, dataset_id: str, pages: int) -> list[float]:
    url = f"{server.base_url}/api/v1/datasets/{dataset_id}/audio"
    latencies = []
    with requests.Session() as http:
        http.headers["X-API-Key"] = server.api_key
        for _ in range(3):  # warm-up
            http.get(url, params={"page": 1, "page_size": PAGE_SIZE}, timeout=30).raise_for_status()
        seen = 0
        for page in range(1, pages + 1):
            start = time.perf_counter()
            r = http.get(url, params={"page": page, "page_size": PAGE_SIZE}, timeout=30)
            r.raise_for_status()
            items = r.json()["items"]
            latencies.append((time.perf_counter() - start) * 1000)
            seen += len(items)
        assert seen == pages * PAGE_SIZE, seen
    return latencies


def time_direct(url: str, dataset_id: str, pages: int) -> list[float]:
    engine = make_engine(url)
    ds = uuid.UUID(dataset_id)
    latencies = []
    try:
        with Session(engine) as session:
            tenant_id = session.scalar(select(Dataset.tenant_id).where(Dataset.id == ds))
            where = (AudioFile.dataset_id == ds, AudioFile.tenant_id == tenant_id)
            for page in range(1, pages + 1):
                start = time.perf_counter()
                session.scalar(select(func.count()).select_from(AudioFile).where(*where))
                rows = list(session.scalars(
                    select(AudioFile).where(*where)
                    .order_by(AudioFile.created_at, AudioFile.id)
                    .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
                latencies.append((time.perf_counter() - start) * 1000)
                assert len(rows) == PAGE_SIZE
                session.expunge_all()
    finally:
        engine.dispose()
    return latencies


def run(quick: bool) -> dict[str, Any]:
    count = 2_000 if quick else 10_000
    pages = count // PAGE_SIZE
    with tempfile.TemporaryDirectory(prefix="relay-bench-list-") as tmp:
        server = LiveServer(Path(tmp) / "server").start()
        try:
            r = requests.post(f"{server.base_url}/api/v1/datasets",
                              headers={"X-API-Key": server.api_key},
                              json={"name": "bench", "artifact_types": [{"name": "glitch"}]},
                              timeout=30)
            r.raise_for_status()
            dataset_id = r.json()["id"]
            url = database_url(server)
            seed_audio(url, dataset_id, count)
            http_ms = time_http(server, dataset_id, pages)
            direct_ms = time_direct(url, dataset_id, pages)
        finally:
            server.stop()
    value, baseline = p95(http_ms), p95(direct_ms)
    return result("server_list", value, baseline, "ms (p95 per page)",
                  f"p95 <= {TARGET_MS:g} ms per page of {PAGE_SIZE}", value <= TARGET_MS,
                  rows=count, pages=pages, http_median_ms=round(statistics.median(http_ms), 3),
                  direct_median_ms=round(statistics.median(direct_ms), 3))
