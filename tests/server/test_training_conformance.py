"""Schemathesis on the training-job and model operations of the reference.

Like tests/server/test_conformance.py: schema-valid cases, half of them steered
at a real dataset, published set, training job and model of the fuzzing
tenant; no 5xx, no undocumented status, bodies that match the reference.
Created jobs fail fast (the audio rows have no stored objects), so fuzzing
starts no long training.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from relay_server.db.base import utcnow
from relay_server.db.models import Model, Tenant
from tests.server.conftest import Api, add_audio, server_database_url
from tests.support.live_server import LiveServer

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "relay-api" / "openapi.yaml"
if not REFERENCE.exists():
    REFERENCE = Path("/work/shared/relay-api/openapi.yaml")
OPERATIONS = ["createTrainingJob", "listTrainingJobs", "getTrainingJob", "listModels",
              "getModel"]
EXAMPLES = int(os.environ.get("RELAY_FUZZ_EXAMPLES", "25"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]

pytestmark = pytest.mark.skipif(not REFERENCE.exists(), reason="reference schema not found")


@dataclass
class Target:
    base_url: str
    key: str
    real: dict[str, str]
    session: requests.Session


@pytest.fixture(scope="module")
def target(relay_server: LiveServer) -> Iterator[Target]:
    tenant = f"fuzz-training-{uuid.uuid4().hex[:6]}"
    key = relay_server.new_key(tenant)
    api = Api(relay_server.base_url, key)
    ds = api.new_dataset("fuzz training", ("glitch", "click"))
    engine = create_engine(server_database_url(relay_server))
    try:
        audio = add_audio(engine, ds["id"], 6, duration_ms=60_000)
        aset = api.new_set(ds["id"])
        base = f"/api/v1/datasets/{ds['id']}/annotation-sets/{aset['id']}"
        assert api.post(base + "/annotations", json={
            "audio_file_id": audio[0], "artifact_type": "glitch", "start_ms": 0,
            "end_ms": 10}).status_code == 201
        assert api.post(base + "/publish").status_code == 200
        job = api.post("/api/v1/training-jobs", json={
            "dataset_id": ds["id"], "annotation_set_id": aset["id"],
            "config": {"artifact_types": ["glitch"], "epochs": 1}})
        assert job.status_code == 201, job.text
        with Session(engine) as db:
            tenant_id = db.scalar(select(Tenant.id).where(Tenant.name == tenant))
            assert tenant_id is not None
            model = Model(tenant_id=tenant_id, name="fuzz", artifact_types=["glitch"],
                          training_job_id=uuid.UUID(job.json()["id"]), eval_metrics={},
                          is_active=True, storage_key="none", created_at=utcnow())
            db.add(model)
            db.commit()
            model_id = str(model.id)
    finally:
        engine.dispose()
    session = requests.Session()
    yield Target(relay_server.base_url, key,
                 {"dataset_id": ds["id"], "annotation_set_id": aset["id"],
                  "job_id": job.json()["id"], "model_id": model_id}, session)
    session.close()
    api.close()


def _steer(case: Any, target: Target) -> Any:
    if case.path_parameters:
        case.path_parameters = {k: target.real.get(k, v)
                                for k, v in case.path_parameters.items()}
    if isinstance(case.body, dict):
        for name in ("dataset_id", "annotation_set_id"):
            if name in case.body:
                case.body[name] = target.real[name]
        config = case.body.get("config")
        if isinstance(config, dict) and isinstance(config.get("artifact_types"), list):
            config["artifact_types"] = ["glitch"]
    if case.query:
        case.query.pop("dataset_id", None)
    return case


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_training_and_model_operations_conform(target: Target, operation_id: str) -> None:
    schema = schemathesis.openapi.from_path(REFERENCE)
    operation = schema.find_operation_by_id(operation_id)
    statuses: list[int] = []

    @given(st.tuples(operation.as_strategy(), st.booleans()))
    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), print_blob=True)
    def run(generated: tuple[Any, bool]) -> None:
        case = _steer(generated[0], target) if generated[1] else generated[0]
        headers = {"X-API-Key": target.key}
        response = case.call(base_url=target.base_url, session=target.session,
                             headers=headers, timeout=30)
        statuses.append(response.status_code)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()
    assert any(200 <= code < 300 for code in statuses), sorted(set(statuses))
