"""upload_manager: 200 files x 5 MB dropped onto a dataset, until every one is confirmed.

Ours: ``UploadManager.add_paths`` on the folder with a real Qt event loop
running (scan, soundfile probe and SHA-256 of every file, the duplicate check,
then 3 upload lanes). Baseline, in the same run on the same server: the client
library uploading the same files one after another (``client.audio.upload``).
The server's processing workers are off (``RELAY_WORKERS=0``) so both sides
time the uploads alone, not decoding competing for the same CPUs.

"Dropped onto a dataset" is read two ways, both reported:

- ``loopback``: Relay Local on this machine, reached over 127.0.0.1 (no round
  trip to hide: both sides are bound by the machine's CPUs and disk);
- ``link``: the same server behind a link adding a ``LINK_RTT_MS`` round trip to
  every exchange (``tests.support.latency_link``, another process; bandwidth not
  limited), as a hosted server is reached. This is what lanes are for: they
  overlap one file's round trips with another's bytes.

Also measured during each of our runs: the longest GUI event-loop stall (a 5 ms
QTimer, as in gui_stall) and the client's memory growth (peak RSS over the start,
psutil). Targets: at least 2x faster, stall < 50 ms, growth < 100 MB, read both
ways: ``met`` only when both readings meet them (``link_met``, ``loopback_met``).
``value``/``baseline``/``ratio`` are the link reading's. The server is started as
the app starts Relay Local (``--nice 10``; ``UPLOAD_MANAGER_SERVER_NICE=0`` for
normal priority), and the link's own CPU time is reported (``link_relay_cpu_s``):
on a real network it would not share this machine's cores.

What bounds each reading is measured too: the CPU seconds the client (this
process) and the server used during the baseline and during ours
(``*_baseline_client_server_cpu_s``, ``*_client_server_cpu_s``), and
``*_ceiling_ratio``, the most any number of lanes could gain on this machine:
the baseline's wall time over its CPU time spread evenly over every core, with
no work added. Over loopback the baseline already keeps about one core busy,
so on two cores the ceiling is under 2x before anything is added.
"""

from __future__ import annotations

import os
import struct
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

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


#: the link's round trip; ``UPLOAD_MANAGER_RTT_MS`` sets another (the ratio grows with it)
LINK_RTT_MS = float(os.environ.get("UPLOAD_MANAGER_RTT_MS", "40"))


def cpu_seconds(server_pid: int) -> np.ndarray:
    """User + system CPU seconds used so far: ``[client, server]``, the client being this
    process, the server the process ``server_pid`` with its children."""
    import psutil

    def used(proc: psutil.Process) -> float:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            return 0.0
        return float(times.user + times.system)

    server = psutil.Process(server_pid)
    return np.array([used(psutil.Process()),
                     sum(used(p) for p in (server, *server.children(recursive=True)))])


def _timed_baseline(url: str, key: str, dataset: str, paths: list[Path]) -> float:
    from relay_desktop.api import RelayClient

    with RelayClient(url, key, timeout=(5, 120)) as client:
        t0 = time.perf_counter()
        for path in paths:
            client.audio.upload(dataset, path, content_type="audio/wav")
        return time.perf_counter() - t0


def _timed_manager(url: str, key: str, dataset: str, drop: Path, count: int, lanes: int,
                   home_root: Path) -> dict[str, Any]:
    """Our upload manager on ``drop`` (real event loop): seconds, stall, memory, failures."""
    import psutil
    from PySide6.QtCore import QTimer

    from benchmarks._bench_context import bench_context
    from benchmarks.gui_stall import StallProbe, _run_loop
    from relay_desktop.core.uploads.state import UploadState, UploadTarget
    from relay_desktop.services.upload_manager import UploadManager

    proc = psutil.Process()
    context = bench_context(url, key, home_root, timeout=(5.0, 120.0))
    worker = context.worker
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
    sampler.timeout.connect(lambda: peak.__setitem__(0, max(peak[0], proc.memory_info().rss)))
    probe = StallProbe()
    sampler.start()
    probe.start()
    t0 = time.perf_counter()
    manager.add_paths([drop], UploadTarget("dataset", dataset, "manager"))

    def confirmed() -> bool:
        rows = manager.rows()
        return len(rows) == count and all(r.state.is_done for r in rows)

    finished = _run_loop(600.0, confirmed, step_ms=20)
    seconds = time.perf_counter() - t0
    stall_ms = probe.stop()
    sampler.stop()
    failed = [r for r in manager.rows() if r.state is not UploadState.PROCESSING]
    manager.shutdown(5000)
    worker.shutdown(5000)
    _run_loop(0.1)
    return {"seconds": seconds, "finished": finished, "not_confirmed": len(failed),
            "stall_ms": stall_ms, "idle_stall_ms": idle_stall_ms,
            "growth_mb": (peak[0] - rss_before) / MB}


