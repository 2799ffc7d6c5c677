"""Min/max peak pyramid, computed in the same streaming pass as decoding.

Level 0 holds, for every ``BASE_BUCKET`` (64) frames, the minimum and maximum
sample of each channel; level ``k`` reduces level ``k-1`` by ``FACTOR`` (4).
Arrays have shape ``(buckets, lanes, 2)`` float32 (``[..., 0]`` min, ``[..., 1]``
max); ``lanes`` is the channel count, plus one extra "mix" lane (the mean of
the channels) when the file has more than one channel.

Memory stays bounded: blocks are reduced as they are decoded, only level 0
(1/32 of the decoded samples for a mono file) is held while the pass runs.

On disk a pyramid is a folder ``<peak_cache>/<key>/`` with ``meta.json`` and
one ``level<k>.npy`` per level, opened memory-mapped, so reopening is instant.
The key is a hash of the file size, its modification time and a sample of its
content (head and tail, 64 KiB each) -- or of its size and full content hash
when the caller knows it (files in the audio cache are named by theirs, and
their mtimes change as the cache uses them). A changed file
gets a new key; the stale folder for the same path is removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from relay_desktop.core.audio.decode import (
    DEFAULT_BLOCK_FRAMES,
    AudioDecodeError,
    CancelCheck,
    Progress,
    integer_scale,
    iter_blocks,
    probe,
)

BASE_BUCKET = 64
FACTOR = 4
MIN_TOP_BUCKETS = 512
FORMAT_VERSION = 1
_SAMPLE_BYTES = 64 * 1024

#: Wraps the block iterator, e.g. to decode ahead on another thread (services do that;
#: core owns no threads). Must yield the same blocks in the same order.
Prefetch = Callable[[Iterator[np.ndarray]], Iterator[np.ndarray]]


def _minmax_col(col: np.ndarray, bucket: int, out: np.ndarray) -> None:
    """Min/max of a contiguous 1-D ``col`` per ``bucket`` into ``out`` (``(count, 2)``)."""
    n = len(col)
    full = n // bucket
    if full:
        # reduced down the columns of the transpose: element-wise (SIMD) passes over whole
        # rows, ~3x faster than a reduction along each short bucket
        shaped = col[: full * bucket].reshape(full, bucket).T
        if col.dtype == out.dtype:
            np.minimum.reduce(shaped, axis=0, out=out[:full, 0])
            np.maximum.reduce(shaped, axis=0, out=out[:full, 1])
        else:  # integers: reduced in their own type, then cast (casting inside the
            # reduction into the strided float output costs twice the reduction)
            out[:full, 0] = np.minimum.reduce(shaped, axis=0)
            out[:full, 1] = np.maximum.reduce(shaped, axis=0)
    if n > full * bucket:
        tail = col[full * bucket:]
        out[full, 0] = tail.min()
        out[full, 1] = tail.max()


def minmax(data: np.ndarray, bucket: int) -> np.ndarray:
    """Min/max of ``data`` (``(n, lanes)``) per ``bucket`` rows -> ``(ceil(n/bucket), lanes, 2)``.

    The last bucket may be partial. This is the reference the streaming
    reducer must agree with.
    """
    n, lanes = data.shape
    out = np.empty((-(-n // bucket), lanes, 2), dtype=np.float32)
    for lane in range(lanes):
        _minmax_col(np.ascontiguousarray(data[:, lane]), bucket, out[:, lane])
    return out


def reduce_level(level: np.ndarray, factor: int = FACTOR) -> np.ndarray:
    """Combine every ``factor`` buckets of ``level`` into one (the last may be partial)."""
    if factor < 2:
        return np.array(level, dtype=np.float32)
    n, lanes, _ = level.shape
    count = -(-n // factor)
    out = np.empty((count, lanes, 2), dtype=np.float32)
    full = n // factor
    if full:
        # element-wise over every factor-th bucket (a reduction along the short axis of a
        # strided view is 2-6x slower)
        body = level[: full * factor]
        mins, maxs = out[:full, :, 0], out[:full, :, 1]
        np.minimum(body[0::factor, :, 0], body[1::factor, :, 0], out=mins)
        np.maximum(body[0::factor, :, 1], body[1::factor, :, 1], out=maxs)
        for j in range(2, factor):
            np.minimum(mins, body[j::factor, :, 0], out=mins)
            np.maximum(maxs, body[j::factor, :, 1], out=maxs)
    if count > full:
        tail = level[full * factor:]
        out[full, :, 0] = tail[..., 0].min(axis=0)
        out[full, :, 1] = tail[..., 1].max(axis=0)
    return out


def with_mix_lane(block: np.ndarray) -> np.ndarray:
    """``block`` plus a mix lane (channel mean) when it has more than one channel."""
    if block.shape[1] == 1:
        return block
    return np.concatenate([block, _mix(_columns(block))[:, None]], axis=1)


def _columns(block: np.ndarray) -> list[np.ndarray]:
    return [np.ascontiguousarray(block[:, c]) for c in range(block.shape[1])]


def _mix(cols: list[np.ndarray]) -> np.ndarray:
    mix = cols[0].copy()
    for col in cols[1:]:
        mix += col
    mix *= np.float32(1.0 / len(cols))
    return mix


class PeakReducer:
    """Streaming level-0 reducer: push decoded blocks, then :meth:`finish`."""

    def __init__(self, channels: int, expected_frames: int = 0, bucket: int = BASE_BUCKET) -> None:
        self.channels = channels
        self.lanes = channels + (1 if channels > 1 else 0)
        self.bucket = bucket
        self.frames = 0
        capacity = max(1, -(-expected_frames // bucket)) + 1
        self._out = np.empty((capacity, self.lanes, 2), dtype=np.float32)
        self._count = 0
        self._rest: list[np.ndarray] = []

    def _reserve(self, count: int) -> np.ndarray:
        need = self._count + count
        if need > len(self._out):
            grown = np.empty((max(need, len(self._out) * 2), self.lanes, 2), dtype=np.float32)
            grown[: self._count] = self._out[: self._count]
            self._out = grown
        view = self._out[self._count: need]
        self._count = need
        return view

    def _reduce(self, cols: list[np.ndarray]) -> None:
        count = -(-len(cols[0]) // self.bucket)
        if count == 0:
            return
        out = self._reserve(count)
        for lane, col in enumerate(cols):
            _minmax_col(col, self.bucket, out[:, lane])
        if cols[0].dtype.kind == "i":  # integer samples: min/max first, scaled after
            out *= np.float32(integer_scale(cols[0].dtype))

    def push(self, block: np.ndarray) -> None:
        """Reduce one ``(n, channels)`` block (any length).

        Blocks are float32, or integers read with ``iter_blocks(native=True)``: a
        mono file's are reduced as they are (a quarter of the work of converting
        them first) and give the same levels; several channels are converted,
        as their mix lane needs the samples.
        """
        if block.ndim != 2 or block.shape[1] != self.channels:
            raise ValueError(f"expected (n, {self.channels}) block, got {block.shape}")
        if len(block) == 0:
            return
        if block.dtype.kind == "i" and self.channels > 1:
            scale = np.float32(integer_scale(block.dtype))
            block = block.astype(np.float32)
            block *= scale
        self.frames += len(block)
        cols = _columns(block)
        if self.channels > 1:
            cols.append(_mix(cols))
        if self._rest:
            take = min(self.bucket - len(self._rest[0]), len(cols[0]))
            self._rest = [np.concatenate([r, c[:take]]) for r, c in zip(self._rest, cols,
                                                                          strict=True)]
            cols = [c[take:] for c in cols]
            if len(self._rest[0]) < self.bucket:
                return
            self._reduce(self._rest)
            self._rest = []
        n = len(cols[0])
        full = (n // self.bucket) * self.bucket
        if full:
            self._reduce([c[:full] for c in cols])
        if full < n:
            self._rest = [c[full:].copy() for c in cols]

    @property
    def buckets(self) -> int:
        """Complete level-0 buckets reduced so far (the partial last one waits for finish)."""
        return self._count

    def completed(self) -> np.ndarray:
        """The complete buckets so far (a view: valid until the next push)."""
        return self._out[: self._count]

    def finish(self) -> np.ndarray:
        """Level 0: ``(ceil(frames/bucket), lanes, 2)``."""
        if self._rest:
            self._reduce(self._rest)
            self._rest = []
        return self._out[: self._count]


@dataclass
class PeakPyramid:
    """Min/max levels of one audio file (see the module docstring for the layout)."""

    sample_rate: int
    frames: int
    channels: int
    levels: list[np.ndarray]
    base: int = BASE_BUCKET
    factor: int = FACTOR
    folder: Path | None = None

    @property
    def lanes(self) -> int:
        return self.channels + (1 if self.channels > 1 else 0)

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate

    def lane(self, channel: int | None) -> int:
        """The lane of ``channel`` (None: the mix, or channel 0 of a mono file)."""
        if channel is None:
            return self.lanes - 1
        if not 0 <= channel < self.channels:
            raise IndexError(f"channel {channel} out of range 0..{self.channels - 1}")
        return channel

    def bucket_frames(self, level: int) -> int:
        return self.base * self.factor**level

    def available_buckets(self, level: int) -> int:
        """Buckets of ``level`` holding data (all of them; a growing pyramid has fewer)."""
        return len(self.levels[level])

    def decoded_until(self) -> int:
        """Frames ``[0, n)`` the levels describe (all; a growing pyramid: those decoded)."""
        return self.frames

    def is_complete(self) -> bool:
        """Whether the whole file is in the levels (False while a growing one decodes)."""
        return True

    def level_for(self, frames_per_pixel: float) -> int | None:
        """The coarsest level with at least one bucket per pixel; None: use raw samples."""
        if frames_per_pixel < self.base:
            return None
        level = 0
        while level + 1 < len(self.levels) and self.bucket_frames(level + 1) <= frames_per_pixel:
            level += 1
        return level

    def envelope(self, start_frame: float, stop_frame: float, lane: int,
                 pixels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Per-column ``(start_frames, mins, maxs)`` covering ``[start, stop)`` at ~1 per pixel.

        Returns None when the range is so zoomed in that raw samples should be
        shown instead.
        """
        pixels = max(1, int(pixels))
        span = max(1.0, stop_frame - start_frame)
        level = self.level_for(span / pixels)
        if level is None:
            return None
        bucket = self.bucket_frames(level)
        data = self.levels[level]
        i0 = max(0, int(start_frame // bucket) - 1)
        i1 = min(self.available_buckets(level), int(-(-stop_frame // bucket)) + 1)
        if i1 <= i0:
            empty = np.zeros(0, dtype=np.float32)
            return np.zeros(0, dtype=np.float64), empty, empty
        group = int((i1 - i0) // pixels)
        if group >= 2:
            i0 -= i0 % group
            sel = data[i0:i1, lane]
            reduced = reduce_level(sel[:, None, :], group)[:, 0, :]
            starts = (i0 + np.arange(len(reduced), dtype=np.float64) * group) * bucket
            return starts, reduced[:, 0], reduced[:, 1]
        sel = data[i0:i1, lane]
        starts = (i0 + np.arange(i1 - i0, dtype=np.float64)) * bucket
        return starts, np.ascontiguousarray(sel[:, 0]), np.ascontiguousarray(sel[:, 1])

    @classmethod
    def from_level0(cls, level0: np.ndarray, sample_rate: int, frames: int,
                    channels: int) -> PeakPyramid:
        """Build the coarser levels from level 0."""
        levels = [level0]
        while len(levels[-1]) > MIN_TOP_BUCKETS:
            levels.append(reduce_level(levels[-1]))
        return cls(sample_rate=sample_rate, frames=frames, channels=channels, levels=levels)

    @classmethod
    def from_blocks(cls, blocks: Iterable[np.ndarray], sample_rate: int, channels: int,
                    expected_frames: int = 0) -> PeakPyramid:
        """Reduce an iterable of ``(n, channels)`` blocks."""
        reducer = PeakReducer(channels, expected_frames)
        for block in blocks:
            reducer.push(block)
        if reducer.frames == 0:
            raise AudioDecodeError("The audio contains no samples.")
        return cls.from_level0(reducer.finish(), sample_rate, reducer.frames, channels)

    @classmethod
    def from_file(cls, path: Path | str, block_frames: int = DEFAULT_BLOCK_FRAMES, *,
                  cancelled: CancelCheck | None = None, progress: Progress | None = None,
                  prefetch: Prefetch | None = None) -> PeakPyramid:
        """Decode ``path`` in blocks and reduce it in the same pass."""
        info = probe(path)
        blocks: Iterator[np.ndarray] = iter_blocks(path, block_frames, cancelled=cancelled,
                                                   progress=progress, native=True)
        if prefetch is not None:
            blocks = prefetch(blocks)
        pyramid = cls.from_blocks(blocks, info.sample_rate, info.channels, info.frames)
        return pyramid

    # -- disk ---------------------------------------------------------------------------

    def save(self, folder: Path, key: str = "") -> None:
        """Write the pyramid into ``folder`` atomically (a temp folder renamed)."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
        try:
            for k, level in enumerate(self.levels):
                np.save(tmp / f"level{k}.npy", level)
            meta = {"version": FORMAT_VERSION, "key": key, "sample_rate": self.sample_rate,
                    "frames": self.frames, "channels": self.channels, "base": self.base,
                    "factor": self.factor, "levels": len(self.levels)}
            (tmp / "meta.json").write_text(json.dumps(meta))
            if folder.exists():
                shutil.rmtree(folder, ignore_errors=True)
            os.replace(tmp, folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.folder = folder

    @classmethod
    def load(cls, folder: Path) -> PeakPyramid | None:
        """Open a saved pyramid memory-mapped; None when missing or unreadable."""
        try:
            meta = json.loads((folder / "meta.json").read_text())
            if meta.get("version") != FORMAT_VERSION:
                return None
            levels = [np.load(folder / f"level{k}.npy", mmap_mode="r")
                      for k in range(int(meta["levels"]))]
        except (OSError, ValueError, KeyError):
            return None
        return cls(sample_rate=int(meta["sample_rate"]), frames=int(meta["frames"]),
                   channels=int(meta["channels"]), levels=levels, base=int(meta["base"]),
                   factor=int(meta["factor"]), folder=folder)


def fingerprint(path: Path | str, content_hash: str | None = None) -> str:
    """Cache key of ``path``: its size and full content hash when known, else its size,
    mtime and a sampled content hash.

    A known content hash names the content alone: the audio cache touches its files'
    mtimes as it uses them, which must not make their peaks look stale.
    """
    path = Path(path)
    st = path.stat()
    if content_hash:
        return hashlib.sha1(f"v{FORMAT_VERSION}:{st.st_size}:{content_hash}".encode()).hexdigest()
    h = hashlib.sha1(f"v{FORMAT_VERSION}:{st.st_size}:{st.st_mtime_ns}".encode())
    with path.open("rb") as fh:
        h.update(fh.read(_SAMPLE_BYTES))
        if st.st_size > 2 * _SAMPLE_BYTES:
            fh.seek(-_SAMPLE_BYTES, os.SEEK_END)
            h.update(fh.read(_SAMPLE_BYTES))
    return h.hexdigest()


class PeakCache:
    """Pyramids on disk under ``root`` (``AppPaths.peak_cache``), one folder per key."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path_index(self, path: Path) -> Path:
        digest = hashlib.sha1(str(Path(path).resolve()).encode()).hexdigest()
        return self.root / "by-path" / digest

    def folder_for(self, key: str) -> Path:
        return self.root / key[:2] / key

    def open(self, path: Path | str, content_hash: str | None = None) -> PeakPyramid | None:
        """The cached pyramid of ``path`` if it is still valid, else None."""
        try:
            key = fingerprint(path, content_hash)
        except OSError:
            return None
        return self.load(key)

    def load(self, key: str) -> PeakPyramid | None:
        """The pyramid stored under ``key`` (see :meth:`key_of`), or None."""
        return PeakPyramid.load(self.folder_for(key))

    def build(self, path: Path | str, content_hash: str | None = None, *,
              block_frames: int = DEFAULT_BLOCK_FRAMES, cancelled: CancelCheck | None = None,
              progress: Progress | None = None, prefetch: Prefetch | None = None) -> PeakPyramid:
        """Compute the pyramid of ``path`` and store it, dropping a stale one for that path."""
        path = Path(path)
        key = fingerprint(path, content_hash)
        pyramid = PeakPyramid.from_file(path, block_frames, cancelled=cancelled,
                                        progress=progress, prefetch=prefetch)
        self.store(path, pyramid, key)
        return pyramid

    def key_of(self, path: Path | str, content_hash: str | None = None) -> str:
        """The cache key of ``path`` now (take it before decoding; OSError if unreadable)."""
        return fingerprint(path, content_hash)

    def store(self, path: Path | str, pyramid: PeakPyramid, key: str) -> None:
        """Save ``pyramid`` of ``path`` under ``key``, dropping a stale one for that path."""
        path = Path(path)
        folder = self.folder_for(key)
        try:
            pyramid.save(folder, key)
            index = self._path_index(path)
            index.parent.mkdir(parents=True, exist_ok=True)
            if index.exists():
                old = index.read_text().strip()
                if old and old != key:
                    shutil.rmtree(self.folder_for(old), ignore_errors=True)
            index.write_text(key)
        except OSError:
            pass  # a cache that cannot be written is not an error: the pyramid is in memory

    def open_or_build(self, path: Path | str, content_hash: str | None = None, *,
                      cancelled: CancelCheck | None = None, progress: Progress | None = None,
                      prefetch: Prefetch | None = None) -> PeakPyramid:
        """The cached pyramid, or a freshly built (and stored) one."""
        cached = self.open(path, content_hash)
        if cached is not None:
            return cached
        return self.build(path, content_hash, cancelled=cancelled, progress=progress,
                          prefetch=prefetch)
