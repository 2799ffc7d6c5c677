"""waveform_first_paint: progressive open of an uncached 1-hour file, first frame and complete.

A real AudioEditor shown offscreen at 1600x900 opens a 1-hour 48 kHz mono FLAC
and WAV (generated once into the temp folder), with an empty peak cache each
time. Measured from ``editor.open_file`` to:

- the first frame that *draws decoded waveform*: a paint of the overview's wave
  item (hooked) while it holds decoded envelopes (target < 150 ms);
- the complete overview: the first paint after the file is fully decoded (the
  pending band gone), against decoding the same file alone with soundfile in
  blocks, in the same run (target <= 1.05x).

value = the worst first paint of the two files (ms, median of the rounds);
baseline = the slower decode alone (ms); ratio = the worse complete-overview
ratio (complete / decoding alone); extra keys per file. ``--quick`` uses
5-minute files.

The app decodes a file that seeks fast (both of these) on several threads at once
(``services.parallel_decode``), so "decoding alone" is read two ways, both
reported: soundfile decoding the file in blocks on one thread (the target's
reading: what an editor that decodes once does), and the same decode split over
as many threads as the app uses (``*_threads_decode_ms``, ``*_ratio_vs_threads``:
what the app adds to the decoding it does).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from benchmarks import qt_app, result
from benchmarks._editor_paint import OffscreenEditor, PaintWatch, elapsed_ms, run_until
from benchmarks._long_audio import make_flac, make_wav
from benchmarks.waveform_open import decode_only
from relay_desktop.services.parallel_decode import decode_workers

ROUNDS = 3


def decode_on_threads(path: Path, workers: int) -> float:
    """Seconds to decode ``path`` (float32) split in spans over ``workers`` threads."""
    import soundfile as sf

    from relay_desktop.core.audio.decode import DEFAULT_BLOCK_FRAMES

    frames = sf.info(str(path)).frames
    span = DEFAULT_BLOCK_FRAMES

    def decode(first: int) -> None:
        with sf.SoundFile(str(path)) as snd:
            for start in range(first * span, frames, workers * span):
                snd.seek(start)
                snd.read(span, dtype="float32", always_2d=True)

    threads = [threading.Thread(target=decode, args=(k,)) for k in range(workers)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - t0


def first_paint(app: Any, shown: OffscreenEditor, path: Path) -> tuple[float, float]:
    """(ms to the first decoded frame, ms to the complete overview) for one uncached open."""
    editor = shown.editor
    view = editor.view
    overview_items = [it for it in view.overview.plot.items if type(it).__name__ == "WaveItem"]
    stamps: dict[str, float] = {}
    t0 = 0.0

    def check(item: Any) -> None:
        if item not in overview_items or view.pyramid is None:
            return
        if "first" not in stamps and not item.boundingRect().isEmpty():
            stamps["first"] = elapsed_ms(t0)
        if "complete" not in stamps and not view.decoding and view.pending_span() is None \
                and view.pyramid.is_complete():
            stamps["complete"] = elapsed_ms(t0)

    shown.forget_peaks()
    editor.view.clear()
    app.processEvents()
    watch = PaintWatch(check)
    try:
        t0 = time.perf_counter()
        editor.open_file(path)
        run_until(app, lambda: "complete" in stamps, timeout_s=120)
    finally:
        watch.stop()
    if "complete" not in stamps:
        raise RuntimeError(f"{path.name} did not finish opening")
    return stamps.get("first", stamps["complete"]), stamps["complete"]


def run(quick: bool) -> dict[str, Any]:
    app = qt_app()
    seconds = 300 if quick else 3600
    files = {"flac": make_flac(seconds), "wav": make_wav(seconds)}
    workers = decode_workers()
    shown = OffscreenEditor()
    try:
        run_until(app, lambda: False, 0.2)  # laid out and painted once
        per_file: dict[str, dict[str, float]] = {}
        for kind, path in files.items():
            decode_only(path)  # warm the page cache: both sides read from memory
            firsts, completes, decodes, threaded = [], [], [], []
            for _ in range(ROUNDS):
                decodes.append(decode_only(path) * 1000)
                threaded.append(decode_on_threads(path, workers) * 1000)
                first, complete = first_paint(app, shown, path)
                firsts.append(first)
                completes.append(complete)
            decode_ms, complete_ms = min(decodes), min(completes)
            per_file[kind] = {"first_paint_ms": round(sorted(firsts)[ROUNDS // 2], 1),
                              "complete_ms": round(complete_ms, 1),
                              "decode_alone_ms": round(decode_ms, 1),
                              "complete_ratio": round(complete_ms / decode_ms, 3),
                              "threads_decode_ms": round(min(threaded), 1),
                              "ratio_vs_threads": round(complete_ms / min(threaded), 3)}
    finally:
        shown.close()
    worst_first = max(f["first_paint_ms"] for f in per_file.values())
    worst_ratio = max(f["complete_ratio"] for f in per_file.values())
    baseline = max(f["decode_alone_ms"] for f in per_file.values())
    met = worst_first < 150 and worst_ratio <= 1.05
    return result("waveform_first_paint", worst_first, baseline, "ms",
                  "first paint < 150 ms; complete overview <= 1.05x decoding alone", met,
                  ratio=worst_ratio, audio_seconds=seconds, decode_threads=workers,
                  **{f"{kind}_{key}": value for kind, f in per_file.items()
                     for key, value in f.items()}, quick=quick)
