"""training_time: training on the demo set (10 files, ~7 min) at the default config.

Value: wall seconds of ``relay_server.ml.train_model`` on the shipped demo
audio with its manifest labels (epochs 20, batch 32, chunk 500 ms, stride
250 ms; includes decoding, features, the 20 epochs, the out-of-fold fits
that tune thresholds and the validation metrics). Also reported: CPU
seconds and the peak growth of resident memory while training (sampled
every 5 ms). Baseline, in the same run: decoding the same files alone.
Target: under 60 s. ``--quick`` trains 5 epochs.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any

import psutil

from benchmarks import result
from benchmarks._ml_common import TYPES, demo_files
from relay_server.ml import TrainingConfig, train_model
from relay_server.ml.audio import blocks_16k

TARGET_S = 60.0


class PeakRss:
    """Peak resident-set growth (MB) of this process while the block runs."""

    def __init__(self) -> None:
        self._proc = psutil.Process()
        self._stop = threading.Event()
        self._base = 0
        self._peak = 0
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self._peak = max(self._peak, self._proc.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self._base = self._peak = self._proc.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        self._peak = max(self._peak, self._proc.memory_info().rss)

    @property
    def growth_mb(self) -> float:
        return (self._peak - self._base) / 1e6


def run(quick: bool) -> dict[str, Any]:
    files = demo_files()
    t0 = time.perf_counter()
    for f in files:
        for _ in blocks_16k(f.path):
            pass
    decode_s = time.perf_counter() - t0
    config = TrainingConfig(TYPES, epochs=5 if quick else 20)
    epochs: list[int] = []
    with PeakRss() as rss:
        t0, c0 = time.perf_counter(), time.process_time()
        model = train_model(files, config, on_epoch=lambda r: epochs.append(r.epoch))
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    audio_s = sum(f.duration_ms for f in files) / 1000
    return result("training_time", wall, decode_s, "s", f"< {TARGET_S:g} s", wall < TARGET_S,
                  cpu_s=round(cpu, 2), peak_rss_growth_mb=round(rss.growth_mb, 1),
                  audio_seconds=round(audio_s, 1), files=len(files), epochs=len(epochs),
                  validation_f1=model.eval_metrics["f1_score"])
