"""A 1 GB upload keeps the client's memory flat (sparse file, a storage sink that discards)."""

from __future__ import annotations

import time
from pathlib import Path

import psutil
import pytest

from relay_desktop.api import RelayClient
from tests.support.fault_server import FaultServer

GB = 1024 ** 3


@pytest.mark.slow
def test_1gb_upload_memory_stays_flat(fault: FaultServer, other_host: FaultServer,
                                      tmp_path: Path) -> None:
    big = tmp_path / "big.wav"
    with open(big, "wb") as fh:
        fh.truncate(GB)
    sink = other_host.sink("/bucket")
    fault.script_dataset_upload(sink)
    proc = psutil.Process()
    peak = 0

    def progress(done: int, total: int) -> None:
        nonlocal peak
        peak = max(peak, proc.memory_info().rss)

    with RelayClient(fault.url, "k" * 10) as c:
        base = proc.memory_info().rss
        start = time.monotonic()
        c.audio.upload("d", big, progress=progress)
        elapsed = time.monotonic() - start
    (post,) = other_host.requests_to("POST", "/bucket")
    assert post.body_length > GB  # every byte arrived (plus the form around it)
    growth_mb = (peak - base) / 2 ** 20
    assert growth_mb < 50, f"RSS grew {growth_mb:.1f} MB during a 1 GB upload"
    assert elapsed < 60
