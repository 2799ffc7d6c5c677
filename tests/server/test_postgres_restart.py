"""PostgreSQL restarted under load: Relay Local reconnects by itself and loses nothing.

Runs in a step of its own in ``.ci/run`` (``RELAY_TEST_PG_RESTART=1`` with
``RELAY_TEST_DATABASE_URL``, as root, so the cluster can be restarted with
``pg_ctlcluster``). Clients keep creating annotations while the database restarts;
afterwards every request succeeds again without restarting the server, the answers
during the outage were 503s with a ``detail`` and Retry-After (never a hang, never a
dropped connection), and every annotation acknowledged with 201 is in the set once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from tests.server.test_audio_upload import make_audio, storage_post
from tests.support.live_server import LiveServer

CLIENTS = 4

# It restarts the cluster under every other test's feet (their own connections die),
# so it runs on its own: a separate step of .ci/run sets RELAY_TEST_PG_RESTART=1.
pytestmark = pytest.mark.skipif(
    os.environ.get("RELAY_TEST_PG_RESTART") != "1",
    reason="restarts PostgreSQL: runs in its own step of .ci/run (RELAY_TEST_PG_RESTART=1)")


def _require_a_cluster_to_restart() -> None:
    """Asked to run, it fails (never skips) when it cannot do what it is for."""
    assert os.environ.get("RELAY_TEST_DATABASE_URL"), "RELAY_TEST_DATABASE_URL is not set"
    assert shutil.which("pg_ctlcluster"), "pg_ctlcluster is not installed"
    assert os.geteuid() == 0, "restarting the cluster needs root"


def _restart_cluster() -> None:
    version = sorted(os.listdir("/usr/lib/postgresql"), key=lambda v: [int(p) for p in
                                                                        v.split(".")])[-1]
    subprocess.run(["pg_ctlcluster", version, "main", "restart", "-m", "fast"], check=True,
                   timeout=120, capture_output=True)
    deadline = time.monotonic() + 60
    while subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"]).returncode != 0:
        assert time.monotonic() < deadline, "PostgreSQL did not come back"
        time.sleep(0.2)


def test_the_server_reconnects_after_a_postgres_restart_and_loses_nothing(
        tmp_path: Path) -> None:
    _require_a_cluster_to_restart()
    server = LiveServer(tmp_path / "server").start()
    try:
        headers = {"X-API-Key": server.api_key}
        base = server.base_url + "/api/v1"
        ds = requests.post(f"{base}/datasets", headers=headers, timeout=10,
                           json={"name": "pg-restart",
                                 "artifact_types": [{"name": "glitch"}]}).json()
        # an audio row to hang annotations on (a confirmed upload of a tiny WAV)
        data = make_audio(0.2)
        ticket = requests.post(f"{base}/datasets/{ds['id']}/audio/upload-url",
                               headers=headers, timeout=10,
                               json={"filename": "a.wav", "content_type": "audio/wav",
                                     "file_size": len(data)}).json()
        assert storage_post(ticket, data).status_code == 204
        audio_id = ticket["audio_id"]
        assert requests.post(f"{base}/datasets/{ds['id']}/audio/confirm", headers=headers,
                             json={"audio_id": audio_id}, timeout=10).status_code == 200
        aset = requests.post(f"{base}/datasets/{ds['id']}/annotation-sets", headers=headers,
                             timeout=10).json()
        url = f"{base}/datasets/{ds['id']}/annotation-sets/{aset['id']}/annotations"

        stop = threading.Event()
        acknowledged: list[str] = []
        statuses: Counter[int] = Counter()
        problems: list[str] = []
        lock = threading.Lock()

        def client(n: int) -> None:
            with requests.Session() as s:
                s.headers.update(headers)
                i = 0
                while not stop.is_set():
                    marker = f"{n}-{i}"   # every write is told apart by its marker
                    start_ms = i % 150
                    i += 1
                    try:
                        r = s.post(url, timeout=30, json={
                            "audio_file_id": audio_id, "artifact_type": "glitch",
                            "start_ms": start_ms, "end_ms": start_ms + 1,
                            "extra_data": {"load": marker}})
                    except requests.RequestException as exc:   # never: the server answers
                        with lock:
                            problems.append(f"no answer: {exc}")
                        continue
                    with lock:
                        statuses[r.status_code] += 1
                        if r.status_code == 201:
                            acknowledged.append(marker)
                        elif r.status_code < 500:
                            problems.append(f"refused: {r.status_code} {r.text[:200]}")
                        elif r.status_code != 503 or "detail" not in r.json() or (
                                "Retry-After" not in r.headers):
                            problems.append(f"{r.status_code} is not a 503 with a detail and "
                                            f"Retry-After: {r.text[:200]}")
                    time.sleep(0.01)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        time.sleep(1.0)
        _restart_cluster()
        restarted_at = len(acknowledged)
        deadline = time.monotonic() + 30
        while len(acknowledged) < restarted_at + 20:   # writes succeed again by themselves
            assert time.monotonic() < deadline, (statuses, server.log_tail())
            time.sleep(0.1)
        stop.set()
        for t in threads:
            t.join(30)
        assert not problems, problems[:5]
        assert statuses[503] > 0, statuses   # the outage was seen, and answered in words
        assert server.proc is not None and server.proc.poll() is None
        assert requests.get(f"{base}/datasets", headers=headers, timeout=10).status_code == 200
        detail = requests.get(f"{base}/datasets/{ds['id']}/annotation-sets/{aset['id']}",
                              headers=headers, timeout=60).json()
        stored = [(a.get("extra_data") or {}).get("load") for a in detail["annotations"]]
        counts = Counter(stored)
        assert all(counts[s] == 1 for s in acknowledged), "an acknowledged write is missing"
        assert max(counts.values()) == 1, "a write is stored twice"
    finally:
        server.stop()
