"""50 concurrent clients on loopback: no errors, nothing lost or stored twice, bounded memory.

A short run of the ``server_load`` benchmark's mix (labelling, listing, reading
jobs, uploading) so CI stays quick; ``python -m benchmarks server_load`` runs it
for a minute and reports the latencies. The PostgreSQL pass of ``.ci/run`` runs
this file again on PostgreSQL.
"""

from __future__ import annotations

import os
from pathlib import Path

import psutil

from tests.support.live_server import LiveServer
from tests.support.load import LoadRun

CLIENTS = 50
SECONDS = float(os.environ.get("RELAY_LOAD_SECONDS", "8"))
MAX_GROWTH_MB = 300


def test_fifty_clients_lose_nothing_and_get_no_errors(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "server").start()
    try:
        assert server.proc is not None
        process = psutil.Process(server.proc.pid)
        load = LoadRun(server.base_url, server.api_key)
        before = process.memory_info().rss
        report = load.run(CLIENTS, SECONDS)
        growth_mb = (process.memory_info().rss - before) / 2**20
        assert not report.errors, report.errors[:5]
        assert report.requests > CLIENTS, report.statuses
        assert report.acknowledged_annotations and report.acknowledged_uploads
        assert report.lost() == 0 and report.duplicated() == 0
        assert sum(report.stored_annotations.values()) == len(report.acknowledged_annotations)
        assert sum(report.stored_uploads.values()) == len(report.acknowledged_uploads)
        assert growth_mb < MAX_GROWTH_MB, f"the server grew by {growth_mb:.0f} MB"
        assert server.proc.poll() is None
    finally:
        server.stop()
