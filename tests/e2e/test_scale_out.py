"""Scale-out: an API server that runs no tasks, two ``relay-server worker`` processes on a
Redis queue, a training job and an inference job done by the workers, and a worker
SIGKILLed mid-training whose job the other worker finishes (one model, no second run).

Each worker has a data folder of its own, as on another machine: the processes share
only the database URL, the S3-compatible store (moto) and Redis."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, select

from relay_server.db.models import Model, TrainingJob
from relay_server.demo import demo_dir, load_manifest
from relay_server.jobs.leases import QUEUED_MARK
from tests.server.conftest import Api, server_database_url
from tests.support.live_server import LiveServer, server_env
from tests.support.moto_s3 import AWS_ENV, moto_s3
from tests.support.redis_server import redis_url

pytestmark = pytest.mark.slow
LEASE_TTL_S = "3"


class Worker:
    """One ``relay-server worker`` process with its own log file."""

    def __init__(self, name: str, data_dir: Path, env: dict[str, str],
                 *options: str) -> None:
        self.data_dir = data_dir
        self.log_path = data_dir.parent / f"{name}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "relay_server", "worker", "--data-dir", str(data_dir),
             *options], stdout=self._log, stderr=subprocess.STDOUT, env=env)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


def _until(what: str, check: Callable[[], Any], timeout: float, every: float = 0.05,
           logs: Callable[[], str] = lambda: "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{logs()}")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[LiveServer, list[Worker]]]:
    """API server (RELAY_WORKERS=0) + two workers sharing its database, storage and Redis."""
    with ExitStack() as stack:
        queue_url = stack.enter_context(redis_url(tmp_path / "redis"))
        s3_url = stack.enter_context(moto_s3(tmp_path / "s3", "relay-scale-out"))
        env = server_env({"RELAY_WORKERS": "0", "RELAY_QUEUE_URL": queue_url,
                          "RELAY_LEASE_TTL_S": LEASE_TTL_S, "RELAY_REAPER_INTERVAL_S": "1",
                          "RELAY_STORAGE": "s3", "RELAY_S3_BUCKET": "relay-scale-out",
                          "RELAY_S3_ENDPOINT_URL": s3_url, **AWS_ENV})
        env.setdefault("RELAY_DATABASE_URL", f"sqlite:///{tmp_path / 'shared.sqlite3'}")
        server = LiveServer(tmp_path / "server", env=env).start()
        stack.callback(server.stop)
        seeded = subprocess.run(
            [sys.executable, "-m", "relay_server", "seed-demo", "--no-jobs", "--data-dir",
             str(server.data_dir)], env=env, capture_output=True, text=True, timeout=300)
        assert seeded.returncode == 0, seeded.stderr[-3000:]
        worker_env = dict(env, RELAY_WORKERS="1")
        without_url = {k: v for k, v in worker_env.items() if k != "RELAY_QUEUE_URL"}
        workers = [Worker("worker-1", tmp_path / "machine-1", worker_env),  # URL from the env
                   Worker("worker-2", tmp_path / "machine-2", without_url,
                          "--queue-url", queue_url)]
        for worker in workers:
            stack.callback(worker.stop)
        yield server, workers


def test_two_workers_on_redis_finish_training_despite_a_kill_and_run_inference(
        cluster: tuple[LiveServer, list[Worker]]) -> None:
    server, workers = cluster
    api = Api(server.base_url, server.api_key)
    engine = create_engine(server_database_url(server))

    def logs() -> str:
        return "\n".join(f"== {w.log_path.name}\n" + "\n".join(w.log().splitlines()[-25:])
                         for w in workers) + "\n== server\n" + server.log_tail(25)

    try:
        dataset = next(d for d in api.get("/api/v1/datasets").json()["items"])
        sets = api.get(f"/api/v1/datasets/{dataset['id']}/annotation-sets").json()["items"]
        truth = next(s for s in sets if s["status"] == "published")
        types = [t["name"] for t in dataset["artifact_types"]]
        r = api.post("/api/v1/training-jobs", json={
            "dataset_id": dataset["id"], "annotation_set_id": truth["id"],
            "config": {"artifact_types": types, "epochs": 5}})
        assert r.status_code == 201, r.text
        job_id = uuid.UUID(r.json()["id"])

        def holder() -> str | None:
            with engine.connect() as conn:
                status, owner = conn.execute(select(TrainingJob.status, TrainingJob.lease_owner)
                                             .where(TrainingJob.id == job_id)).one()
            if status == "training" and owner and owner != QUEUED_MARK:
                return str(owner)
            assert status in ("pending", "queued", "training"), status
            return None

        owner = _until("a worker to start training", holder, 120, logs=logs)
        pid = int(owner.rsplit(":", 2)[1])
        victim = next(w for w in workers if w.pid == pid)
        survivor = next(w for w in workers if w is not victim)
        victim.kill()  # mid-training: no chance to release the lease or say anything

        job = _until("the training job to finish on the other worker",
                     lambda: (j := api.get(f"/api/v1/training-jobs/{job_id}").json())["status"]
                     in ("completed", "failed", "cancelled") and j, 240, every=0.5, logs=logs)
        assert job["status"] == "completed", job
        assert job["progress"]["epoch"] == job["progress"]["epochs"] == 5
        assert f"TrainingJob {job_id} leased by" in survivor.log()
        with engine.connect() as conn:
            attempts, lease = conn.execute(select(TrainingJob.attempts, TrainingJob.lease_owner)
                                           .where(TrainingJob.id == job_id)).one()
            models = conn.execute(select(Model.id).where(Model.training_job_id == job_id)).all()
        assert attempts == 2 and lease is None  # the killed run and the one that finished
        assert [str(m) for (m,) in models] == [job["model_id"]]

        r = api.post("/api/v1/inference-jobs", json={"model_id": job["model_id"]})
        assert r.status_code == 201, r.text
        inference_id = r.json()["id"]
        heldout = load_manifest()["heldout_files"]
        for entry in heldout:
            source = demo_dir() / entry["filename"]
            ticket = api.post(f"/api/v1/inference-jobs/{inference_id}/files/upload-url", json={
                "filename": entry["filename"], "content_type": "audio/ogg",
                "file_size_bytes": source.stat().st_size}).json()
            with open(source, "rb") as fh:
                stored = requests.post(ticket["upload_url"], data=ticket["upload_fields"],
                                       files={"file": (entry["filename"], fh)}, timeout=60)
            assert stored.status_code == 204, stored.text
            confirmed = api.post(f"/api/v1/inference-jobs/{inference_id}/files/confirm",
                                 json={"file_id": ticket["file_id"]})
            assert confirmed.status_code == 200, confirmed.text

        done = _until("the inference job to finish",
                      lambda: (j := api.get(f"/api/v1/inference-jobs/{inference_id}").json())[
                          "status"] in ("completed", "failed", "cancelled") and j,
                      120, every=0.5, logs=logs)
        assert done["status"] == "completed", done
        assert (done["total_files"], done["processed_files"], done["failed_files"]) == (2, 2, 0)
        assert done["total_detections"] == sum(len(f["detections"]) for f in done["files"]) > 0
        assert survivor.proc.poll() is None
        # the queue was Redis and the objects were on S3 all along: no process made a
        # SQLite queue or stored an object in its data folder
        for folder in (server.data_dir, *(w.data_dir for w in workers)):
            assert not (folder / "queue.sqlite3").exists()
            assert not any((folder / "objects").rglob("*.*"))
        assert "consuming redis://127.0.0.1:" in survivor.log()
        assert all(f"InferenceFile {f['id']} leased by" in survivor.log() for f in done["files"])
    finally:
        api.close()
        engine.dispose()
