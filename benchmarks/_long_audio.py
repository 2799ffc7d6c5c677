"""Long test audio for the benchmarks, generated once (in blocks) and reused across runs.

``make_flac(seconds)`` and ``make_wav(seconds)`` write the same speech-like signal
(tones, bursts, noise) into :func:`benchmarks.waveform_open.bench_dir`; a file
already there is reused (an hour of 48 kHz 16-bit mono WAV is ~350 MB: no RF64 needed).
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.waveform_open import RATE, make_speech_like


def make_flac(seconds: int, rate: int = RATE, channels: int = 1) -> Path:
    """A FLAC of ``seconds`` (16-bit), written once in blocks."""
    return make_speech_like(seconds, "FLAC", rate, channels)


def make_wav(seconds: int, rate: int = RATE, channels: int = 1) -> Path:
    """A 16-bit WAV of ``seconds`` with the same signal as :func:`make_flac`."""
    return make_speech_like(seconds, "WAV", rate, channels)


__all__ = ["make_flac", "make_wav"]
