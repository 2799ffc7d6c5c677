"""RawWindowReader: the raw samples of the visible window, read on the thread pool.

The waveform view asks for frames ``[f0, f1]`` when it is zoomed in past the
peak pyramid's finest level (to draw samples), while a pixel is short enough
for zero-crossing snaps, or where a growing pyramid has not reached the
visible window yet. One window (plus a span's margin either side) is held at a
time, and the next one is read ahead while the view pans toward its edge
(:meth:`RawWindowReader.keep_ahead`); a window of a file no longer shown never
arrives. :func:`raw_drawing`
turns a held window into what the wave item draws.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QThreadPool, Signal

from relay_desktop.core.audio.peaks import minmax
from relay_desktop.core.audio.seeking import RAW_MAX_FRAMES, raw_window_span
from relay_desktop.services import audio_tasks
from relay_desktop.services.audio_tasks import RawWindow, TaskHandle

Envelope = tuple[np.ndarray, np.ndarray, np.ndarray, float]
Samples = tuple[np.ndarray, np.ndarray, float]
Lane = tuple[int, int | None, float]


class RawWindowReader(QObject):
    """Reads and holds one window of raw samples of the shown file.

    Signals:
        arrived(): a requested window arrived (``window`` holds it).
        failed(str): reading it failed (a sentence).
    """

    arrived = Signal()
    failed = Signal(str)

    def __init__(self, pool: QThreadPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = pool
        self._path: Path | None = None
        self._frames = 0
        self.window: RawWindow | None = None
        self._task: TaskHandle | None = None
        self._wanted: tuple[int, int] | None = None

    def set_source(self, path: Path | None, frames: int) -> None:
        """Read from ``path`` (``frames`` long) from now on; forgets the window held."""
        self._path, self._frames = path, frames
        self.window = None
        self._wanted = None
        if self._task is not None:
            self._task.cancel()
        self._task = None

    def hold(self, window: RawWindow) -> None:
        """Keep ``window`` (read by someone else, e.g. the open task) as if it had arrived."""
        self.window = window

    def covers(self, f0: float, f1: float) -> bool:
        """Whether the window held covers frames ``[f0, f1]`` (and one either side)."""
        raw = self.window
        return raw is not None and raw.start <= max(0, f0 - 1) and (
            raw.start + len(raw.data) >= min(self._frames, f1 + 1))

    def request(self, f0: float, f1: float) -> None:
        """Read frames ``[f0, f1]`` and a span's margin either side, in the background.

        Nothing is read when RAW_MAX_FRAMES could not cover ``[f0, f1]``: such a
        window would never be drawn or held, and the view would ask again.
        """
        if self._path is None:
            return
        span = raw_window_span(f0, f1, self._frames)
        if span is None:
            return
        start, stop = span
        wanted = self._wanted
        if wanted is not None and wanted[0] <= f0 and wanted[1] >= f1 and self._task:
            return
        if self._task is not None:
            self._task.cancel()
        self._wanted = (start, stop)
        task = audio_tasks.raw_window(self._pool, self._path, start, stop)
        # bound methods (not lambdas): a reader deleted meanwhile is simply not called
        task.finished.connect(self._arrived)
        task.failed.connect(self._failed)
        self._task = task

    def keep_ahead(self, f0: float, f1: float) -> None:
        """Read a window around ``[f0, f1]`` in the background when the one held has less
        than half a span left on a side: panning then finds its samples already read."""
        raw = self.window
        if raw is None or self._path is None:
            return
        half = (f1 - f0) / 2
        end = raw.start + len(raw.data)
        if raw.start <= max(0.0, f0 - half) and end >= min(self._frames, f1 + half):
            return
        # asked for already (a file shorter than its header returns less than asked)
        if raw_window_span(f0, f1, self._frames) != self._wanted:
            self.request(f0, f1)

    def _arrived(self, raw: RawWindow) -> None:
        if self.sender() is not self._task:
            return  # superseded, or a file no longer shown
        self._task = None
        self.window = raw
        self.arrived.emit()

    def _failed(self, message: str) -> None:
        if self.sender() is self._task:
            self._task = None
            self.failed.emit(message)


def raw_drawing(raw: RawWindow, f0: float, f1: float, px: int, sample_rate: int,
                lanes: list[Lane]) -> tuple[str, list[Envelope] | list[Samples]]:
    """What to draw of ``raw`` for frames ``[f0, f1]`` over ``px`` pixels.

    Returns ``("raw-envelope", envelopes)`` when there are more than two samples
    per pixel, else ``("samples" or "samples-dots", lines)``.
    """
    i0 = max(0, int(np.floor(f0)) - 1 - raw.start)
    i1 = min(len(raw.data), int(np.ceil(f1)) + 2 - raw.start)
    data = raw.data[i0:i1]
    x = (raw.start + i0 + np.arange(len(data))) / sample_rate
    n = len(data)
    if n > 2 * px:
        group = n // px
        envs: list[Envelope] = []
        for _lane, ch, off in lanes:
            col = data.mean(axis=1) if ch is None else data[:, ch]
            mm = minmax(np.ascontiguousarray(col, dtype=np.float32)[:, None], group)[:, 0]
            envs.append((x[::group][: len(mm)], mm[:, 0], mm[:, 1], off))
        return "raw-envelope", envs
    dots = px / max(1.0, f1 - f0) >= 4.0
    samples: list[Samples] = []
    for _lane, ch, off in lanes:
        col = data.mean(axis=1) if ch is None else data[:, ch]
        samples.append((x, col, off))
    return ("samples-dots" if dots else "samples"), samples


__all__ = ["RAW_MAX_FRAMES", "RawWindowReader", "raw_drawing"]