def _reading(name: str, url: str, key: str, root: Path, paths: list[Path],
             lanes: int, server_pid: int) -> dict[str, Any]:
    """Baseline then ours through ``url``; the figures of one reading.

    ``ceiling_ratio`` is the most any number of lanes could gain here: the
    baseline's wall time over its CPU time (this process and the server) spread
    evenly over every core, with no work added.
    """
    from relay_desktop.api import RelayClient

    with RelayClient(url, key) as client:
        base_ds = client.datasets.create(f"baseline-{name}", ["glitch"]).id
        ours_ds = client.datasets.create(f"manager-{name}", ["glitch"]).id
    cpu0 = cpu_seconds(server_pid)
    baseline_s = _timed_baseline(url, key, base_ds, paths)
    baseline_cpu_s = cpu_seconds(server_pid) - cpu0
    ceiling = baseline_s / max(1e-9, baseline_cpu_s.sum() / (os.cpu_count() or 1))
    cpu0 = cpu_seconds(server_pid)
    ours = _timed_manager(url, key, ours_ds, root / "drop", len(paths), lanes,
                          root / f"home-{name}")
    ours_cpu_s = cpu_seconds(server_pid) - cpu0
    with RelayClient(url, key) as client:
        on_server = client.audio.list(ours_ds, page_size=1).total
    total_mb = sum(p.stat().st_size for p in paths) / MB
    speedup = baseline_s / ours["seconds"]
    met = (ours["finished"] and not ours["not_confirmed"] and on_server == len(paths)
           and speedup >= TARGET_SPEEDUP and ours["stall_ms"] < TARGET_STALL_MS
           and ours["growth_mb"] < TARGET_GROWTH_MB)
    return {"met": met, "seconds": round(ours["seconds"], 3), "baseline_s": round(baseline_s, 3),
            "ratio": round(speedup, 3), "mb_per_s": round(total_mb / ours["seconds"], 1),
            "baseline_mb_per_s": round(total_mb / baseline_s, 1),
            "client_server_cpu_s": [round(float(x), 2) for x in ours_cpu_s],
            "baseline_client_server_cpu_s": [round(float(x), 2) for x in baseline_cpu_s],
            "ceiling_ratio": round(ceiling, 2),
            "longest_stall_ms": round(ours["stall_ms"], 2),
            "idle_loop_stall_ms": round(ours["idle_stall_ms"], 2),
            "memory_growth_mb": round(ours["growth_mb"], 1), "files_on_server": on_server,
            "not_confirmed": ours["not_confirmed"]}


def run(quick: bool) -> dict[str, Any]:
    qt_app()
    import benchmarks
    from relay_desktop.services.local_workspace import SERVER_NICE
    from tests.support.latency_link import LatencyLink
    from tests.support.live_server import LiveServer, server_env

    # Relay Local as the app starts it; UPLOAD_MANAGER_SERVER_NICE=0: normal priority
    server_nice = int(os.environ.get("UPLOAD_MANAGER_SERVER_NICE", SERVER_NICE))
    count = 40 if quick else 200
    lanes = 3
    readings: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="relay-bench-uploads-") as tmp:
        root = Path(tmp)
        paths = write_files(root / "drop", count, 5 * MB)
        with LiveServer(root / "server", env=server_env({"RELAY_WORKERS": "0"}),
                        serve_args=("--nice", str(server_nice))) as server:
            assert server.proc is not None
            pid = server.proc.pid
            readings["loopback"] = _reading("loopback", server.base_url, server.api_key, root,
                                            paths, lanes, pid)
            with LatencyLink(server.base_url, one_way_ms=LINK_RTT_MS / 2) as link:
                readings["link"] = _reading("link", link.url, server.api_key, root, paths,
                                            lanes, pid)
                # the link's own copying shares this machine's CPUs (a real one would not)
                readings["link"]["relay_cpu_s"] = round(link.cpu_seconds(), 2)
    linked, loop = readings["link"], readings["loopback"]
    return benchmarks.result(
        "upload_manager", linked["seconds"], linked["baseline_s"], "s until all confirmed",
        f">= {TARGET_SPEEDUP:g}x faster with {lanes} lanes, stall < {TARGET_STALL_MS:g} ms, "
        f"growth < {TARGET_GROWTH_MB:g} MB (read over a {LINK_RTT_MS:g} ms link and over "
        "loopback)", linked["met"] and loop["met"], ratio=linked["ratio"], files=count,
        file_mb=5, lanes=lanes, link_rtt_ms=LINK_RTT_MS, link_met=linked["met"],
        loopback_met=loop["met"], server_nice=server_nice,
        **{f"{name}_{key}": value for name, reading in readings.items()
           for key, value in reading.items() if key != "met"},
        load_average_1m=round(os.getloadavg()[0], 2))
