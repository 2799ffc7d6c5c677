"""Short-time Fourier transform in tiles, for the spectrogram view.

The time axis is cut into tiles of ``TILE_COLUMNS`` STFT columns. A tile is
identified by a :class:`TileKey` (window size, hop, position, lane), so
tiles can be computed independently on a worker pool and cached. Column ``c``
of the whole file is centred on frame ``c * hop``. When zoomed out the hop
grows (a power of two at least ``window // 4``) so a 10-hour file needs no
more columns than there are pixels. While the hop is a few windows
(:func:`contiguous_hops`) a tile is read in one piece: one long read leaves the
GIL to the GUI thread, where a read per column would take it back hundreds of
times, and in a compressed file each seek decodes a whole codec frame anyway.
Beyond that each column reads just its own window from the file instead of
everything between.

:func:`plan_tiles` says which tiles a view needs, in the order to compute
them: the visible ones (nearest the centre first), then, for the background,
the tiles one screen either side and the whole file at the overview zoom.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from relay_desktop.core.audio.decode import (
    AudioDecodeError,
    CancelCheck,
    DecodeCancelled,
    open_sound,
)
from relay_desktop.core.audio.spectrogram_colours import Colouring

TILE_COLUMNS = 128
WINDOW_SIZES = (256, 512, 1024, 2048, 4096)
DEFAULT_WINDOW = 1024
COLORMAPS = ("inferno", "viridis", "magma", "grayscale")
DEFAULT_COLORMAP = "inferno"
DB_FLOOR = -160.0
#: containers whose seeks decode a codec frame (thousands of samples) per column
COMPRESSED_FORMATS = frozenset({"FLAC", "OGG", "MP3"})


class TileKey(NamedTuple):
    """One tile: ``window`` samples per FFT, ``hop`` frames between columns.

    A named tuple, not a dataclass: the view and the scheduler look keys up in
    dicts and sets a couple of thousand times per zoom frame, and a tuple's hash
    and equality run in C (a frozen dataclass's are Python, 5x slower).
    """

    window: int
    hop: int
    position: int  # along the time axis: tile 0 holds columns 0 to TILE_COLUMNS - 1
    lane: int | None  # channel, or None for the mix

    @property
    def first_column(self) -> int:
        return self.position * TILE_COLUMNS

    def column_span_frames(self) -> tuple[int, int]:
        """Frames covered by the tile's columns: ``[start, stop)`` of their cells."""
        start = self.first_column * self.hop - self.hop // 2
        return start, start + TILE_COLUMNS * self.hop


@dataclass(frozen=True)
class Tile:
    """Computed tile: ``db`` is ``(columns, window // 2 + 1)`` float32 in dBFS.

    ``from_cache`` is True when it was read from the on-disk tile cache.
    ``pixels`` are ``db`` coloured with ``colouring`` when the worker that made
    the tile was given one (:meth:`Colouring.pixels`), else None.
    """

    key: TileKey
    db: np.ndarray
    from_cache: bool = False
    pixels: np.ndarray | None = None
    colouring: Colouring | None = None

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


@dataclass(frozen=True)
class TilePlan:
    """The tiles a view needs, each list in the order to compute it."""

    visible: list[TileKey]  # at the view's resolution, nearest the centre first
    nearby: list[TileKey]  # one screen either side (for panning), nearest first
    overview: list[TileKey]  # the whole file at the overview zoom (for "fit")


def _by_distance(indices: range, centre: float) -> list[int]:
    return sorted(indices, key=lambda i: (abs(i + 0.5 - centre), i))


def plan_tiles(window: int, start_frame: float, stop_frame: float, pixels: int,
               total_frames: int, lane: int | None = None) -> TilePlan:
    """Tiles for a view of ``[start_frame, stop_frame)`` drawn ``pixels`` wide.

    The overview hop puts the whole file across the same width. No tile is in
    two lists.
    """
    pixels = max(1, pixels)
    span = max(1.0, stop_frame - start_frame)
    hop = hop_for(window, span / pixels)
    width = hop * TILE_COLUMNS
    centre = (start_frame + stop_frame) / 2 / width
    shown = tiles_for_range(window, hop, start_frame, stop_frame, total_frames)
    visible = [TileKey(window, hop, i, lane) for i in _by_distance(shown, centre)]
    around = tiles_for_range(window, hop, start_frame - span, stop_frame + span, total_frames)
    nearby = [TileKey(window, hop, i, lane) for i in _by_distance(around, centre)
              if i not in shown]
    taken = set(visible) | set(nearby)
    whole_hop = hop_for(window, total_frames / pixels)
    whole = tiles_for_range(window, whole_hop, 0, total_frames, total_frames)
    overview = [k for k in (TileKey(window, whole_hop, i, lane) for i in whole)
                if k not in taken]
    return TilePlan(visible, nearby, overview)


@lru_cache(maxsize=8)
def _hann(window: int) -> np.ndarray:
    return np.hanning(window + 1)[:-1].astype(np.float32)


def stft_db(frames: np.ndarray, window: int) -> np.ndarray:
    """dBFS magnitudes of ``frames`` (``(columns, window)``) -> ``(columns, window//2+1)``.

    A full-scale sine reads about 0 dB.
    """
    win = _hann(window)
    mag = np.abs(np.fft.rfft(frames * win, axis=1)).astype(np.float32, copy=False)
    mag *= np.float32(2.0 / win.sum())
    np.maximum(mag, np.float32(10 ** (DB_FLOOR / 20)), out=mag)
    np.log10(mag, out=mag)
    mag *= np.float32(20.0)
    return mag


def contiguous_hops(file_format: str) -> int:
    """Hops up to this many windows read a tile in one piece, in a file of ``file_format``.

    Measured per tile (1024-sample window): PCM reads the samples between the
    windows at 300 M frames/s, so one piece is faster up to a hop of 2 windows
    and slower beyond; FLAC is faster in one piece up to 8 (seeking decodes a
    frame per column anyway).
    """
    return 8 if file_format.upper() in COMPRESSED_FORMATS else 2


def _pick_lane(data: np.ndarray, lane: int | None) -> np.ndarray:
    if lane is None:
        return data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]
    return data[:, min(lane, data.shape[1] - 1)]


