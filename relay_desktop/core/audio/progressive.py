"""A peak pyramid that grows while its file decodes, readable (from another thread) meanwhile.

:class:`GrowingPyramid` preallocates every level from the header's frame count
and is filled block by block in the decoding pass: level 0 from the streaming
:class:`~relay_desktop.core.audio.peaks.PeakReducer`, each coarser level updated
for the new range only (its partial last bucket recomputed). ``decoded_frames``
is published after the data it covers is written, so a reader (the GUI thread)
that clips to it only sees finished buckets. When the pass ends the levels are
exactly those of :meth:`PeakPyramid.from_file`; a file that holds fewer frames
than its header promised (truncated) ends early with ``frames`` shrunk to what
was decoded.

Usage (on a worker thread)::

    pyramid = GrowingPyramid.for_file(info)
    publish(pyramid)                     # readers may draw it from now on
    pyramid.decode(path, cancelled=..., progress=...)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from relay_desktop.core.audio.decode import (
    DEFAULT_BLOCK_FRAMES,
    AudioDecodeError,
    AudioInfo,
    CancelCheck,
    Progress,
    iter_blocks,
)
from relay_desktop.core.audio.peaks import (
    BASE_BUCKET,
    FACTOR,
    MIN_TOP_BUCKETS,
    PeakPyramid,
    PeakReducer,
    Prefetch,
    reduce_level,
)
from relay_desktop.core.audio.spans import ReducedSpan

#: decoded frames are published (coarser levels updated) in steps of at least this many
#: frames (~22 ms of 48 kHz audio; far more often than anyone redraws), except the first
PUBLISH_FRAMES = 1 << 20


def level_sizes(frames: int, base: int = BASE_BUCKET, factor: int = FACTOR) -> list[int]:
    """Bucket counts per level of a ``frames``-long file (as :meth:`PeakPyramid.from_level0`)."""
    sizes = [max(1, -(-frames // base))]
    while sizes[-1] > MIN_TOP_BUCKETS:
        sizes.append(-(-sizes[-1] // factor))
    return sizes


@dataclass
class GrowingPyramid(PeakPyramid):
    """A :class:`PeakPyramid` filled while decoding (see the module docstring).

    ``frames`` is the header's count until the pass ends (then what was decoded);
    ``decoded_frames`` grows from 0 to ``frames``; ``complete`` says the pass ended.
    """

    decoded_frames: int = 0
    complete: bool = False
    _filled: list[int] = field(default_factory=list, repr=False)

    @classmethod
    def for_file(cls, info: AudioInfo) -> GrowingPyramid:
        """Empty levels sized for ``info.frames`` (nothing decoded yet)."""
        lanes = info.channels + (1 if info.channels > 1 else 0)
        levels = [np.zeros((n, lanes, 2), dtype=np.float32)
                  for n in level_sizes(info.frames)]
        return cls(sample_rate=info.sample_rate, frames=info.frames, channels=info.channels,
                   levels=levels, _filled=[0] * len(levels))

    # -- reading -----------------------------------------------------------------------

    @property
    def decoded_s(self) -> float:
        return self.decoded_frames / self.sample_rate

    def available_buckets(self, level: int) -> int:
        """Buckets of ``level`` that hold decoded data."""
        if self.complete:
            return len(self.levels[level])
        return min(len(self.levels[level]), -(-self.decoded_frames // self.bucket_frames(level)))

    def decoded_until(self) -> int:
        return self.frames if self.complete else self.decoded_frames

    def is_complete(self) -> bool:
        return self.complete

    # -- filling (one writer thread) -----------------------------------------------------

    def decode(self, path: Path | str, block_frames: int = DEFAULT_BLOCK_FRAMES, *,
               cancelled: CancelCheck | None = None, progress: Progress | None = None,
               prefetch: Prefetch | None = None) -> GrowingPyramid:
        """Decode ``path`` (whose header gave this pyramid's size) into the levels."""
        blocks: Iterator[np.ndarray] = iter_blocks(path, block_frames, cancelled=cancelled,
                                                   native=True)
        if prefetch is not None:
            blocks = prefetch(blocks)
        self.fill(blocks, progress)
        return self

    def fill(self, blocks: Iterable[np.ndarray], progress: Progress | None = None) -> None:
        """Reduce ``blocks`` into the levels; ``progress(decoded, frames)`` as they publish."""
        reducer = PeakReducer(self.channels, self.frames)
        step = max(1, PUBLISH_FRAMES // self.base)
        for block in blocks:
            reducer.push(block)
            if reducer.buckets - self._filled[0] >= step or self._filled[0] == 0:
                self._absorb(reducer.completed(), reducer.buckets)
                if progress is not None:
                    progress(self.decoded_frames, self.frames)
        level0 = reducer.finish()
        if reducer.frames == 0:
            raise AudioDecodeError("The audio contains no samples.")
        if reducer.frames != self.frames or len(level0) != len(self.levels[0]):
            self._truncate(level0, reducer.frames)
        else:
            self._absorb(level0, len(level0))
        self._finish(progress)

    def fill_spans(self, spans: Iterable[ReducedSpan], progress: Progress | None = None) -> None:
        """Absorb spans reduced by :func:`~relay_desktop.core.audio.spans.reduce_span`.

        They must come in file order; a span that ends the file ends the pass (a
        truncated file shrinks to what it held). ``progress`` as in :meth:`fill`.
        """
        frames = 0
        for span in spans:
            if span.start != frames:
                raise ValueError(f"span at frame {span.start} given when {frames} was next")
            frames += span.frames
            self._append(span.level0)
            if progress is not None and not span.ends_file:
                progress(self.decoded_frames, self.frames)
            if span.ends_file:
                break
        if frames == 0:
            raise AudioDecodeError("The audio contains no samples.")
        if frames != self.frames:
            self._truncate(np.array(self.levels[0][: self._filled[0]]), frames)
        self._finish(progress)

    def _finish(self, progress: Progress | None) -> None:
        """The pass is over: everything in the levels is decoded."""
        self.decoded_frames = self.frames
        self.complete = True
        if progress is not None:
            progress(self.frames, self.frames)

    def _absorb(self, level0: np.ndarray, count: int) -> None:
        """Copy level-0 buckets up to ``count`` in and update the coarser levels' new range."""
        self._append(level0[self._filled[0]: min(count, len(self.levels[0]))])

    def _append(self, buckets: np.ndarray) -> None:
        """Write level-0 ``buckets`` after those filled, then the coarser levels' new range."""
        start = self._filled[0]
        count = min(start + len(buckets), len(self.levels[0]))
        if count <= start:
            return
        self.levels[0][start:count] = buckets[: count - start]
        self._filled[0] = count
        below_start, below_count = start, count
        for k in range(1, len(self.levels)):
            first = below_start // self.factor  # the partial bucket is recomputed
            last = -(-below_count // self.factor)
            src = self.levels[k - 1][first * self.factor: below_count]
            self.levels[k][first:last] = reduce_level(src, self.factor)
            below_start, below_count = first, last
            self._filled[k] = last
        self.decoded_frames = min(self.frames, count * self.base)

    def _truncate(self, level0: np.ndarray, frames: int) -> None:
        """The file ended early: rebuild the levels for what it held."""
        full = PeakPyramid.from_level0(np.array(level0), self.sample_rate, frames,
                                       self.channels)
        self.decoded_frames = min(self.decoded_frames, frames)
        self.levels = full.levels
        self._filled = [len(level) for level in full.levels]
        self.frames = frames


__all__ = ["GrowingPyramid", "level_sizes"]
