"""Peak RSS growth of the client while it uploads 1 GB (a sparse file to a storage
sink that discards the bytes), against the same measurement for a plain
``requests`` multipart POST (which builds the whole body in memory) of a
smaller slice, in the same run. Target: the client grows by less than 50 MB.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import requests

from benchmarks import result
from relay_desktop.api import RelayClient
from tests.support.fault_server import FaultServer

MB = 1024 * 1024


def _peak_growth(action: Callable[[], Any]) -> float:
    """Run ``action`` while sampling this process's RSS; return peak growth in MB."""
    proc = psutil.Process()
    base = proc.memory_info().rss
    peak = base
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, proc.memory_info().rss)
            stop.wait(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        action()
    finally:
        stop.set()
        sampler.join()
    peak = max(peak, proc.memory_info().rss)
    return (peak - base) / MB


def run(quick: bool) -> dict[str, Any]:
    size = (256 if quick else 1024) * MB
    baseline_size = (32 if quick else 128) * MB
    with tempfile.TemporaryDirectory(prefix="bench-mem-") as tmp, FaultServer() as api, \
            FaultServer() as storage:
        big = Path(tmp) / "big.wav"
        with open(big, "wb") as fh:
            fh.truncate(size)
        small = Path(tmp) / "small.wav"
        with open(small, "wb") as fh:
            fh.truncate(baseline_size)
        sink = storage.sink("/bucket")
        api.script_dataset_upload(sink)
        with RelayClient(api.url, "bench-key-0000") as client:
            start = time.perf_counter()
            growth = _peak_growth(lambda: client.audio.upload("d", big))
            seconds = time.perf_counter() - start

        def plain() -> None:
            with open(small, "rb") as fh:
                requests.post(sink, data={"key": "k", "policy": "p"},
                              files={"file": ("small.wav", fh, "audio/wav")}, timeout=(5, 120))

        baseline = _peak_growth(plain)
    return result("upload_memory", growth, baseline, "MB peak RSS growth", "< 50 MB",
                  growth < 50, upload_mb=size // MB, upload_seconds=round(seconds, 2),
                  baseline_upload_mb=baseline_size // MB,
                  baseline_note="plain requests multipart POST of the smaller file")
