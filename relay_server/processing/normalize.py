"""The normalised copy: mono, 16 kHz, peak-normalised, FLAC; decoded in blocks.

The source is decoded once, in blocks: mixed down, resampled to 16 kHz
into a float scratch file while the peak is measured; then the scratch file
is scaled to the target peak and encoded as FLAC. Memory stays constant
whatever the file's length.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from relay_server.processing.decode import BLOCK_FRAMES, info, mono_blocks, open_audio
from relay_server.processing.errors import AudioError, Interrupted
from relay_server.processing.resample import StreamResampler

TARGET_RATE = 16_000
TARGET_PEAK = 0.99
SILENCE_DBFS = -60.0


@dataclass(frozen=True)
class NormalizeResult:
    """What normalisation learnt about the source and what it wrote."""

    duration_ms: int
    sample_rate: int
    channels: int
    frames: int
    format: str
    subtype: str
    peak: float
    gain_db: float
    rms_dbfs: float
    output_frames: int

    def summary(self) -> dict[str, object]:
        return {"sample_rate": TARGET_RATE, "channels": 1, "format": "FLAC",
                "frames": self.output_frames, "source_format": self.format,
                "source_subtype": self.subtype, "peak": round(self.peak, 6),
                "gain_db": round(self.gain_db, 3), "rms_dbfs": round(self.rms_dbfs, 3)}


def _check_stop(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise Interrupted()


def normalize(source: Path, dest: Path, stop: threading.Event | None = None) -> NormalizeResult:
    """Decode ``source`` and write its normalised copy to ``dest`` (a .flac path).

    Pass 1 decodes, mixes down and resamples into a float32 scratch file next
    to ``dest`` while measuring the peak of the result; pass 2 applies the gain
    and encodes FLAC. Each pass holds one block in memory.
    """
    frames = 0
    peak = 0.0
    energy = 0.0
    scratch = dest.with_name(dest.name + ".f32.wav")
    try:
        with open_audio(source) as handle:
            src = info(handle)
            resampler = StreamResampler(src.sample_rate, TARGET_RATE)
            with sf.SoundFile(str(scratch), "w", TARGET_RATE, 1, "FLOAT", format="WAV") as tmp:
                for block in mono_blocks(handle):
                    _check_stop(stop)
                    frames += len(block)
                    energy += float(np.dot(block.astype(np.float64), block))
                    out = resampler.process(block)
                    if len(out):
                        peak = max(peak, float(np.max(np.abs(out))))
                        tmp.write(out)
                tail = resampler.flush()
                if len(tail):
                    peak = max(peak, float(np.max(np.abs(tail))))
                    tmp.write(tail)
        if frames == 0:
            raise AudioError("The file is empty (it holds no audio samples)")
        gain = TARGET_PEAK / peak if peak > 1e-9 else 1.0
        written = 0
        with sf.SoundFile(str(scratch)) as tmp, sf.SoundFile(
                str(dest), "w", TARGET_RATE, 1, "PCM_16", format="FLAC") as out:
            while True:
                _check_stop(stop)
                block = tmp.read(BLOCK_FRAMES, dtype="float32")
                if not len(block):
                    break
                out.write(np.clip(block * gain, -1.0, 1.0))
                written += len(block)
    finally:
        scratch.unlink(missing_ok=True)
    rms = math.sqrt(energy / frames)
    return NormalizeResult(
        duration_ms=round(frames * 1000 / src.sample_rate), sample_rate=src.sample_rate,
        channels=src.channels, frames=frames, format=src.format, subtype=src.subtype,
        peak=peak, gain_db=20 * math.log10(gain),
        rms_dbfs=20 * math.log10(rms) if rms > 0 else -120.0, output_frames=written)
