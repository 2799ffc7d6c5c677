"""inference_speed: audio seconds detected per wall second on one core, vs decoding alone.

A long 16 kHz mono FLAC (the server's normalised format), made by repeating
the demo files, is run through ``relay_server.ml.detect`` (decode, frame
signals, window features, network, edges, post-processing) with the model
trained on the demo set at the default config. BLAS/OpenMP pools are
limited to one thread for the measurement. Baseline, in the same run:
decoding the same file alone (the same block decoder ``detect`` uses).
Value: audio seconds per CPU second of the process (best of 3): on a core
of its own that is the wall-clock rate, and unlike wall time it does not
depend on what else the machine runs (both are reported). Target: >= 500x.
``--quick`` uses 2 minutes of audio instead of 20.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from threadpoolctl import threadpool_limits

from benchmarks import result
from benchmarks._ml_common import cache_dir, demo_files, demo_model
from relay_server.ml import InferenceConfig, detect
from relay_server.ml.audio import RATE, blocks_16k

TARGET = 500.0


def long_file(minutes: int) -> Path:
    """The demo files decoded and repeated to ``minutes``, as 16 kHz FLAC (cached)."""
    path = cache_dir() / f"speech-{minutes}min.flac"
    if path.exists():
        return path
    audio = np.concatenate([sf.read(f.path, dtype="float32")[0] for f in demo_files()])
    need = minutes * 60 * RATE
    with sf.SoundFile(str(path) + ".part", "w", RATE, 1, format="FLAC") as out:
        written = 0
        while written < need:
            piece = audio[:need - written]
            out.write(piece)
            written += len(piece)
    Path(str(path) + ".part").rename(path)
    return path


def _decode_only(path: Path) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in blocks_16k(path):
        pass
    return time.perf_counter() - t0, time.process_time() - c0


def run(quick: bool) -> dict[str, Any]:
    path = long_file(2 if quick else 20)
    seconds = sf.info(str(path)).duration
    model = demo_model()
    config = InferenceConfig()
    with threadpool_limits(limits=1):
        _decode_only(path)  # warm the page cache
        decode_wall, decode_cpu, detect_wall, detect_cpu = [], [], [], []
        detections = 0
        for _ in range(3):
            wall, cpu = _decode_only(path)
            decode_wall.append(wall)
            decode_cpu.append(cpu)
            t0, c0 = time.perf_counter(), time.process_time()
            found = detect(model, path, config)
            detect_wall.append(time.perf_counter() - t0)
            detect_cpu.append(time.process_time() - c0)
            detections = len(found.detections)
    value = seconds / min(detect_cpu)
    baseline = seconds / min(decode_cpu)
    return result("inference_speed", value, baseline, "x real time (one core)",
                  f">= {TARGET:g}x real time", value >= TARGET,
                  audio_seconds=round(seconds, 1), detections=detections,
                  detect_cpu_s=round(min(detect_cpu), 3), decode_cpu_s=round(min(decode_cpu), 3),
                  wall_x_real_time=round(seconds / min(detect_wall), 1),
                  decode_wall_x_real_time=round(seconds / min(decode_wall), 1), threads=1)
