"""The client's training-job and model methods against a live Relay Local.

Trains one small model on the demo recordings (uploaded once per server), then
reads the job and the model back through RelayClient: typed progress, the
model's lineage, list filters, cancel, and the errors a caller sees.
"""

from __future__ import annotations

import time
import uuid

import pytest

from relay_desktop.api import RelayClient
from relay_desktop.api.errors import Conflict, NotFound, ValidationFailed
from relay_desktop.api.models import Model, TrainingJob
from tests.support.live_server import LiveServer
from tests.support.trainable import Trainable, trainable_dataset

TYPES = ("glitch", "long_pause")


@pytest.fixture(scope="module")
def demo(relay_server: LiveServer) -> Trainable:
    return trainable_dataset(relay_server.base_url, relay_server.api_key)


def wait_terminal(client: RelayClient, job_id: str, timeout_s: float = 300) -> TrainingJob:
    deadline = time.monotonic() + timeout_s
    while True:
        job = client.training_jobs.get(job_id)
        if job.is_terminal:
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def test_train_then_read_job_and_model(client: RelayClient, demo: Trainable) -> None:
    job = client.training_jobs.create(demo.dataset_id, demo.annotation_set_id,
                                      {"artifact_types": list(TYPES), "epochs": 2})
    assert job.status in ("queued", "training") and not job.is_terminal
    assert job.config["epochs"] == 2 and job.config["batch_size"] == 32
    assert job.progress is not None and job.progress.epochs == 2
    done = wait_terminal(client, job.id)
    assert done.status == "completed", done.error_message
    assert done.progress is not None and done.progress.fraction == 1.0
    assert len(done.progress.train_loss) == len(done.progress.validation_loss) == 2
    assert done.model_id is not None and done.completed_at is not None

    model = client.models.get(done.model_id)
    assert isinstance(model, Model)
    assert model.training_job_id == job.id and model.is_active
    assert set(model.artifact_types) == set(TYPES)
    assert model.dataset_id == demo.dataset_id
    assert model.annotation_set_id == demo.annotation_set_id
    assert model.name is not None and model.name.startswith(demo.dataset_name)
    assert set(model.eval_metrics["per_class"]) == set(TYPES)
    assert done.model_id in [m.id for m in client.models.iter_items(is_active=True)]
    assert done.model_id not in [m.id for m in client.models.iter_items(is_active=False)]

    assert job.id in [j.id for j in client.training_jobs.iter_items(
        page_size=1, dataset_id=demo.dataset_id)]
    listed = client.training_jobs.list(status="completed", dataset_id=demo.dataset_id)
    assert job.id in [j.id for j in listed.items]
    assert all(j.status == "completed" for j in listed.items)
    with pytest.raises(Conflict) as conflict:
        client.training_jobs.cancel(job.id)
    assert "already completed" in str(conflict.value)


def test_cancel_through_the_client(client: RelayClient, demo: Trainable) -> None:
    job = client.training_jobs.create(demo.dataset_id, demo.annotation_set_id,
                                      {"artifact_types": ["long_pause"], "epochs": 100})
    cancelled = client.training_jobs.cancel(job.id)
    assert cancelled.status == "cancelled" and cancelled.is_terminal
    assert client.training_jobs.get(job.id).status == "cancelled"


def test_errors_the_caller_sees(client: RelayClient, demo: Trainable) -> None:
    with pytest.raises(NotFound):
        client.training_jobs.get(str(uuid.uuid4()))
    with pytest.raises(NotFound):
        client.models.get(str(uuid.uuid4()))
    with pytest.raises(ValidationFailed) as invalid:
        client.training_jobs.create(demo.dataset_id, demo.annotation_set_id,
                                    {"artifact_types": ["glitch"], "epochs": 0})
    assert invalid.value.status_code == 422 and "epochs" in str(invalid.value)
    with pytest.raises(NotFound) as missing:
        client.training_jobs.create(demo.dataset_id, str(uuid.uuid4()),
                                    {"artifact_types": ["glitch"]})
    assert "Annotation set not found" in str(missing.value)
