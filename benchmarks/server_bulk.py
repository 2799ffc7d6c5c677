"""server_bulk: 5,000 annotations through bulk requests over HTTP vs straight ORM inserts.

A real Relay Local runs as a subprocess. A dataset with 50 processed audio
files and two draft annotation sets is prepared. The value is the rate
(annotations per second) of creating 5,000 annotations with
``POST .../annotations/bulk`` in batches of 1,000 over HTTP, including the
server's validation and the response with every created annotation; the
baseline is the rate of inserting the same 5,000 annotations directly through
the ORM (``session.add_all`` + commit) into the other set, in the same run.
Target: the HTTP path reaches at least half the direct ORM rate.
``--quick`` creates 1,000.
"""

from __future__ import annotations

import random
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from benchmarks import result
from benchmarks.server_list import database_url
from relay_server.db.base import utcnow
from relay_server.db.models import Annotation, AudioFile, Dataset
from relay_server.db.session import make_engine
from tests.support.live_server import LiveServer

BATCH = 1_000
FILES = 50
TARGET_RATIO = 0.5


def make_items(audio_ids: list[str], count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    items = []
    for i in range(count):
        start = rng.randrange(0, 55_000)
        items.append({"audio_file_id": audio_ids[i % len(audio_ids)],
                      "artifact_type": rng.choice(["glitch", "click", "long_pause"]),
                      "start_ms": start, "end_ms": start + rng.randrange(10, 4_000),
                      "confidence": round(rng.random(), 3), "extra_data": {"n": i}})
    return items


def seed_audio(url: str, dataset_id: str) -> list[str]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            dataset = session.get(Dataset, uuid.UUID(dataset_id))
            assert dataset is not None
            rows = [AudioFile(tenant_id=dataset.tenant_id, dataset_id=dataset.id,
                              filename=f"f{i}.wav", content_type="audio/wav", file_size=1,
                              storage_key=f"bench/{dataset.id}/{i}", processing_status="ready",
                              duration_ms=60_000) for i in range(FILES)]
            session.add_all(rows)
            session.commit()
            return [str(r.id) for r in rows]
    finally:
        engine.dispose()


def time_http(server: LiveServer, url: str, items: list[dict[str, Any]]) -> float:
    with requests.Session() as http:
        http.headers["X-API-Key"] = server.api_key
        created = 0
        start = time.perf_counter()
        for i in range(0, len(items), BATCH):
            r = http.post(url, json={"annotations": items[i:i + BATCH]}, timeout=120)
            r.raise_for_status()
            created += r.json()["created"]
        elapsed = time.perf_counter() - start
    assert created == len(items)
    return elapsed


def time_orm(url: str, set_id: str, items: list[dict[str, Any]]) -> float:
    engine = make_engine(url)
    try:
        start = time.perf_counter()
        with Session(engine) as session:
            session.add_all([Annotation(
                annotation_set_id=uuid.UUID(set_id), audio_file_id=uuid.UUID(it["audio_file_id"]),
                artifact_type=it["artifact_type"], start_ms=it["start_ms"], end_ms=it["end_ms"],
                confidence=it["confidence"], extra_data=it["extra_data"], created_at=utcnow(),
            ) for it in items])
            session.commit()
        elapsed = time.perf_counter() - start
        with Session(engine) as session:
            stored = session.scalar(select(func.count()).select_from(Annotation)
                                    .where(Annotation.annotation_set_id == uuid.UUID(set_id)))
        assert stored == len(items)
        return elapsed
    finally:
        engine.dispose()


def run(quick: bool) -> dict[str, Any]:
    count = 1_000 if quick else 5_000
    with tempfile.TemporaryDirectory(prefix="relay-bench-bulk-") as tmp:
        server = LiveServer(Path(tmp) / "server").start()
        try:
            headers = {"X-API-Key": server.api_key}
            r = requests.post(f"{server.base_url}/api/v1/datasets", headers=headers, json={
                "name": "bench", "artifact_types": [
                    {"name": "glitch"}, {"name": "click"}, {"name": "long_pause"}]}, timeout=30)
            r.raise_for_status()
            ds = r.json()["id"]
            db_url = database_url(server)
            audio_ids = seed_audio(db_url, ds)
            sets = [requests.post(f"{server.base_url}/api/v1/datasets/{ds}/annotation-sets",
                                  headers=headers, timeout=30).json()["id"] for _ in range(2)]
            items = make_items(audio_ids, count)
            bulk_url = f"{server.base_url}/api/v1/datasets/{ds}/annotation-sets/{sets[0]}" \
                       "/annotations/bulk"
            http_s = time_http(server, bulk_url, items)
            orm_s = time_orm(db_url, sets[1], items)
        finally:
            server.stop()
    value, baseline = count / http_s, count / orm_s
    return result("server_bulk", value, baseline, "annotations/s",
                  f"HTTP bulk rate >= {TARGET_RATIO:g} x direct ORM insert rate",
                  value >= TARGET_RATIO * baseline, annotations=count, batch=BATCH,
                  http_seconds=round(http_s, 3), orm_seconds=round(orm_s, 3))
