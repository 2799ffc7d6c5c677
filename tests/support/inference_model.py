"""A real trained detector for inference tests, installed into a live server.

The model is trained once per test session with :mod:`relay_server.ml` on a
few of the demo recordings (resources/demo, with their manifest regions) and
installed for a tenant the way a finished training job leaves it: its bytes
in the server's object storage and a ``Model`` row in its database. Tests of
the training jobs themselves cover the HTTP path that produces models; the
e2e workflow (tests/e2e/test_ml_workflow.py) runs the whole chain.

The demo files not used here (:data:`HELD_OUT`) are the audio inference tests
run on: the model never saw them.
"""

from __future__ import annotations

import json
import uuid
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from relay_server.auth import hash_key
from relay_server.config import ServerSettings
from relay_server.db.models import ApiKey, Model
from relay_server.ml import Region, TrainingConfig, TrainingFile, train_model
from relay_server.storage import make_storage
from tests.support.live_server import LiveServer

DEMO_DIR = Path(__file__).resolve().parents[2] / "resources" / "demo"
TYPES = ("glitch", "long_pause", "click")
TRAIN_FILES = 5
"""The first demo files train the test model; the others are held out."""


def demo_manifest() -> list[dict[str, Any]]:
    """The demo recordings' entries: filename, duration_ms, annotations."""
    data = json.loads((DEMO_DIR / "manifest.json").read_text())
    return list(data["files"])


def held_out() -> list[dict[str, Any]]:
    """Demo recordings the test model never saw."""
    return demo_manifest()[TRAIN_FILES:]


@cache
def trained_model_bytes(epochs: int = 3) -> bytes:
    """The test detector (trained once per session)."""
    files = [TrainingFile(audio_id=entry["filename"], path=DEMO_DIR / entry["filename"],
                          duration_ms=int(entry["duration_ms"]),
                          regions=tuple(Region(a["artifact_type"], int(a["start_ms"]),
                                               int(a["end_ms"]))
                                        for a in entry["annotations"]))
             for entry in demo_manifest()[:TRAIN_FILES]]
    config = TrainingConfig.from_mapping({"artifact_types": list(TYPES), "epochs": epochs})
    return train_model(files, config, seed=0).to_bytes()


def server_database_url(server: LiveServer) -> str:
    return server.env.get("RELAY_DATABASE_URL") or f"sqlite:///{server.data_dir / 'relay.sqlite3'}"


def install_model(server: LiveServer, api_key: str, data: bytes | None = None,
                  types: tuple[str, ...] = TYPES, name: str = "test detector") -> str:
    """Store a model for the key's tenant as a training job would; return its id."""
    settings = ServerSettings.from_env(server.data_dir, database_url=server_database_url(server))
    engine = create_engine(server_database_url(server))
    try:
        with Session(engine) as session:
            tenant_id = session.scalar(select(ApiKey.tenant_id)
                                       .where(ApiKey.key_hash == hash_key(api_key)))
            assert tenant_id is not None
            model_id = uuid.uuid4()
            key = f"tenants/{tenant_id}/models/{model_id}.bin"
            make_storage(settings).put_bytes(key, trained_model_bytes() if data is None
                                             else data)
            session.add(Model(id=model_id, tenant_id=tenant_id, name=name,
                              artifact_types=list(types), eval_metrics={}, is_active=True,
                              storage_key=key))
            session.commit()
    finally:
        engine.dispose()
    return str(model_id)
