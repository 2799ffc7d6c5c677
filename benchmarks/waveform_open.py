"""waveform_open: the peak pyramid of a 1-hour 48 kHz FLAC vs decoding it alone.

Measures, in one run: decoding the file with soundfile in blocks (baseline);
decoding + building the min/max pyramid in the same pass and storing it, exactly
as the editor's open task does (one block decoded ahead on a helper thread
while the previous one is reduced) (value; target ratio <= 1.15); reopening the
stored pyramid and computing the first whole-file envelope (target < 50 ms);
the peak RSS growth while building (target < 150 MB). The test file is generated
once, in blocks, into the temp folder. ``--quick`` uses a 5-minute file.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import soundfile as sf

from benchmarks import result
from relay_desktop.core.audio.decode import DEFAULT_BLOCK_FRAMES, iter_blocks
from relay_desktop.core.audio.peaks import PeakCache
from relay_desktop.services.audio_tasks import prefetched

RATE = 48_000


def bench_dir() -> Path:
    folder = Path(tempfile.gettempdir()) / "relay-benchmarks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def make_flac(seconds: int, rate: int = RATE, channels: int = 1) -> Path:
    """A speech-like FLAC (tones, bursts, noise), written in blocks; reused across runs."""
    return make_speech_like(seconds, "FLAC", rate, channels)


def make_speech_like(seconds: int, fmt: str, rate: int = RATE, channels: int = 1) -> Path:
    """A 16-bit ``fmt`` file ("FLAC", "WAV") of a speech-like signal, written once in blocks."""
    suffix = f".{fmt.lower()}"
    path = bench_dir() / f"open-{seconds}s-{rate}-{channels}ch{suffix}"
    if path.exists():
        return path
    tmp = path.with_suffix(f".part{suffix}")
    rng = np.random.default_rng(7)
    block = rate * 10
    with sf.SoundFile(str(tmp), "w", rate, channels, subtype="PCM_16", format=fmt) as out:
        for start in range(0, seconds * rate, block):
            n = min(block, seconds * rate - start)
            t = (start + np.arange(n)) / rate
            envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 0.3 * t)
            sig = 0.3 * envelope * np.sin(2 * np.pi * (180 + 40 * np.sin(t)) * t)
            sig += rng.normal(0, 0.02, n)
            out.write(np.repeat(sig[:, None], channels, axis=1).astype(np.float32))
    tmp.rename(path)
    return path


class PeakRss:
    """Samples the process RSS every 5 ms; ``growth`` is max seen minus the start."""

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.start = self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.start) / 1e6


def decode_only(path: Path) -> float:
    t0 = time.perf_counter()
    for _block in iter_blocks(path, DEFAULT_BLOCK_FRAMES):
        pass
    return time.perf_counter() - t0


def run(quick: bool) -> dict[str, Any]:
    seconds = 300 if quick else 3600
    path = make_flac(seconds)
    cache_root = Path(tempfile.mkdtemp(prefix="relay-bench-peaks-"))
    try:
        cache = PeakCache(cache_root)
        decode_only(path)  # warm the page cache so both runs read from memory
        decode_times, build_times, growths = [], [], []
        rounds = 2
        for _ in range(rounds):
            decode_times.append(decode_only(path))
            shutil.rmtree(cache_root, ignore_errors=True)
            with PeakRss() as rss:
                t0 = time.perf_counter()
                cache.build(path, prefetch=prefetched)  # as the editor's open task does
                build_times.append(time.perf_counter() - t0)
            growths.append(rss.growth_mb)
        reopen = []
        for _ in range(5):
            t0 = time.perf_counter()
            pyramid = cache.open(path)
            assert pyramid is not None
            pyramid.envelope(0, pyramid.frames, 0, 1600)  # first draw of the whole file
            reopen.append((time.perf_counter() - t0) * 1000)
        decode_s, build_s = min(decode_times), min(build_times)
        ratio = build_s / decode_s
        reopen_ms = float(np.median(reopen))
        growth = max(growths)
        met = ratio <= 1.15 and reopen_ms < 50 and growth < 150
        return result("waveform_open", build_s, decode_s, "s",
                      "ratio <= 1.15, reopen < 50 ms, RSS growth < 150 MB", met,
                      ratio=ratio, reopen_ms=round(reopen_ms, 3), rss_growth_mb=round(growth, 1),
                      audio_seconds=seconds, sample_rate=RATE, file_mb=round(
                          path.stat().st_size / 1e6, 1), quick=quick)
    finally:
        shutil.rmtree(cache_root, ignore_errors=True)
