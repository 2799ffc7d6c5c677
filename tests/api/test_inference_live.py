"""The client's inference methods against the real Relay Local: every method, typed
results, and the server's errors mapped to the client's exceptions."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from relay_desktop.api import RelayClient, errors
from relay_desktop.api.models import InferenceJob
from tests.api.conftest import unique, write_wav
from tests.support.inference_model import DEMO_DIR, held_out, install_model
from tests.support.live_server import LiveServer


@pytest.fixture(scope="module")
def model_id(relay_server: LiveServer) -> str:
    return install_model(relay_server, relay_server.api_key)


def wait_done(client: RelayClient, job_id: str, timeout: float = 90.0) -> InferenceJob:
    deadline = time.monotonic() + timeout
    while True:
        job = client.inference_jobs.get(job_id)
        if job.is_terminal or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def test_every_method_round_trips(client: RelayClient, model_id: str, tmp_path: Path) -> None:
    job = client.inference_jobs.create(model_id, {"threshold": 0.6})
    assert job.status == "pending" and job.model_id == model_id and not job.is_terminal
    assert dict(job.config) == {"threshold": 0.6, "merge_window_ms": 200, "min_duration_ms": 50}
    assert job.tenant_id and job.created_at is not None and job.files == ()

    entry = held_out()[0]
    source = DEMO_DIR / entry["filename"]
    seen: list[tuple[int, int]] = []
    queued = client.inference_jobs.upload_file(job.id, source,
                                               progress=lambda d, t: seen.append((d, t)))
    assert queued.status == "queued" and queued.original_filename == entry["filename"]
    assert seen[-1] == (source.stat().st_size, source.stat().st_size)
    assert queued.s3_key and queued.detections is None

    wav = write_wav(tmp_path / "by-hand.wav")
    ticket = client.inference_jobs.request_file_upload(job.id, wav.name, wav.stat().st_size)
    assert ticket.file_id and ticket.fields and ticket.key and ticket.expires_in
    assert ticket.fields.get("Content-Type") == "audio/wav"  # the documented default
    pending = client.inference_jobs.get_file(job.id, ticket.file_id)
    assert pending.status == "pending"
    with pytest.raises(errors.BadRequest, match="upload"):
        client.inference_jobs.confirm_file(job.id, ticket.file_id)

    done = wait_done(client, job.id)
    assert done.status == "completed" and done.total_files == 1
    (result,) = [f for f in done.files if f.id == queued.id]
    assert result.status == "completed" and result.detections is not None
    assert result.detection_count == len(result.detections) == done.total_detections > 0
    assert all(d.confidence >= 0.6 for d in result.detections)
    assert result.duration_ms and abs(result.duration_ms - entry["duration_ms"]) <= 50
    assert client.inference_jobs.get_file(job.id, queued.id) == result

    link = client.inference_jobs.file_download_url(job.id, queued.id)
    assert link.download_url.startswith("http") and link.expires_in
    copy = client.inference_jobs.download_file(job.id, queued.id, tmp_path / "copy.ogg")
    assert copy.read_bytes() == source.read_bytes()

    listed = [j.id for j in client.inference_jobs.iter_items(page_size=2)]
    assert job.id in listed
    assert job.id in [j.id for j in client.inference_jobs.list(status="completed",
                                                               page_size=100).items]
    other = client.inference_jobs.create(model_id)
    cancelled = client.inference_jobs.cancel(other.id)
    assert cancelled.status == "cancelled" and cancelled.is_terminal
    with pytest.raises(errors.Conflict, match="already cancelled"):
        client.inference_jobs.cancel(other.id)


def test_dataset_files_extension(client: RelayClient, model_id: str) -> None:
    entry = held_out()[1]
    ds = client.datasets.create(unique("inference-source"), ["glitch", "long_pause", "click"])
    conf = client.audio.upload(ds.id, DEMO_DIR / entry["filename"])
    deadline = time.monotonic() + 60
    while client.audio.get(ds.id, conf.audio_id).processing_status != "ready":
        assert time.monotonic() < deadline, "the dataset audio never became ready"
        time.sleep(0.1)
    job = client.inference_jobs.create(model_id)
    (added,) = client.inference_jobs.add_dataset_files(job.id, [conf.audio_id])
    assert added.status == "queued" and added.original_filename == entry["filename"]
    assert (added.source_audio_id, added.source_dataset_id) == (conf.audio_id, ds.id)
    done = wait_done(client, job.id)
    assert done.status == "completed" and done.files[0].detection_count > 0
    with pytest.raises(errors.NotFound, match="Audio file"):
        client.inference_jobs.add_dataset_files(job.id, [str(uuid.uuid4())])


def test_errors_map_to_client_exceptions(client: RelayClient, relay_server: LiveServer,
                                         model_id: str) -> None:
    with pytest.raises(errors.NotFound, match="Model not found"):
        client.inference_jobs.create(str(uuid.uuid4()))
    with pytest.raises(errors.ValidationFailed) as info:
        client.inference_jobs.create(model_id, {"threshold": 2, "min_duration_ms": 5000})
    assert {e.loc for e in info.value.errors} == {("body", "config", "threshold"),
                                                  ("body", "config", "min_duration_ms")}
    with pytest.raises(errors.NotFound, match="Inference job not found"):
        client.inference_jobs.get(str(uuid.uuid4()))
    job = client.inference_jobs.create(model_id)
    with pytest.raises(errors.NotFound, match="Inference file not found"):
        client.inference_jobs.get_file(job.id, str(uuid.uuid4()))
    with RelayClient(relay_server.base_url, relay_server.new_key(unique("stranger"))) as other:
        assert other.inference_jobs.list().items == ()
        with pytest.raises(errors.NotFound):
            other.inference_jobs.get(job.id)
        with pytest.raises(errors.NotFound):
            other.inference_jobs.request_file_upload(job.id, "a.wav", 10)
