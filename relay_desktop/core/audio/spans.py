"""A file's level-0 peaks computed span by span, so spans can be decoded on several threads.

A span is ``span_frames`` consecutive frames (a multiple of the level-0 bucket,
so the buckets of consecutive spans line up with those of one streaming pass).
:func:`reduce_span` decodes and reduces one span from an open file; the spans of
a file, absorbed in order (:meth:`GrowingPyramid.fill_spans
<relay_desktop.core.audio.progressive.GrowingPyramid.fill_spans>`), give exactly
the levels of :meth:`PeakPyramid.from_file
<relay_desktop.core.audio.peaks.PeakPyramid.from_file>`. Only formats that seek
fast (:func:`~relay_desktop.core.audio.seeking.seeks_fast`) are read this way:
each span starts with a seek. Threads are the caller's (core owns none).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import soundfile as sf

from relay_desktop.core.audio.decode import native_dtype, read_frames
from relay_desktop.core.audio.peaks import BASE_BUCKET, PeakReducer


@dataclass(frozen=True)
class ReducedSpan:
    """The level-0 buckets of frames ``[start, start + frames)``; ``asked`` frames were read."""

    start: int
    frames: int
    asked: int
    level0: np.ndarray

    @property
    def ends_file(self) -> bool:
        """Whether the file ended inside this span (fewer frames than asked)."""
        return self.frames < self.asked


def span_length(block_frames: int, bucket: int = BASE_BUCKET) -> int:
    """``block_frames`` rounded up to whole level-0 buckets (at least one)."""
    return max(bucket, -(-block_frames // bucket) * bucket)


def span_count(frames: int, span_frames: int) -> int:
    """How many spans of ``span_frames`` cover ``frames``."""
    return max(1, -(-frames // span_frames))


def reduce_span(snd: sf.SoundFile, index: int, span_frames: int, frames: int) -> ReducedSpan:
    """Decode span ``index`` of the open ``snd`` (``frames`` long by its header) and reduce it.

    Integer PCM is read as integers and reduced in its own type (as the streaming
    pass does). AudioDecodeError when the file cannot be read there.
    """
    start = index * span_frames
    asked = max(0, min(span_frames, frames - start))
    block = read_frames(snd, start, asked, native_dtype(snd.subtype))
    reducer = PeakReducer(snd.channels, len(block))
    reducer.push(block)
    return ReducedSpan(start, len(block), asked, reducer.finish())


__all__ = ["ReducedSpan", "reduce_span", "span_count", "span_length"]
