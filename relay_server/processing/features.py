"""Embedding: log-mel frames of the normalised copy, pooled per second.

25 ms windows every 10 ms, 64 mel bands up to 8 kHz; each second becomes
the mean and standard deviation of its frames (128 numbers, float16). A
10-hour file yields about 9 MB. Streamed: the normalised file is read in
blocks and never held whole.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from relay_server.processing.errors import AudioError, Interrupted

RATE = 16_000
WIN = 400
HOP = 160
N_FFT = 512
N_MELS = 64
FRAMES_PER_SECOND = RATE // HOP
SILENT_FRAME_DB = -60.0


def mel_filterbank(n_mels: int = N_MELS, n_fft: int = N_FFT, rate: int = RATE) -> np.ndarray:
    """Triangular HTK-style mel filters, shape (n_mels, n_fft // 2 + 1)."""
    def to_mel(f: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def to_hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10 ** (m / 2595.0) - 1.0)

    edges = to_hz(np.linspace(to_mel(np.array(0.0)), to_mel(np.array(rate / 2)), n_mels + 2))
    bins = np.linspace(0, rate / 2, n_fft // 2 + 1)
    bank = np.zeros((n_mels, len(bins)), dtype=np.float32)
    for i in range(n_mels):
        lo, mid, hi = edges[i], edges[i + 1], edges[i + 2]
        up = (bins - lo) / max(mid - lo, 1e-9)
        down = (hi - bins) / max(hi - mid, 1e-9)
        bank[i] = np.maximum(0.0, np.minimum(up, down))
    return bank


@dataclass(frozen=True)
class FeatureResult:
    """Per-second pooled log-mel features and a small summary of them."""

    pooled: np.ndarray  # (seconds, 2 * N_MELS) float16
    frames: int
    silence_ratio: float

    def summary(self) -> dict[str, object]:
        return {"kind": "log-mel", "n_mels": N_MELS, "window_ms": 25, "hop_ms": 10,
                "pooling": "mean+std per 1 s", "shape": list(self.pooled.shape),
                "dtype": str(self.pooled.dtype), "frames": self.frames,
                "silence_ratio": round(self.silence_ratio, 4)}


class _Pooler:
    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.pending: list[np.ndarray] = []
        self.count = 0

    def add(self, logmel: np.ndarray) -> None:
        self.pending.append(logmel)
        self.count += len(logmel)
        while self.count >= FRAMES_PER_SECOND:
            stacked = np.concatenate(self.pending)
            self._pool(stacked[:FRAMES_PER_SECOND])
            rest = stacked[FRAMES_PER_SECOND:]
            self.pending = [rest] if len(rest) else []
            self.count = len(rest)

    def _pool(self, frames: np.ndarray) -> None:
        self.rows.append(np.concatenate([frames.mean(axis=0), frames.std(axis=0)]))

    def finish(self) -> np.ndarray:
        if self.count:
            self._pool(np.concatenate(self.pending))
        if not self.rows:
            return np.zeros((0, 2 * N_MELS), dtype=np.float16)
        return np.stack(self.rows).astype(np.float16)


def compute_features(path: Path, stop: threading.Event | None = None,
                     block_frames: int = RATE * 10) -> FeatureResult:
    """Pooled log-mel features of a 16 kHz mono file."""
    bank = mel_filterbank()
    window = np.hanning(WIN).astype(np.float32)
    pooler = _Pooler()
    carry = np.zeros(0, dtype=np.float32)
    frames = silent = 0
    try:
        handle = sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioError(f"The normalised copy could not be read: {exc}") from exc
    with handle:
        if handle.samplerate != RATE or handle.channels != 1:
            raise AudioError("The normalised copy is not 16 kHz mono.")
        while True:
            if stop is not None and stop.is_set():
                raise Interrupted()
            block = handle.read(block_frames, dtype="float32")
            last = len(block) == 0
            buf = np.concatenate([carry, block])
            if last and len(buf) and (frames == 0 or len(buf) > WIN - HOP):
                # Zero-pad so the last frame covers the last samples.
                target = WIN if len(buf) <= WIN else WIN + -(-(len(buf) - WIN) // HOP) * HOP
                buf = np.concatenate([buf, np.zeros(target - len(buf), dtype=np.float32)])
            n = (len(buf) - WIN) // HOP + 1 if len(buf) >= WIN else 0
            if n > 0:
                idx = np.arange(WIN)[None, :] + HOP * np.arange(n)[:, None]
                spec = np.abs(np.fft.rfft(buf[idx] * window, n=N_FFT, axis=1)) ** 2
                logmel = np.log10(spec @ bank.T + 1e-10).astype(np.float32) * 10.0
                energy_db = 10 * np.log10((buf[idx] ** 2).mean(axis=1) + 1e-12)
                silent += int((energy_db < SILENT_FRAME_DB).sum())
                frames += n
                pooler.add(logmel)
                carry = buf[n * HOP:]
            else:
                carry = buf
            if last:
                break
    return FeatureResult(pooled=pooler.finish(), frames=frames,
                         silence_ratio=silent / frames if frames else 1.0)
