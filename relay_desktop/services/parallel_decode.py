"""Decoding one file on several threads at once, its spans handed back in file order.

A file whose format seeks fast is cut into spans
(:mod:`relay_desktop.core.audio.spans`); each of ``workers`` threads opens the
file on its own and decodes and reduces every ``workers``-th span, so an hour of
FLAC is read in about half the time on two cores (one thread alone is bound by
the decoder). :func:`decoded_spans` yields the reduced spans in order as they
are ready, so the waveform still fills from the start. Threads run at most
``AHEAD_SPANS`` spans past the one awaited (memory stays bounded), stop at the
file's real end, and stop when the caller cancels or stops reading.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Generator
from pathlib import Path

from relay_desktop.core.audio.decode import (
    AudioInfo,
    CancelCheck,
    DecodeCancelled,
    open_sound,
)
from relay_desktop.core.audio.spans import ReducedSpan, reduce_span, span_count, span_length

#: spans a thread may run ahead of the one the caller waits for
AHEAD_SPANS = 8
#: the most samples (frames x channels) one span holds: a thread's block stays ~8 MB as
#: 4-byte samples however many channels the file has
MAX_SPAN_SAMPLES = 1 << 21


def decode_workers() -> int:
    """Threads one file is decoded on: one per core, two to four."""
    return min(4, max(2, os.cpu_count() or 1))


class _SpanBoard:
    """The spans decoded so far (or the error met), shared by the threads and the reader."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._awaited = 0
        self._end = count          # the first span not to decode (the file ended before it)
        self._stopped = False
        self._done: dict[int, ReducedSpan | BaseException] = {}
        self._cond = threading.Condition()

    def may_decode(self, index: int) -> bool:
        """Wait until ``index`` is within reach; False when it is no longer wanted."""
        with self._cond:
            while (not self._stopped and index < self._end
                   and index >= self._awaited + AHEAD_SPANS):
                self._cond.wait()
            return not self._stopped and index < self._end

    def put(self, index: int, result: ReducedSpan | BaseException) -> None:
        with self._cond:
            self._done[index] = result
            if isinstance(result, ReducedSpan) and result.ends_file:
                self._end = min(self._end, index + 1)
            self._cond.notify_all()

    def take(self, index: int, cancelled: CancelCheck | None) -> ReducedSpan | None:
        """Span ``index`` once decoded (its error raised); None when cancelled meanwhile."""
        with self._cond:
            self._awaited = index
            self._cond.notify_all()
            while True:
                if cancelled is not None and cancelled():
                    return None
                if index in self._done:
                    break
                self._cond.wait(0.05)
            result = self._done.pop(index)
        if isinstance(result, BaseException):
            raise result
        return result

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()


def decoded_spans(path: Path, info: AudioInfo, block_frames: int, *,
                  workers: int | None = None,
                  cancelled: CancelCheck | None = None) -> Generator[ReducedSpan, None, None]:
    """The reduced spans of ``path`` (``info`` its header) in file order, decoded in parallel.

    Spans are ``block_frames`` long (fewer for many channels: ``MAX_SPAN_SAMPLES``).
    A span that ends the file early (truncated) is the last one; an error in a
    thread is raised here when its span is reached. ``cancelled()`` is checked
    between spans (DecodeCancelled). Stopping early stops the threads.
    """
    span_frames = span_length(min(block_frames, MAX_SPAN_SAMPLES // max(1, info.channels)))
    board = _SpanBoard(span_count(info.frames, span_frames))
    count = min(workers or decode_workers(), board.count)

    def decode(first: int) -> None:
        index = first
        try:
            with open_sound(path) as snd:
                for index in range(first, board.count, count):
                    if (cancelled is not None and cancelled()) or not board.may_decode(index):
                        return
                    board.put(index, reduce_span(snd, index, span_frames, info.frames))
        except BaseException as exc:  # handed to the reader at the span it stopped on
            board.put(index, exc)

    threads = [threading.Thread(target=decode, args=(k,), name=f"relay-decode-{k}", daemon=True)
               for k in range(count)]
    for thread in threads:
        thread.start()
    try:
        for index in range(board.count):
            span = board.take(index, cancelled)
            if span is None:
                raise DecodeCancelled(f"Decoding {path.name} was cancelled.")
            yield span
            if span.ends_file:
                return
    finally:
        board.stop()
        for thread in threads:
            thread.join()


__all__ = ["AHEAD_SPANS", "decode_workers", "decoded_spans"]
