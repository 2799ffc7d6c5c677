"""open_at: open an uncached 1-hour file at 45:00 zoomed to 2 s; time until its samples show.

A real AudioEditor shown offscreen at 1600x900 opens a 1-hour 48 kHz mono FLAC
and WAV (generated once into the temp folder) with ``at=(2700, 2702)`` and an
empty peak cache. Measured from ``editor.open_file`` to the first paint of the
detail wave item drawing that window's raw samples (read by seeking, long
before decoding reaches 45:00) (target < 100 ms). Baseline, same run: reading
that 2 s window with soundfile alone (open, seek, read).

value = the worse of the two files (ms, median of the rounds); baseline = the
slower soundfile read (ms); extra keys per file. ``--quick``: 5-minute files,
opened at 4:00.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from benchmarks import qt_app, result
from benchmarks._editor_paint import OffscreenEditor, PaintWatch, elapsed_ms, run_until
from benchmarks._long_audio import make_flac, make_wav

ROUNDS = 3
RAW_MODES = ("raw-envelope", "samples", "samples-dots")
SPAN_S = 2.0


def read_alone(path: Path, start_s: float) -> float:
    """ms to read ``[start_s, start_s + SPAN_S)`` with soundfile (open + seek + read)."""
    t0 = time.perf_counter()
    with sf.SoundFile(str(path)) as snd:
        snd.seek(int(start_s * snd.samplerate))
        snd.read(int(SPAN_S * snd.samplerate), dtype="float32", always_2d=True)
    return elapsed_ms(t0)


def open_at(app: Any, shown: OffscreenEditor, path: Path, start_s: float) -> tuple[float, bool]:
    """(ms to the first paint of the window's samples, whether decoding was still behind)."""
    editor = shown.editor
    view = editor.view
    detail_items = [it for it in view.detail.items if type(it).__name__ == "WaveItem"]
    stamps: dict[str, float] = {}
    behind: list[bool] = []
    t0 = 0.0

    def check(item: Any) -> None:
        if "shown" in stamps or item not in detail_items or view.pyramid is None:
            return
        if view.drawn_mode in RAW_MODES and abs(view.view_range()[0] - start_s) < 1e-3:
            stamps["shown"] = elapsed_ms(t0)
            behind.append(view.pyramid.decoded_until() < start_s * view.sample_rate)

    shown.forget_peaks()
    view.clear()
    app.processEvents()
    watch = PaintWatch(check)
    try:
        t0 = time.perf_counter()
        editor.open_file(path, at=(start_s, start_s + SPAN_S))
        run_until(app, lambda: "shown" in stamps, timeout_s=60)
    finally:
        watch.stop()
        editor.cancel_loading()  # the rest of the file is not what is measured
    if "shown" not in stamps:
        raise RuntimeError(f"{path.name}: the window's samples were never painted")
    return stamps["shown"], behind[0]


def run(quick: bool) -> dict[str, Any]:
    app = qt_app()
    seconds, start_s = (300, 240.0) if quick else (3600, 2700.0)
    files = {"flac": make_flac(seconds), "wav": make_wav(seconds)}
    shown = OffscreenEditor()
    try:
        run_until(app, lambda: False, 0.2)
        per_file: dict[str, dict[str, Any]] = {}
        for kind, path in files.items():
            read_alone(path, start_s)  # warm: both sides read from the page cache
            times, reads, ahead = [], [], []
            for _ in range(ROUNDS):
                reads.append(read_alone(path, start_s))
                ms, behind = open_at(app, shown, path, start_s)
                times.append(ms)
                ahead.append(behind)
                run_until(app, lambda: False, 0.5)  # the cancelled decode and tiles wind down
            per_file[kind] = {"shown_ms": round(float(np.median(times)), 1),
                              "read_alone_ms": round(float(np.median(reads)), 2),
                              "before_decoding_got_there": all(ahead)}
    finally:
        shown.close()
    worst = max(f["shown_ms"] for f in per_file.values())
    baseline = max(f["read_alone_ms"] for f in per_file.values())
    met = worst < 100
    return result("open_at", worst, baseline, "ms", "window samples painted < 100 ms", met,
                  audio_seconds=seconds, at_s=start_s, span_s=SPAN_S,
                  **{f"{kind}_{key}": value for kind, f in per_file.items()
                     for key, value in f.items()}, quick=quick)
