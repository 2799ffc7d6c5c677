"""server_load: 50 concurrent clients on loopback for a minute against one Relay Local.

The mix of ``tests/support/load.py`` (create annotations, list datasets and audio,
read the set, list training and inference jobs, upload small WAVs). value: the p95
latency of every request at 50 clients; baseline: the p95 of one client doing the
same mix for a fifth of the time, in the same run on the same server; also the
requests per second, the p95 per operation, errors, lost and duplicated rows, and
the server's memory growth. Target: no errors, nothing lost or duplicated, memory
growth < 300 MB (the latency is reported, as the issue asks). ``--quick``: 10 s.
On PostgreSQL when ``RELAY_TEST_DATABASE_URL`` is set (a fresh database).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import psutil

from benchmarks import result
from tests.support.live_server import LiveServer
from tests.support.load import LoadRun

CLIENTS = 50
MAX_GROWTH_MB = 300.0


def run(quick: bool) -> dict[str, Any]:
    seconds = 10.0 if quick else 60.0
    with tempfile.TemporaryDirectory(prefix="relay-load-") as tmp:
        server = LiveServer(Path(tmp) / "server").start()
        try:
            assert server.proc is not None
            process = psutil.Process(server.proc.pid)
            baseline = LoadRun(server.base_url, server.api_key).run(1, seconds / 5)
            load = LoadRun(server.base_url, server.api_key)
            before = process.memory_info().rss
            report = load.run(CLIENTS, seconds)
            growth_mb = (process.memory_info().rss - before) / 2**20
        finally:
            server.stop()
    value = report.p95_ms()["all"]
    base = baseline.p95_ms()["all"]
    clean = not report.errors and report.lost() == 0 and report.duplicated() == 0
    return result(
        "server_load", value, base, "ms p95 per request",
        f"{CLIENTS} clients for {seconds:.0f} s: no errors, nothing lost or duplicated, "
        f"growth < {MAX_GROWTH_MB:.0f} MB", clean and growth_mb < MAX_GROWTH_MB,
        database="postgresql" if os.environ.get("RELAY_TEST_DATABASE_URL") else "sqlite",
        clients=CLIENTS, seconds=seconds, requests=report.requests,
        requests_per_s=round(report.requests / seconds, 1), p95_by_operation=report.p95_ms(),
        errors=len(report.errors), first_errors=report.errors[:3], lost=report.lost(),
        duplicated=report.duplicated(), annotations=len(report.acknowledged_annotations),
        uploads=len(report.acknowledged_uploads), memory_growth_mb=round(growth_mb, 1),
        baseline_requests_per_s=round(baseline.requests / (seconds / 5), 1))
