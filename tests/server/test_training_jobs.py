"""Training jobs over HTTP: validation, every precondition, statuses, progress, cancel,
tenancy, lists, and a job that survives its server being killed mid-training."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, create_engine, update
from sqlalchemy.orm import Session

from relay_server.db.base import utcnow
from relay_server.db.models import AudioFile, Dataset, TrainingJob
from tests.server.conftest import Api, add_audio, server_database_url
from tests.support.live_server import LiveServer, server_env
from tests.support.trainable import Trainable, build_trainable, trainable_dataset, wait_for_job

TERMINAL = ("completed", "failed", "cancelled")


# ---- helpers --------------------------------------------------------------------------------
def labelled_set(api: Api, dataset_id: str, audio_ids: list[str],
                 types: tuple[str, ...] = ("glitch", "click"), publish: bool = True
                 ) -> dict[str, Any]:
    """A set with one annotation of each of ``types`` on the first file."""
    aset = api.new_set(dataset_id)
    base = f"/api/v1/datasets/{dataset_id}/annotation-sets/{aset['id']}"
    items = [{"audio_file_id": audio_ids[0], "artifact_type": t, "start_ms": 100 * i,
              "end_ms": 100 * i + 50} for i, t in enumerate(types)]
    if items:
        r = api.post(base + "/annotations/bulk", json={"annotations": items})
        assert r.status_code == 201, r.text
    if publish:
        r = api.post(base + "/publish")
        assert r.status_code == 200, r.text
    return aset


def body(dataset_id: str, set_id: str, **config: Any) -> dict[str, Any]:
    return {"dataset_id": dataset_id, "annotation_set_id": set_id,
            "config": {"artifact_types": ["glitch"], **config}}


@pytest.fixture
def ready(api: Api, server_db: Engine, dataset: dict[str, Any]) -> dict[str, Any]:
    """A dataset with 6 ready minutes of audio (rows only) and a published labelled set."""
    audio = add_audio(server_db, dataset["id"], 6, duration_ms=60_000)
    aset = labelled_set(api, dataset["id"], audio)
    return {"dataset": dataset, "audio": audio, "set": aset}


def detail(r: requests.Response, code: int) -> str:
    assert r.status_code == code, r.text
    text = r.json()["detail"]
    assert isinstance(text, str)
    return text


# ---- 422: the body and config ranges -------------------------------------------------------
@pytest.mark.parametrize(("config", "loc"), [
    ({"epochs": 0}, ["body", "config", "epochs"]),
    ({"epochs": 101}, ["body", "config", "epochs"]),
    ({"epochs": 2.5}, ["body", "config", "epochs"]),
    ({"validation_split": 0.05}, ["body", "config", "validation_split"]),
    ({"validation_split": 0.51}, ["body", "config", "validation_split"]),
    ({"learning_rate": 0.00001}, ["body", "config", "learning_rate"]),
    ({"learning_rate": 0.2}, ["body", "config", "learning_rate"]),
    ({"batch_size": 7}, ["body", "config", "batch_size"]),
    ({"batch_size": 257}, ["body", "config", "batch_size"]),
    ({"chunk_size_ms": 99}, ["body", "config", "chunk_size_ms"]),
    ({"chunk_size_ms": 5001}, ["body", "config", "chunk_size_ms"]),
    ({"stride_ms": 9}, ["body", "config", "stride_ms"]),
    ({"chunk_size_ms": 400, "stride_ms": 401}, ["body", "config", "stride_ms"]),
    ({"artifact_types": []}, ["body", "config", "artifact_types"]),
    ({"artifact_types": ["glitch", "glitch"]}, ["body", "config", "artifact_types"]),
    ({"artifact_types": "glitch"}, ["body", "config", "artifact_types"]),
])
def test_config_out_of_range_is_422_at_the_field(api: Api, ready: dict[str, Any],
                                                 config: dict[str, Any],
                                                 loc: list[str]) -> None:
    r = api.post("/api/v1/training-jobs",
                 json=body(ready["dataset"]["id"], ready["set"]["id"], **config))
    assert r.status_code == 422, r.text
    assert loc in [item["loc"] for item in r.json()["detail"]], r.json()


def test_stride_message_names_the_chunk_size(api: Api, ready: dict[str, Any]) -> None:
    r = api.post("/api/v1/training-jobs", json=body(
        ready["dataset"]["id"], ready["set"]["id"], chunk_size_ms=400, stride_ms=500))
    assert r.status_code == 422
    assert "at most chunk_size_ms (400)" in r.json()["detail"][0]["msg"]


@pytest.mark.parametrize(("payload", "loc"), [
    ({}, ["body", "dataset_id"]),
    ({"dataset_id": "nope", "annotation_set_id": str(uuid.uuid4()),
      "config": {"artifact_types": ["glitch"]}}, ["body", "dataset_id"]),
    ({"dataset_id": str(uuid.uuid4()), "annotation_set_id": str(uuid.uuid4())},
     ["body", "config"]),
    ({"dataset_id": str(uuid.uuid4()), "annotation_set_id": str(uuid.uuid4()),
      "config": {}}, ["body", "config", "artifact_types"]),
])
def test_malformed_bodies_are_422_with_locations(api: Api, payload: dict[str, Any],
                                                 loc: list[str]) -> None:
    r = api.post("/api/v1/training-jobs", json=payload)
    assert r.status_code == 422, r.text
    assert loc in [item["loc"] for item in r.json()["detail"]]


def test_type_not_in_the_dataset_is_422_naming_the_types(api: Api,
                                                         ready: dict[str, Any]) -> None:
    r = api.post("/api/v1/training-jobs", json=body(
        ready["dataset"]["id"], ready["set"]["id"], artifact_types=["glitch", "hum"]))
    assert r.status_code == 422, r.text
    [item] = r.json()["detail"]
    assert item["loc"] == ["body", "config", "artifact_types", 1]
    assert "'hum' is not an artifact type of dataset" in item["msg"]
    assert "glitch, click" in item["msg"]


# ---- 404 / 400: the documented preconditions -----------------------------------------------
def test_unknown_or_foreign_dataset_and_set_are_404(api: Api, other_api: Api,
                                                    ready: dict[str, Any]) -> None:
    ds, aset = ready["dataset"]["id"], ready["set"]["id"]
    assert detail(api.post("/api/v1/training-jobs", json=body(str(uuid.uuid4()), aset)),
                  404) == "Dataset not found"
    assert detail(api.post("/api/v1/training-jobs", json=body(ds, str(uuid.uuid4()))),
                  404) == "Annotation set not found"
    assert detail(other_api.post("/api/v1/training-jobs", json=body(ds, aset)),
                  404) == "Dataset not found"
    theirs = other_api.new_dataset("theirs")
    their_set = other_api.new_set(theirs["id"])
    assert detail(api.post("/api/v1/training-jobs", json=body(ds, their_set["id"])),
                  404) == "Annotation set not found"


def test_set_of_another_dataset_is_400(api: Api, ready: dict[str, Any]) -> None:
    other = api.new_dataset(f"other-{uuid.uuid4().hex[:6]}")
    other_set = api.new_set(other["id"])
    text = detail(api.post("/api/v1/training-jobs",
                           json=body(ready["dataset"]["id"], other_set["id"])), 400)
    assert text.startswith("Annotation set v1 belongs to another dataset")
    assert f"choose one of {ready['dataset']['name']!r}'s sets" in text


def test_draft_set_is_400_saying_publish_it(api: Api, server_db: Engine,
                                            dataset: dict[str, Any]) -> None:
    audio = add_audio(server_db, dataset["id"], 6)
    draft = labelled_set(api, dataset["id"], audio, publish=False)
    text = detail(api.post("/api/v1/training-jobs", json=body(dataset["id"], draft["id"])), 400)
    assert text == ("Cannot train yet. Annotation set v1 is a draft; publish it first "
                    "(drafts cannot be trained on).")


def test_files_not_ready_are_named_up_to_five(api: Api, server_db: Engine,
                                              dataset: dict[str, Any]) -> None:
    audio = add_audio(server_db, dataset["id"], 6)
    add_audio(server_db, dataset["id"], 7, duration_ms=None)  # clip-0..6.wav, pending
    aset = labelled_set(api, dataset["id"], audio)
    text = detail(api.post("/api/v1/training-jobs", json=body(dataset["id"], aset["id"])), 400)
    assert ("7 audio files are not ready: clip-0.wav (pending), clip-1.wav (pending), "
            "clip-2.wav (pending), clip-3.wav (pending), clip-4.wav (pending) and 2 more; "
            "wait for processing to finish, or delete the failed files.") in text


def test_one_failed_file_is_named_with_its_state(api: Api, server_db: Engine,
                                                 dataset: dict[str, Any]) -> None:
    audio = add_audio(server_db, dataset["id"], 6)
    with Session(server_db) as session:
        session.execute(update(AudioFile).where(AudioFile.id == uuid.UUID(audio[5]))
                        .values(processing_status="failed", filename="broken.wav"))
        session.commit()
    aset = labelled_set(api, dataset["id"], audio)
    text = detail(api.post("/api/v1/training-jobs", json=body(dataset["id"], aset["id"])), 400)
    assert "1 audio file is not ready: broken.wav (failed);" in text


def test_too_little_audio_says_how_much_more(api: Api, server_db: Engine,
                                            dataset: dict[str, Any]) -> None:
    audio = add_audio(server_db, dataset["id"], 2, duration_ms=61_500)
    aset = labelled_set(api, dataset["id"], audio)
    text = detail(api.post("/api/v1/training-jobs", json=body(dataset["id"], aset["id"])), 400)
    assert text == ("Cannot train yet. The dataset has 2 min 3 s of ready audio; training "
                    "needs at least 5 min. Upload 2 min 57 s more.")


def test_empty_dataset_has_no_audio(api: Api, dataset: dict[str, Any]) -> None:
    aset = api.new_set(dataset["id"])
    assert api.post(f"/api/v1/datasets/{dataset['id']}/annotation-sets/{aset['id']}"
                    "/publish").status_code == 200
    text = detail(api.post("/api/v1/training-jobs", json=body(dataset["id"], aset["id"])), 400)
    assert "The dataset has 0 s of ready audio; training needs at least 5 min." in text


def test_types_without_annotations_are_named(api: Api, server_db: Engine,
                                             dataset: dict[str, Any]) -> None:
    audio = add_audio(server_db, dataset["id"], 6)
    aset = labelled_set(api, dataset["id"], audio, types=("glitch",))
    text = detail(api.post("/api/v1/training-jobs", json=body(
        dataset["id"], aset["id"], artifact_types=["glitch", "click"])), 400)
    assert text == ("Cannot train yet. Annotation set v1 has no annotation of type 'click'; "
                    "label at least one in a new version, or remove it from "
                    "config.artifact_types.")


def test_every_failed_precondition_is_reported_at_once(api: Api, server_db: Engine,
                                                       dataset: dict[str, Any]) -> None:
    add_audio(server_db, dataset["id"], 1, duration_ms=None)
    aset = labelled_set(api, dataset["id"], [], types=(), publish=False)
    text = detail(api.post("/api/v1/training-jobs", json=body(
        dataset["id"], aset["id"], artifact_types=["glitch", "click"])), 400)
    assert "is a draft; publish it first" in text
    assert "1 audio file is not ready: clip-0.wav (pending)" in text
    assert "The dataset has 0 s of ready audio" in text
    assert "has no annotation of type 'glitch', 'click'; label at least one" in text
    assert "remove them from config.artifact_types" in text


# ---- created jobs: shape, defaults, a failure that names its cause -------------------------
def test_created_job_has_defaults_filled_and_fails_plainly_without_audio_objects(
        api: Api, server_db: Engine, ready: dict[str, Any]) -> None:
    # the rows say "ready" but storage has no processed copy: the job fails, and says why
    with Session(server_db) as session:
        session.execute(update(AudioFile)
                        .where(AudioFile.dataset_id == uuid.UUID(ready["dataset"]["id"]))
                        .values(normalized_key="nowhere/normalized.flac"))
        session.commit()
    r = api.post("/api/v1/training-jobs", json=body(ready["dataset"]["id"], ready["set"]["id"],
                                                    epochs=3))
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["status"] in ("queued", "training", "failed")
    assert job["config"] == {"artifact_types": ["glitch"], "epochs": 3, "validation_split": 0.2,
                             "learning_rate": 0.001, "batch_size": 32, "chunk_size_ms": 500,
                             "stride_ms": 250}
    assert job["dataset_id"] == ready["dataset"]["id"]
    assert job["annotation_set_id"] == ready["set"]["id"]
    assert job["model_id"] is None and job["created_at"].endswith("Z")
    assert job["progress"]["epochs"] == 3 and job["progress"]["train_loss"] == []
    done = wait_for_job(api.session, api.base_url, job["id"], timeout_s=60)
    assert done["status"] == "failed"
    assert done["error_message"] == ("The processed copy of clip-0.wav is missing from "
                                     "storage; delete and upload the file again")
    assert done["completed_at"] is not None and done["model_id"] is None


def test_files_that_stopped_being_ready_fail_the_job_plainly(api: Api,
                                                             ready: dict[str, Any]) -> None:
    # add_audio's rows are "ready" without a processed copy, like a file being reprocessed
    r = api.post("/api/v1/training-jobs", json=body(ready["dataset"]["id"], ready["set"]["id"]))
    assert r.status_code == 201, r.text
    done = wait_for_job(api.session, api.base_url, r.json()["id"], timeout_s=60)
    assert done["status"] == "failed"
    assert done["error_message"] == (
        "6 audio files are no longer ready (clip-0.wav, clip-1.wav, clip-2.wav, clip-3.wav, "
        "clip-4.wav); wait for processing to finish and start a new training job")


# ---- cancel ---------------------------------------------------------------------------------
def _insert_job(engine: Engine, dataset_id: str, set_id: str, status: str) -> str:
    with Session(engine) as session:
        ds = session.get(Dataset, uuid.UUID(dataset_id))
        assert ds is not None
        row = TrainingJob(tenant_id=ds.tenant_id, dataset_id=ds.id,
                          annotation_set_id=uuid.UUID(set_id), status=status,
                          config={"artifact_types": ["glitch"], "epochs": 20},
                          progress={}, attempts=0, created_at=utcnow())
        session.add(row)
        session.commit()
        return str(row.id)


def test_cancel_pending_then_cancel_again_is_409(api: Api, other_api: Api, server_db: Engine,
                                                 ready: dict[str, Any]) -> None:
    job_id = _insert_job(server_db, ready["dataset"]["id"], ready["set"]["id"], "pending")
    assert detail(other_api.post(f"/api/v1/training-jobs/{job_id}/cancel"),
                  404) == "Training job not found"
    r = api.post(f"/api/v1/training-jobs/{job_id}/cancel")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled" and r.json()["completed_at"] is not None
    assert detail(api.post(f"/api/v1/training-jobs/{job_id}/cancel"), 409) == (
        "Training job is already cancelled; only pending, queued or training jobs can be "
        "cancelled")
    assert api.get(f"/api/v1/training-jobs/{job_id}").json()["status"] == "cancelled"


def test_cancel_of_a_finished_job_is_409(api: Api, server_db: Engine,
                                         ready: dict[str, Any]) -> None:
    for state in ("completed", "failed"):
        job_id = _insert_job(server_db, ready["dataset"]["id"], ready["set"]["id"], state)
        assert detail(api.post(f"/api/v1/training-jobs/{job_id}/cancel"), 409).startswith(
            f"Training job is already {state};")


def test_unknown_job_ids_are_404(api: Api) -> None:
    assert detail(api.get(f"/api/v1/training-jobs/{uuid.uuid4()}"), 404) == \
        "Training job not found"
    assert detail(api.get("/api/v1/training-jobs/not-a-uuid"), 404) == "Job not found"
    assert detail(api.post(f"/api/v1/training-jobs/{uuid.uuid4()}/cancel"), 404) == \
        "Training job not found"


@pytest.fixture
def idle_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server that runs no task consumer: queued jobs stay queued."""
    server = LiveServer(tmp_path / "idle", env=server_env({"RELAY_WORKERS": "0"})).start()
    try:
        yield server
    finally:
        server.stop()


