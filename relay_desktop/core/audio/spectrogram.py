"""Short-time Fourier transform in tiles, for the spectrogram view.

The time axis is cut into tiles of ``TILE_COLUMNS`` STFT columns. A tile is
identified by a :class:`TileKey` (window size, hop, tile index, lane), so
tiles can be computed independently on a worker pool and cached. Column ``c``
of the whole file is centred on frame ``c * hop``. When zoomed out the hop
grows (a power of two at least ``window // 4``) so a 10-hour file needs no
more columns than there are pixels; then each column reads just its own
window from the file instead of everything between.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from relay_desktop.core.audio.decode import AudioDecodeError, open_sound

TILE_COLUMNS = 256
WINDOW_SIZES = (256, 512, 1024, 2048, 4096)
DB_FLOOR = -160.0


@dataclass(frozen=True)
class TileKey:
    """One tile: ``window`` samples per FFT, ``hop`` frames between columns."""

    window: int
    hop: int
    index: int
    lane: int | None  # channel, or None for the mix

    @property
    def first_column(self) -> int:
        return self.index * TILE_COLUMNS

    def column_span_frames(self) -> tuple[int, int]:
        """Frames covered by the tile's columns: ``[start, stop)`` of their cells."""
        start = self.first_column * self.hop - self.hop // 2
        return start, start + TILE_COLUMNS * self.hop


@dataclass(frozen=True)
class Tile:
    """Computed tile: ``db`` is ``(columns, window // 2 + 1)`` float32 in dBFS."""

    key: TileKey
    db: np.ndarray

    @property
    def columns(self) -> int:
        return int(self.db.shape[0])


def hop_for(window: int, frames_per_pixel: float) -> int:
    """Hop giving about one column per pixel, never below ``window // 4``."""
    hop = max(1, window // 4)
    while hop < frames_per_pixel:
        hop *= 2
    return hop


def tiles_for_range(window: int, hop: int, start_frame: float, stop_frame: float,
                    total_frames: int) -> range:
    """Indices of the tiles overlapping ``[start_frame, stop_frame)``."""
    last_col = max(0, (total_frames - 1) // hop)
    last_tile = last_col // TILE_COLUMNS
    first = max(0, int((start_frame + hop / 2) // (hop * TILE_COLUMNS)))
    stop = min(last_tile, int((stop_frame + hop / 2) // (hop * TILE_COLUMNS)))
    return range(first, stop + 1) if stop >= first else range(0)


@lru_cache(maxsize=8)
def _hann(window: int) -> np.ndarray:
    return np.hanning(window + 1)[:-1].astype(np.float32)


def stft_db(frames: np.ndarray, window: int) -> np.ndarray:
    """dBFS magnitudes of ``frames`` (``(columns, window)``) -> ``(columns, window//2+1)``.

    A full-scale sine reads about 0 dB.
    """
    win = _hann(window)
    spectrum = np.fft.rfft(frames * win, axis=1)
    mag = np.abs(spectrum).astype(np.float32)
    mag *= np.float32(2.0 / win.sum())
    np.maximum(mag, np.float32(10 ** (DB_FLOOR / 20)), out=mag)
    return (20.0 * np.log10(mag)).astype(np.float32)


def _pick_lane(data: np.ndarray, lane: int | None) -> np.ndarray:
    if lane is None:
        return data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]
    return data[:, min(lane, data.shape[1] - 1)]


def compute_tile(path: Path | str, key: TileKey) -> Tile:
    """Read the samples of tile ``key`` from ``path`` and transform them."""
    window, hop = key.window, key.hop
    with open_sound(path) as snd:
        total = snd.frames
        first = key.first_column
        columns = min(TILE_COLUMNS, max(0, (total - 1) // hop - first + 1))
        if columns <= 0:
            return Tile(key, np.zeros((0, window // 2 + 1), dtype=np.float32))
        centres = (first + np.arange(columns)) * hop
        starts = centres - window // 2
        frames = np.zeros((columns, window), dtype=np.float32)
        try:
            if hop <= window:
                lo = int(max(0, starts[0]))
                hi = int(min(total, starts[-1] + window))
                snd.seek(lo)
                sig = _pick_lane(snd.read(hi - lo, dtype="float32", always_2d=True), key.lane)
                padded = np.zeros(int(starts[-1] + window - starts[0]), dtype=np.float32)
                offset = lo - int(starts[0])
                padded[offset: offset + len(sig)] = sig
                idx = (starts - starts[0])[:, None] + np.arange(window)[None, :]
                frames[:] = padded[idx]
            else:
                for i, start in enumerate(starts):
                    lo = int(max(0, start))
                    hi = int(min(total, start + window))
                    if hi <= lo:
                        continue
                    snd.seek(lo)
                    sig = _pick_lane(snd.read(hi - lo, dtype="float32", always_2d=True),
                                     key.lane)
                    frames[i, lo - int(start): lo - int(start) + len(sig)] = sig
        except (RuntimeError, ValueError) as exc:
            raise AudioDecodeError(f"Cannot decode {Path(path).name}: {exc}") from exc
    return Tile(key, stft_db(frames, window))
