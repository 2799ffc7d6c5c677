"""Speech-like test audio made with numpy, with clicks and long pauses at known places.

Voiced "syllables" (harmonic tones with a gliding pitch under a smooth
envelope) and noisy "consonants", grouped into phrases separated by short
natural gaps. ``make_file`` inserts 1.5 s pauses inside phrases and 3 ms
clicks on top of syllables, and returns the ground truth in ms. Small and
fast: meant for unit tests of the detector, not for judging its quality.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

RATE = 16_000


@dataclass(frozen=True)
class Truth:
    artifact_type: str
    start_ms: int
    end_ms: int


def _syllable(rng: np.random.Generator) -> np.ndarray:
    n = int(RATE * rng.uniform(0.12, 0.28))
    t = np.arange(n) / RATE
    f0 = rng.uniform(100, 220) * (1 + rng.uniform(-0.15, 0.15) * t / t[-1])
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    harmonics = np.arange(1, 16)
    amps = 1.0 / harmonics * rng.uniform(0.5, 1.0, len(harmonics))
    tone = (np.sin(np.outer(phase, harmonics)) * amps).sum(axis=1)
    return (tone * np.hanning(n) * rng.uniform(0.2, 0.4)).astype(np.float32)


def _consonant(rng: np.random.Generator) -> np.ndarray:
    n = int(RATE * rng.uniform(0.03, 0.08))
    noise = rng.standard_normal(n) * rng.uniform(0.02, 0.06)
    return (np.convolve(noise, [1, -0.5], mode="same") * np.hanning(n)).astype(np.float32)


def _phrase(rng: np.random.Generator, syllables: int) -> np.ndarray:
    parts = []
    for _ in range(syllables):
        if rng.random() < 0.4:
            parts.append(_consonant(rng))
        parts.append(_syllable(rng))
        parts.append(np.zeros(int(RATE * rng.uniform(0.0, 0.04)), dtype=np.float32))
    return np.concatenate(parts)


def make_file(path: Path, seed: int, seconds: float = 15.0, pauses: int = 1,
              clicks: int = 3) -> list[Truth]:
    """Write a 16 kHz FLAC of about ``seconds`` to ``path``; return its artifacts."""
    rng = np.random.default_rng(seed)
    pieces: list[np.ndarray] = [np.zeros(RATE // 4, dtype=np.float32)]
    truth: list[Truth] = []
    total = len(pieces[0])
    pause_at = set(rng.choice(np.arange(1, 5), size=pauses, replace=False).tolist())
    phrase = 0
    while total < seconds * RATE:
        first = _phrase(rng, int(rng.integers(3, 7)))
        pieces.append(first)
        total += len(first)
        if phrase in pause_at:
            gap = int(RATE * 1.5)
            truth.append(Truth("long_pause", round(total * 1000 / RATE),
                               round((total + gap) * 1000 / RATE)))
            second = _phrase(rng, int(rng.integers(2, 5)))
            pieces += [np.zeros(gap, dtype=np.float32), second]
            total += gap + len(second)
        gap = int(RATE * rng.uniform(0.2, 0.5))
        pieces.append(np.zeros(gap, dtype=np.float32))
        total += gap
        phrase += 1
    audio = np.concatenate(pieces)
    loud = np.convolve(audio ** 2, np.ones(160) / 160, mode="same") > 0.003
    taken = [(t.start_ms * RATE // 1000, t.end_ms * RATE // 1000) for t in truth]
    for _ in range(clicks):
        for _ in range(1000):
            start = int(rng.integers(RATE // 2, len(audio) - RATE // 2))
            if loud[start] and all(start + RATE // 2 < a or start > b + RATE // 2
                                   for a, b in taken):
                break
        length = int(RATE * 0.003)
        decay = np.exp(-np.arange(length) / (length / 4))
        sign = np.where(np.arange(length) % 2 == 0, 1.0, -0.6)
        audio[start:start + length] += (0.9 * decay * sign).astype(np.float32)
        taken.append((start, start + length))
        truth.append(Truth("click", round(start * 1000 / RATE),
                           round((start + length) * 1000 / RATE)))
    np.clip(audio, -1, 1, out=audio)
    sf.write(path, audio, RATE, format="FLAC")
    return sorted(truth, key=lambda t: t.start_ms)