def test_job_is_queued_and_can_be_cancelled_while_queued(idle_server: LiveServer) -> None:
    api = Api(idle_server.base_url, idle_server.api_key)
    engine = create_engine(server_database_url(idle_server))
    try:
        ds = api.new_dataset("idle")
        audio = add_audio(engine, ds["id"], 5, duration_ms=60_000)
        aset = labelled_set(api, ds["id"], audio)
        r = api.post("/api/v1/training-jobs", json=body(ds["id"], aset["id"]))
        assert r.status_code == 201, r.text
        job = r.json()
        assert job["status"] == "queued" and job["started_at"] is None
        assert job["progress"] == {"epoch": 0, "epochs": 20, "train_loss": [],
                                   "validation_loss": []}
        time.sleep(0.5)
        assert api.get(f"/api/v1/training-jobs/{job['id']}").json()["status"] == "queued"
        cancelled = api.post(f"/api/v1/training-jobs/{job['id']}/cancel").json()
        assert cancelled["status"] == "cancelled" and cancelled["model_id"] is None
        listed = api.get("/api/v1/training-jobs", params={"status": "cancelled"}).json()
        assert [j["id"] for j in listed["items"]] == [job["id"]]
    finally:
        api.close()
        engine.dispose()


# ---- lists and tenancy ----------------------------------------------------------------------
def test_list_paginates_and_filters(api: Api, server_db: Engine, ready: dict[str, Any]) -> None:
    ds, aset = ready["dataset"]["id"], ready["set"]["id"]
    ids = [_insert_job(server_db, ds, aset, s)
           for s in ("pending", "completed", "failed", "completed", "cancelled")]
    mine = api.get("/api/v1/training-jobs", params={"dataset_id": ds, "page_size": 2}).json()
    assert mine["total"] == 5 and mine["has_more"] and [j["id"] for j in mine["items"]] == ids[:2]
    last = api.get("/api/v1/training-jobs", params={"dataset_id": ds, "page_size": 2,
                                                    "page": 3}).json()
    assert [j["id"] for j in last["items"]] == ids[4:] and not last["has_more"]
    done = api.get("/api/v1/training-jobs", params={"dataset_id": ds,
                                                    "status": "completed"}).json()
    assert [j["id"] for j in done["items"]] == [ids[1], ids[3]] and done["total"] == 2
    r = api.get("/api/v1/training-jobs", params={"status": "running"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "status"]
    r = api.get("/api/v1/training-jobs", params={"dataset_id": "x"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "dataset_id"]


def test_another_tenant_sees_nothing(relay_server: LiveServer, api: Api, server_db: Engine,
                                     ready: dict[str, Any]) -> None:
    job_id = _insert_job(server_db, ready["dataset"]["id"], ready["set"]["id"], "completed")
    stranger = Api(relay_server.base_url, relay_server.new_key(f"t-{uuid.uuid4().hex[:8]}"))
    try:
        assert detail(stranger.get(f"/api/v1/training-jobs/{job_id}"), 404) == \
            "Training job not found"
        listed = stranger.get("/api/v1/training-jobs").json()
        assert listed["items"] == [] and listed["total"] == 0
        assert stranger.get("/api/v1/training-jobs",
                            params={"dataset_id": ready["dataset"]["id"]}).json()["total"] == 0
    finally:
        stranger.close()
    assert api.get(f"/api/v1/training-jobs/{job_id}").status_code == 200


# ---- real training on the demo recordings ---------------------------------------------------
@pytest.fixture(scope="module")
def demo(relay_server: LiveServer) -> Trainable:
    return trainable_dataset(relay_server.base_url, relay_server.api_key)


def _poll_history(api: Api, job_id: str, timeout_s: float = 300.0) -> list[dict[str, Any]]:
    """Every distinct state of the job seen while polling it to the end."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while True:
        job = api.get(f"/api/v1/training-jobs/{job_id}").json()
        if not seen or (job["status"], job["progress"]) != (seen[-1]["status"],
                                                            seen[-1]["progress"]):
            seen.append(job)
        if job["status"] in TERMINAL:
            return seen
        assert time.monotonic() < deadline, f"job still {job['status']}"
        time.sleep(0.05)


#: enough epochs that polling sees some mid-training (three could pass between two polls)
EPOCHS = 24


def test_training_completes_with_progress_and_a_usable_model(api: Api, other_api: Api,
                                                             demo: Trainable) -> None:
    r = api.post("/api/v1/training-jobs", json={
        "dataset_id": demo.dataset_id, "annotation_set_id": demo.annotation_set_id,
        "config": {"artifact_types": ["glitch", "long_pause", "click"], "epochs": EPOCHS}})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["status"] in ("queued", "training")
    history = _poll_history(api, created["id"])
    final = history[-1]
    assert final["status"] == "completed", final
    statuses = [h["status"] for h in history]
    assert "training" in statuses and statuses.index("training") < statuses.index("completed")
    # the loss lists grow one epoch at a time, to `epochs` entries
    lengths = [len(h["progress"]["train_loss"]) for h in history]
    assert lengths == sorted(lengths) and lengths[-1] == EPOCHS
    assert any(0 < n < EPOCHS for n in lengths), lengths  # seen mid-training, not only at the end
    assert final["progress"]["epoch"] == EPOCHS and final["progress"]["epochs"] == EPOCHS
    assert len(final["progress"]["validation_loss"]) == EPOCHS
    assert all(loss >= 0 for loss in final["progress"]["train_loss"])
    assert final["started_at"] and final["completed_at"] and final["error_message"] is None
    assert final["started_at"] <= final["completed_at"]

    model = api.get(f"/api/v1/models/{final['model_id']}")
    assert model.status_code == 200, model.text
    m = model.json()
    assert m["training_job_id"] == created["id"] and m["is_active"] is True
    assert m["name"].startswith(f"{demo.dataset_name} v{demo.set_version} #")
    assert sorted(m["artifact_types"]) == ["click", "glitch", "long_pause"]
    assert m["dataset_id"] == demo.dataset_id
    assert m["annotation_set_id"] == demo.annotation_set_id
    metrics = m["eval_metrics"]
    assert {"precision", "recall", "f1_score", "per_class"} <= set(metrics)
    assert set(metrics["per_class"]) == {"click", "glitch", "long_pause"}
    for values in metrics["per_class"].values():
        assert 0.0 <= values["f1_score"] <= 1.0 and values["support"] >= 0
    assert sum(v["support"] for v in metrics["per_class"].values()) > 0
    # the job is listed under its filters; other tenants see neither job nor model
    done = api.get("/api/v1/training-jobs", params={"dataset_id": demo.dataset_id,
                                                    "status": "completed"}).json()
    assert created["id"] in [j["id"] for j in done["items"]]
    assert other_api.get(f"/api/v1/models/{m['id']}").status_code == 404
    assert other_api.get(f"/api/v1/training-jobs/{created['id']}").status_code == 404
    assert detail(api.post(f"/api/v1/training-jobs/{created['id']}/cancel"), 409).startswith(
        "Training job is already completed;")


def test_cancel_during_training_stops_without_a_model(api: Api, server_db: Engine,
                                                      demo: Trainable) -> None:
    r = api.post("/api/v1/training-jobs", json={
        "dataset_id": demo.dataset_id, "annotation_set_id": demo.annotation_set_id,
        "config": {"artifact_types": ["glitch", "long_pause"], "epochs": 100,
                   "batch_size": 8}})
    assert r.status_code == 201, r.text
    job_id = r.json()["id"]
    deadline = time.monotonic() + 240
    while True:
        job = api.get(f"/api/v1/training-jobs/{job_id}").json()
        if job["status"] == "training" and job["progress"]["epoch"] >= 1:
            break
        assert job["status"] in ("queued", "training"), job
        assert time.monotonic() < deadline
        time.sleep(0.05)
    cancelled = api.post(f"/api/v1/training-jobs/{job_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    epoch_at_cancel = cancelled.json()["progress"]["epoch"]
    # the task notices within a batch, stops and lets go of its lease
    deadline = time.monotonic() + 20
    while _lease_owner(server_db, job_id) is not None:
        assert time.monotonic() < deadline, "the training task did not stop"
        time.sleep(0.1)
    after = api.get(f"/api/v1/training-jobs/{job_id}").json()
    assert after["status"] == "cancelled" and after["model_id"] is None
    assert after["progress"]["epoch"] <= epoch_at_cancel + 1 < 100
    models = api.get("/api/v1/models", params={"page_size": 100}).json()["items"]
    assert job_id not in [m["training_job_id"] for m in models]


def _lease_owner(engine: Engine, job_id: str) -> str | None:
    with Session(engine) as session:
        row = session.get(TrainingJob, uuid.UUID(job_id))
        assert row is not None
        return row.lease_owner


@pytest.mark.slow
def test_job_survives_its_server_being_killed_mid_training(tmp_path: Path) -> None:
    env = server_env({"RELAY_LEASE_TTL_S": "2", "RELAY_REAPER_INTERVAL_S": "1"})
    server = LiveServer(tmp_path / "kill", env=env).start()
    try:
        data = build_trainable(server.base_url, server.api_key, "Killed demo")
        api = Api(server.base_url, server.api_key)
        r = api.post("/api/v1/training-jobs", json={
            "dataset_id": data.dataset_id, "annotation_set_id": data.annotation_set_id,
            "config": {"artifact_types": ["glitch", "long_pause"], "epochs": 6}})
        assert r.status_code == 201, r.text
        job_id = r.json()["id"]
        deadline = time.monotonic() + 240
        while api.get(f"/api/v1/training-jobs/{job_id}").json()["progress"]["epoch"] < 1:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        api.close()
        server.kill()
        killed = _job_row(server, job_id)
        assert killed.status == "training" and killed.model_id is None
        server.start()
        api = Api(server.base_url, server.api_key)
        done = wait_for_job(api.session, server.base_url, job_id, timeout_s=300)
        assert done["status"] == "completed", done
        assert len(done["progress"]["train_loss"]) == 6
        models = api.get("/api/v1/models").json()
        assert [m["training_job_id"] for m in models["items"]] == [job_id]
        assert models["items"][0]["id"] == done["model_id"]
        assert _job_row(server, job_id).attempts == 2
        model_bytes = (server.data_dir / "objects" / "tenants" / models["items"][0]["tenant_id"]
                       / "models" / f"{done['model_id']}.bin")
        assert model_bytes.stat().st_size > 0
        # the killed run's scratch copies are swept, the finished run's removed
        assert list((server.data_dir / "tmp").glob("audio-training-*")) == []

        # deleting the dataset mid-training removes the job; the model made earlier stays
        r = api.post("/api/v1/training-jobs", json={
            "dataset_id": data.dataset_id, "annotation_set_id": data.annotation_set_id,
            "config": {"artifact_types": ["long_pause"], "epochs": 100}})
        second = r.json()["id"]
        while api.get(f"/api/v1/training-jobs/{second}").json()["status"] != "training":
            assert time.monotonic() < deadline + 300
            time.sleep(0.05)
        assert api.delete(f"/api/v1/datasets/{data.dataset_id}").status_code == 204
        assert api.get(f"/api/v1/training-jobs/{second}").status_code == 404
        time.sleep(2)
        models = api.get("/api/v1/models").json()
        assert [m["id"] for m in models["items"]] == [done["model_id"]]
        assert models["items"][0]["dataset_id"] == data.dataset_id
        assert "Traceback" not in server.log_tail(400)
        api.close()
    finally:
        server.stop()


def _job_row(server: LiveServer, job_id: str) -> TrainingJob:
    engine = create_engine(server_database_url(server))
    try:
        with Session(engine, expire_on_commit=False) as session:
            row = session.get(TrainingJob, uuid.UUID(job_id))
            assert row is not None
            session.expunge(row)
            return row
    finally:
        engine.dispose()
