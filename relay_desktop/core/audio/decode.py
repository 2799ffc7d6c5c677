"""Decoding audio files in blocks with soundfile (libsndfile).

Everything here reads bounded blocks: no function decodes a whole file into
memory unless asked for a window. Every failure is an :class:`AudioDecodeError`
whose message is a sentence for a person, never a raw libsndfile string alone.

Arrays are always 2-D ``float32`` of shape ``(frames, channels)``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

DEFAULT_BLOCK_FRAMES = 1 << 18  # 262144 frames: ~5 s at 48 kHz


class AudioDecodeError(Exception):
    """The file cannot be read as audio; ``str(err)`` explains why in words."""


class DecodeCancelled(AudioDecodeError):
    """Decoding was cancelled by the caller."""


CancelCheck = Callable[[], bool]
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class AudioInfo:
    """What a file holds, read from its header."""

    path: Path
    frames: int
    sample_rate: int
    channels: int
    format: str
    subtype: str
    format_info: str

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0

    @property
    def duration_ms(self) -> int:
        return round(self.duration_s * 1000)


def _explain(path: Path, exc: BaseException) -> AudioDecodeError:
    raw = str(exc).strip()
    if "unknown format" in raw.lower() or "format not recognised" in raw.lower():
        why = "it is not in an audio format this app can read (WAV, FLAC, OGG, MP3, AIFF...)"
    elif "unexpected end" in raw.lower() or "truncat" in raw.lower():
        why = "the file is truncated"
    else:
        detail = raw.split(":", 1)[-1].strip().rstrip(".") or type(exc).__name__
        why = f"the file is damaged or truncated ({detail})"
    return AudioDecodeError(f"Cannot decode {path.name}: {why}.")


def probe(path: Path | str) -> AudioInfo:
    """Read the header of ``path``; raise AudioDecodeError if it is not audio."""
    path = Path(path)
    if not path.exists():
        raise AudioDecodeError(f"Cannot open {path.name}: the file does not exist.")
    if path.is_dir():
        raise AudioDecodeError(f"Cannot open {path.name}: it is a folder, not an audio file.")
    if path.stat().st_size == 0:
        raise AudioDecodeError(f"Cannot decode {path.name}: the file is empty.")
    try:
        info = sf.info(str(path))
    except (RuntimeError, sf.LibsndfileError, TypeError, ValueError) as exc:
        raise _explain(path, exc) from exc
    if info.samplerate <= 0 or info.channels <= 0:
        raise AudioDecodeError(f"Cannot decode {path.name}: its header is damaged.")
    if info.frames <= 0:
        raise AudioDecodeError(f"Cannot decode {path.name}: it contains no audio samples.")
    return AudioInfo(path=path, frames=int(info.frames), sample_rate=int(info.samplerate),
                     channels=int(info.channels), format=str(info.format),
                     subtype=str(info.subtype), format_info=str(info.format_info))


def open_sound(path: Path | str) -> sf.SoundFile:
    """Open ``path`` for reading (caller closes); AudioDecodeError on failure."""
    path = Path(path)
    probe(path)
    try:
        return sf.SoundFile(str(path))
    except (RuntimeError, sf.LibsndfileError, TypeError, ValueError) as exc:
        raise _explain(path, exc) from exc


#: integer types that hold a subtype's samples exactly (libsndfile scales them into
#: floats by a power of two, so a min or max of the integers is the float's, scaled)
_NATIVE_TYPES = {"PCM_S8": "int16", "PCM_U8": "int16", "PCM_16": "int16", "PCM_24": "int32"}


def native_dtype(subtype: str) -> str:
    """The integer dtype reading ``subtype`` needs no conversion for, else ``"float32"``."""
    return _NATIVE_TYPES.get(subtype, "float32")


def integer_scale(dtype: np.dtype[Any]) -> float:
    """The factor turning samples read as integer ``dtype`` into libsndfile's floats."""
    return 1.0 / -float(np.iinfo(dtype).min)