def _read_columns(snd: Any, starts: list[int], lane: int | None, frames: np.ndarray,
                  cancelled: CancelCheck | None, name: str) -> None:
    """Read each column's window (``frames[i]`` starts at frame ``starts[i]``) by seeking.

    A mono file is read straight into ``frames``; others through one buffer.
    """
    total, window = snd.frames, frames.shape[1]
    buffer = None if snd.channels == 1 else np.empty((window, snd.channels), np.float32)
    for i, start in enumerate(starts):
        if cancelled is not None and cancelled():
            raise DecodeCancelled(f"Spectrogram of {name} cancelled.")
        lo, hi = max(0, start), min(total, start + window)
        if hi <= lo:
            continue
        snd.seek(lo)
        if buffer is None:
            snd.read(dtype="float32", out=frames[i, lo - start: hi - start].reshape(-1, 1))
        else:
            got = snd.read(dtype="float32", out=buffer[: hi - lo])
            frames[i, lo - start: lo - start + len(got)] = _pick_lane(got, lane)


def compute_tile(path: Path | str, key: TileKey, cancelled: CancelCheck | None = None) -> Tile:
    """Read the samples of tile ``key`` from ``path`` and transform them.

    ``cancelled()`` is checked between the reads of a zoomed-out tile (one per
    column); it raises :class:`DecodeCancelled`.
    """
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
            if hop <= window * contiguous_hops(snd.format):
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
                _read_columns(snd, starts.tolist(), key.lane, frames, cancelled, Path(path).name)
        except (RuntimeError, ValueError) as exc:
            raise AudioDecodeError(f"Cannot decode {Path(path).name}: {exc}") from exc
    return Tile(key, stft_db(frames, window))
