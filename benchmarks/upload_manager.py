"""upload_manager: 200 files x 5 MB dropped onto a dataset, until every one is confirmed.

Ours: ``UploadManager.add_paths`` on the folder with a real Qt event loop
running (scan, soundfile probe and SHA-256 of every file, the duplicate check,
then 3 upload lanes). Baseline, in the same run on the same server: the client
library uploading the same files one after another (``client.audio.upload``).
The server's processing workers are off (``RELAY_WORKERS=0``) so both sides
time the uploads alone, not decoding competing for the same CPUs.

Also measured during our run: the longest GUI event-loop stall (a 5 ms QTimer,
as in gui_stall) and the client's memory growth (peak RSS over the start, psutil).
Targets: at least 2x faster, stall < 50 ms, growth < 100 MB.
"""

from __future__ import annotations

import os
import struct
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import qt_app

MB = 1024 * 1024
TARGET_SPEEDUP = 2.0
TARGET_STALL_MS = 50.0
TARGET_GROWTH_MB = 100.0


def write_files(folder: Path, count: int, size: int) -> list[Path]:
    """``count`` distinct 16-bit mono WAV files of ``size`` bytes (random samples)."""
    folder.mkdir(parents=True)
    data_bytes = size - 44
    body = bytearray(os.urandom(data_bytes))
    paths = []
    for i in range(count):
        body[:8] = struct.pack("<Q", i)   # every file's content differs
        path = folder / f"take_{i:04d}.wav"
        with open(path, "wb") as fh:
            fh.write(b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE")
            fh.write(b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16))
            fh.write(b"data" + struct.pack("<I", data_bytes))
            fh.write(body)
        paths.append(path)
    return paths


def run(quick: bool) -> dict[str, Any]:
    app = qt_app()

    import psutil
    from PySide6.QtCore import QThreadPool, QTimer

    import benchmarks
    from benchmarks.gui_stall import StallProbe, _run_loop
    from relay_desktop.api import RelayClient
    from relay_desktop.core.paths import AppPaths
    from relay_desktop.core.settings import Settings
    from relay_desktop.core.uploads.state import UploadState, UploadTarget
    from relay_desktop.services.activity import ActivityTracker
    from relay_desktop.services.api_worker import ApiWorker
    from relay_desktop.services.context import AppContext, ConnectionInfo
    from relay_desktop.services.upload_manager import UploadManager
    from tests.support.live_server import LiveServer, server_env

    count = 40 if quick else 200
    size = 5 * MB
    lanes = 3
    proc = psutil.Process()
    with tempfile.TemporaryDirectory(prefix="relay-bench-uploads-") as tmp:
        root = Path(tmp)
        paths = write_files(root / "drop", count, size)
        env = server_env({"RELAY_WORKERS": "0"})
        with LiveServer(root / "server", env=env) as server:
            with RelayClient(server.base_url, server.api_key, timeout=(5, 120)) as client:
                base_ds = client.datasets.create("baseline", ["glitch"]).id
                ours_ds = client.datasets.create("manager", ["glitch"]).id
                t0 = time.perf_counter()
                for path in paths:
                    client.audio.upload(base_ds, path, content_type="audio/wav")
                baseline_s = time.perf_counter() - t0

            home = AppPaths(root / "home" / "data", root / "home" / "cache",
                            root / "home" / "config").ensure()
            worker = ApiWorker(server.base_url, server.api_key, timeout=(5.0, 120.0))
            pool = QThreadPool()
            context = AppContext(worker=worker,
                                 connection=ConnectionInfo("bench", server.base_url, False,
                                                           "bench"),
                                 settings=Settings(home.config / "settings.json"), paths=home,
                                 thread_pool=pool, activity=ActivityTracker())
            manager = UploadManager(context)
            manager.set_lanes(lanes)
            _run_loop(0.3)
            idle = StallProbe()            # the same probe on an idle loop: the machine's noise
            idle.start()
            _run_loop(2.0)
            idle_stall_ms = idle.stop()
            rss_before = proc.memory_info().rss
            peak = [rss_before]
            sampler = QTimer()
            sampler.setInterval(50)
            sampler.timeout.connect(lambda: peak.__setitem__(
                0, max(peak[0], proc.memory_info().rss)))
            probe = StallProbe()
            sampler.start()
            probe.start()
            t0 = time.perf_counter()
            manager.add_paths([root / "drop"], UploadTarget("dataset", ours_ds, "manager"))

            def confirmed() -> bool:
                rows = manager.rows()
                return len(rows) == count and all(r.state.is_done for r in rows)

            finished = _run_loop(600.0, confirmed, step_ms=20)
            ours_s = time.perf_counter() - t0
            stall_ms = probe.stop()
            sampler.stop()
            failed = [r for r in manager.rows() if r.state is not UploadState.PROCESSING]
            manager.shutdown(5000)
            worker.shutdown(5000)
            app.processEvents()
            with RelayClient(server.base_url, server.api_key) as client:
                on_server = client.audio.list(ours_ds, page_size=1).total
    growth_mb = (peak[0] - rss_before) / MB
    speedup = baseline_s / ours_s
    met = (finished and not failed and on_server == count and speedup >= TARGET_SPEEDUP
           and stall_ms < TARGET_STALL_MS and growth_mb < TARGET_GROWTH_MB)
    return benchmarks.result(
        "upload_manager", ours_s, baseline_s, "s until all confirmed",
        f">= {TARGET_SPEEDUP:g}x faster with {lanes} lanes, stall < {TARGET_STALL_MS:g} ms, "
        f"growth < {TARGET_GROWTH_MB:g} MB", met, ratio=speedup,
        files=count, file_mb=size / MB, lanes=lanes,
        ours_mb_per_s=round(count * size / MB / ours_s, 1),
        baseline_mb_per_s=round(count * size / MB / baseline_s, 1),
        longest_stall_ms=round(stall_ms, 2), idle_loop_stall_ms=round(idle_stall_ms, 2),
        memory_growth_mb=round(growth_mb, 1), load_average_1m=round(os.getloadavg()[0], 2),
        files_on_server=on_server, not_confirmed=len(failed))