def iter_blocks(path: Path | str, block_frames: int = DEFAULT_BLOCK_FRAMES, *,
                start: int = 0, stop: int | None = None,
                cancelled: CancelCheck | None = None,
                progress: Progress | None = None,
                native: bool = False) -> Iterator[np.ndarray]:
    """Yield ``(n, channels)`` float32 blocks of ``path`` from frame ``start`` to ``stop``.

    The last block may be shorter. A file whose header promises more frames
    than it holds (truncated) simply ends early. ``cancelled()`` is checked
    between blocks (raises DecodeCancelled); ``progress(done, total)`` is called
    after each block. With ``native``, integer PCM comes as the integers of
    :func:`native_dtype` (no conversion: for peaks, scaled by :func:`integer_scale`).
    """
    path = Path(path)
    with open_sound(path) as snd:
        dtype = native_dtype(snd.subtype) if native else "float32"
        total = snd.frames if stop is None else min(stop, snd.frames)
        pos = max(0, start)
        try:
            if pos:
                snd.seek(pos)
            while pos < total:
                if cancelled is not None and cancelled():
                    raise DecodeCancelled(f"Decoding {path.name} was cancelled.")
                want = min(block_frames, total - pos)
                got = snd.read(want, dtype=dtype, always_2d=True)
                n = len(got)
                if n == 0:
                    break
                pos += n
                yield got
                if progress is not None:
                    progress(pos, total)
                if n < want:
                    break
        except AudioDecodeError:
            raise
        except (RuntimeError, sf.LibsndfileError, ValueError) as exc:
            raise _explain(path, exc) from exc


def read_frames(snd: sf.SoundFile, start: int, count: int, dtype: str) -> np.ndarray:
    """Frames ``[start, start + count)`` of the open ``snd`` as ``(n, channels)`` ``dtype``.

    Fewer come back where the file ends (a truncated file ends early);
    libsndfile's failures become an :class:`AudioDecodeError` in words.
    """
    try:
        if snd.tell() != start:
            snd.seek(start)
        return snd.read(count, dtype=dtype, always_2d=True)
    except (RuntimeError, sf.LibsndfileError, ValueError) as exc:
        raise _explain(Path(snd.name), exc) from exc


def read_window(path: Path | str, start: int, stop: int) -> np.ndarray:
    """Read frames ``[start, stop)`` of ``path`` as a new ``(n, channels)`` float32 array.

    Meant for small windows (the visible samples at high zoom, snapping).
    Frames beyond the end are not returned (the result may be shorter).
    """
    path = Path(path)
    start = max(0, int(start))
    stop = max(start, int(stop))
    with open_sound(path) as snd:
        stop = min(stop, snd.frames)
        if stop <= start:
            return np.zeros((0, snd.channels), dtype=np.float32)
        try:
            snd.seek(start)
            return np.array(snd.read(stop - start, dtype="float32", always_2d=True))
        except (RuntimeError, sf.LibsndfileError, ValueError) as exc:
            raise _explain(path, exc) from exc


def mix_down(block: np.ndarray) -> np.ndarray:
    """The mean of the channels of a ``(n, channels)`` block, shape ``(n,)``."""
    if block.shape[1] == 1:
        return block[:, 0]
    return block.mean(axis=1, dtype=np.float32)


def nearest_zero_crossing(data: np.ndarray, start: int, sample_rate: int, t_s: float,
                          window_ms: float = 5.0, channel: int | None = None) -> float:
    """The zero crossing nearest ``t_s`` (seconds) within ``window_ms``, from samples in memory.

    ``data`` holds frames ``[start, start + len(data))`` as ``(n, channels)``; the
    mix is used when ``channel`` is None. Returns ``t_s`` unchanged when the part
    of the window ``data`` covers holds no crossing.
    """
    half = max(1, round(window_ms / 1000.0 * sample_rate))
    centre = round(t_s * sample_rate)
    lo = max(0, centre - half - start)
    hi = min(len(data), centre + half + 1 - start)
    if hi - lo < 2:
        return t_s
    window = data[lo:hi]
    sig = mix_down(window) if channel is None else window[:, min(channel, window.shape[1] - 1)]
    signs = np.signbit(sig)
    idx = np.flatnonzero(signs[1:] != signs[:-1])
    exact = np.flatnonzero(sig == 0)
    candidates = np.concatenate([idx.astype(np.float64) + 0.5, exact.astype(np.float64)])
    if candidates.size == 0:
        return t_s
    frames = start + lo + candidates
    best = frames[np.argmin(np.abs(frames - t_s * sample_rate))]
    return float(best) / sample_rate


class CancelFlag:
    """A thread-safe cancel flag usable as ``cancelled`` callback."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def is_cancelled(self) -> bool:
        return self._event.is_set()

    def __call__(self) -> bool:
        return self._event.is_set()
