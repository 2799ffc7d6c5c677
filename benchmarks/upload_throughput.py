"""Upload throughput to Relay Local: the client's streamed storage POST vs a plain
``requests`` multipart POST of the same files, in the same run.

Each file gets a fresh presigned ticket (not timed) for each side; the two
sides alternate file by file so both see the same disk and CPU conditions.
The value is the client's median MB/s per stream; the target is at least 0.9
of the plain ``requests`` baseline.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from benchmarks import result
from relay_desktop.api import RelayClient
from relay_desktop.api.models import UploadTicket
from tests.support.live_server import LiveServer

MB = 1024 * 1024


def _plain_post(ticket: UploadTicket, path: Path) -> None:
    with open(path, "rb") as fh:
        resp = requests.post(ticket.upload_url, data=dict(ticket.fields),
                             files={"file": (path.name, fh, "audio/wav")}, timeout=(5, 120))
    if not 200 <= resp.status_code < 300:
        raise RuntimeError(f"plain upload failed: HTTP {resp.status_code} {resp.text[:200]}")


def run(quick: bool) -> dict[str, Any]:
    size_mb, rounds = (8, 3) if quick else (32, 5)
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        root = Path(tmp)
        path = root / "take.wav"
        path.write_bytes(os.urandom(size_mb * MB))
        with LiveServer(root / "server") as server, \
                RelayClient(server.base_url, server.api_key, timeout=(5, 120)) as client:
            ds = client.datasets.create("bench", ["glitch"])
            ours: list[float] = []
            plain: list[float] = []
            for i in range(rounds):
                order = ("client", "plain") if i % 2 == 0 else ("plain", "client")
                for side in order:
                    ticket = client.audio.request_upload(ds.id, path.name, "audio/wav",
                                                         path.stat().st_size)
                    start = time.perf_counter()
                    if side == "client":
                        client.audio.send_to_storage(ticket, path)
                    else:
                        _plain_post(ticket, path)
                    rate = size_mb / (time.perf_counter() - start)
                    (ours if side == "client" else plain).append(rate)
    value, baseline = statistics.median(ours), statistics.median(plain)
    ratio = value / baseline
    return result("upload_throughput", value, baseline, "MB/s per stream", ">= 0.9 x baseline",
                  ratio >= 0.9, ratio=ratio, file_mb=size_mb, rounds=rounds,
                  client_runs=[round(x, 1) for x in ours],
                  baseline_runs=[round(x, 1) for x in plain])
