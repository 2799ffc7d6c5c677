"""Durable processing: a server killed mid-processing finishes the job after a restart,
and ``relay-server worker`` processes the same queue from another process.

The kill is not left to timing: the server is frozen (SIGSTOP) once the file has left
"pending", the database is read to prove the work was in flight, then it is killed; the
restarted server must say it queued the file again.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import requests
import soundfile as sf

from tests.server.conftest import Api
from tests.server.test_audio_upload import (
    get_audio,
    make_audio,
    request_upload,
    upload,
    wait_processed,
)
from tests.support.live_server import LiveServer, server_env

pytestmark = pytest.mark.slow


def _long_wav(path: Path, seconds: int, rate: int = 48_000) -> Path:
    rng = np.random.default_rng(3)
    with sf.SoundFile(path, "w", rate, 1, "PCM_16") as out:
        for _ in range(seconds // 10):
            out.write((0.2 * rng.standard_normal(rate * 10)).astype(np.float32))
    return path


def _wait_until_processing_starts(api: Api, dataset_id: str, audio_id: str) -> None:
    """Until the file leaves "pending" (its processing takes seconds, not milliseconds)."""
    deadline = time.monotonic() + 30
    status = "pending"
    while status == "pending" and time.monotonic() < deadline:
        status = get_audio(api, dataset_id, audio_id)["processing_status"]
        time.sleep(0.02)


def _status_in_database(server: LiveServer, audio_id: str) -> str:
    """The committed processing status of ``audio_id``, read from the server's database."""
    from sqlalchemy import create_engine, text

    url = server.env.get("RELAY_DATABASE_URL") or f"sqlite:///{server.data_dir / 'relay.sqlite3'}"
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            ids = (audio_id, uuid.UUID(audio_id).hex)  # however the dialect stores a UUID
            for candidate in ids:
                status = conn.execute(text("SELECT processing_status FROM audio_files "
                                           "WHERE CAST(id AS TEXT) = :id"),
                                      {"id": candidate}).scalar()
                if status is not None:
                    return str(status)
    finally:
        engine.dispose()
    raise AssertionError(f"audio file {audio_id} is not in the server's database")


def test_kill_during_processing_then_restart_finishes_the_file(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "server", env=server_env({"RELAY_WORKERS": "1"})).start()
    try:
        api = Api(server.base_url, server.api_key)
        dataset = api.new_dataset("durable")
        source = _long_wav(tmp_path / "long.wav", 600)  # 10 minutes: seconds to process
        ticket = request_upload(api, dataset["id"], "long.wav", source.stat().st_size)
        with open(source, "rb") as fh:
            r = requests.post(ticket["upload_url"], data=ticket["fields"],
                              files={"file": ("long.wav", fh)}, timeout=120)
        assert r.status_code == 204
        small = upload(api, dataset["id"], make_audio(1.0), "queued-behind.wav", confirm=False)
        confirm = f"/api/v1/datasets/{dataset['id']}/audio/confirm"
        assert api.post(confirm, json={"audio_id": ticket["audio_id"]}).status_code == 200
        assert api.post(confirm, json={"audio_id": small}).status_code == 200

        _wait_until_processing_starts(api, dataset["id"], ticket["audio_id"])
        server.freeze()  # frozen: what the database says now is final
        frozen = _status_in_database(server, ticket["audio_id"])
        assert frozen in ("normalizing", "embedding"), frozen
        server.kill()  # SIGKILL: the in-flight task is lost with the process
        api.close()

        server.start()  # same data folder, same key
        api = Api(server.base_url, server.api_key)
        item = wait_processed(api, dataset["id"], ticket["audio_id"], timeout=120)
        assert item["processing_status"] == "ready", (item, server.log_tail())
        assert (item["duration_ms"], item["sample_rate"], item["channels"]) == (600_000,
                                                                               48_000, 1)
        assert re.search(r"Queued \d+ unfinished audio file\(s\) for processing again",
                         server.log_tail(400))
        queued = wait_processed(api, dataset["id"], small, timeout=60)
        assert queued["processing_status"] == "ready"
        scratch = server.data_dir / "tmp"  # the dead run's scratch folder is swept too
        deadline = time.monotonic() + 10
        while list(scratch.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list(scratch.iterdir()) == []
        api.close()
    finally:
        server.stop()


@pytest.fixture
def server_without_workers(tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path / "shared", env=server_env({"RELAY_WORKERS": "0"})).start()
    try:
        yield server
    finally:
        server.stop()


def test_standalone_worker_consumes_the_servers_queue(server_without_workers: LiveServer) -> None:
    server = server_without_workers
    api = Api(server.base_url, server.api_key)
    dataset = api.new_dataset("worker")
    audio_id = upload(api, dataset["id"], make_audio(1.5, 32_000, 1), "w.wav")
    time.sleep(1.0)
    assert get_audio(api, dataset["id"], audio_id)["processing_status"] == "pending"

    env = dict(server.env, RELAY_WORKERS="1")
    worker = subprocess.Popen(
        [sys.executable, "-m", "relay_server", "worker", "--data-dir", str(server.data_dir)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        item = wait_processed(api, dataset["id"], audio_id, timeout=60)
        assert item["processing_status"] == "ready"
        assert (item["duration_ms"], item["sample_rate"], item["channels"]) == (1500, 32_000, 1)
        second = upload(api, dataset["id"], make_audio(0.5), "w2.wav")
        assert wait_processed(api, dataset["id"], second)["processing_status"] == "ready"
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            _out, err = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            _out, err = worker.communicate()
    assert worker.returncode == 0, err[-2000:]
    api.close()
