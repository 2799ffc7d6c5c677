"""Audio work on a QThreadPool: opening (decode + peaks), raw windows, spectrogram tiles.

Every task returns a :class:`TaskHandle` whose signals are delivered on the
GUI thread (the handle lives there; the worker emits, Qt queues). Errors are
sentences (:class:`AudioDecodeError` messages); anything unexpected is logged
with its traceback and reported as a short sentence, never raised into Qt.

Usage::

    handle = submit(pool, PeakCache(paths.peak_cache).open_or_build, path)
    handle.finished.connect(on_result)   # result object
    handle.failed.connect(on_error)      # str
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from relay_desktop.core.audio.decode import (
    AudioDecodeError,
    AudioInfo,
    CancelFlag,
    DecodeCancelled,
    probe,
    read_window,
)
from relay_desktop.core.audio.peaks import PeakCache, PeakPyramid
from relay_desktop.core.audio.spectrogram import Tile, TileKey, compute_tile

log = logging.getLogger(__name__)
_LIVE: set[TaskHandle] = set()


class TaskHandle(QObject):
    """One background task.

    Signals:
        finished(object): the result, on the GUI thread.
        failed(str): a sentence saying what went wrong.
        cancelled(): the task was cancelled before it produced a result.
        progress(int, int): (done, total) while it runs.
    """

    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    progress = Signal(int, int)

    def __init__(self, description: str = "") -> None:
        super().__init__()
        self.description = description
        self.flag = CancelFlag()
        self.done = False
        for sig in (self.finished, self.failed, self.cancelled):
            sig.connect(self._forget)

    def cancel(self) -> None:
        """Ask the task to stop (checked between blocks); its result is dropped."""
        self.flag.cancel()

    @property
    def is_cancelled(self) -> bool:
        return self.flag.is_cancelled

    def _forget(self, *_args: object) -> None:
        self.done = True
        _LIVE.discard(self)


class _Runnable(QRunnable):
    def __init__(self, handle: TaskHandle, fn: Callable[..., Any], args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> None:
        super().__init__()
        self.handle, self.fn, self.args, self.kwargs = handle, fn, args, kwargs

    def run(self) -> None:
        handle = self.handle
        if handle.is_cancelled:
            handle.cancelled.emit()
            return
        try:
            out = self.fn(*self.args, **self.kwargs)
        except DecodeCancelled:
            handle.cancelled.emit()
        except AudioDecodeError as exc:
            handle.failed.emit(str(exc))
        except MemoryError:
            handle.failed.emit(f"{handle.description or 'The task'} ran out of memory.")
        except Exception as exc:  # noqa: BLE001 - reported to the user, logged for us
            log.exception("audio task %s failed", handle.description)
            handle.failed.emit(f"{handle.description or 'The task'} failed: {exc}")
        else:
            if handle.is_cancelled:
                handle.cancelled.emit()
            else:
                handle.finished.emit(out)


def submit(pool: QThreadPool, fn: Callable[..., Any], *args: Any, description: str = "",
           pass_handle: bool = False, **kwargs: Any) -> TaskHandle:
    """Run ``fn(*args, **kwargs)`` on ``pool``; with ``pass_handle`` it gets ``handle=`` too."""
    handle = TaskHandle(description)
    if pass_handle:
        kwargs["handle"] = handle
    _LIVE.add(handle)
    pool.start(_Runnable(handle, fn, args, kwargs))
    return handle


@dataclass(frozen=True)
class OpenedAudio:
    """What opening a file produces: its header and its peak pyramid."""

    info: AudioInfo
    pyramid: PeakPyramid


def _open(path: Path, cache: PeakCache | None, content_hash: str | None,
          handle: TaskHandle) -> OpenedAudio:
    info = probe(path)
    progress = handle.progress.emit
    if cache is None:
        pyramid = PeakPyramid.from_file(path, cancelled=handle.flag, progress=progress)
    else:
        pyramid = cache.open_or_build(path, content_hash, cancelled=handle.flag,
                                      progress=progress)
    return OpenedAudio(info, pyramid)


def open_audio(pool: QThreadPool, path: Path, cache: PeakCache | None,
               content_hash: str | None = None) -> TaskHandle:
    """Probe ``path`` and get its peak pyramid (cached, or built in one decoding pass)."""
    return submit(pool, _open, Path(path), cache, content_hash,
                  description=f"Opening {Path(path).name}", pass_handle=True)


@dataclass(frozen=True)
class RawWindow:
    """Samples ``[start, start + len(data))`` of a file, ``(n, channels)`` float32."""

    start: int
    data: np.ndarray


def _window(path: Path, start: int, stop: int) -> RawWindow:
    return RawWindow(max(0, start), read_window(path, start, stop))


def raw_window(pool: QThreadPool, path: Path, start: int, stop: int) -> TaskHandle:
    """Read frames ``[start, stop)`` (the visible samples at high zoom)."""
    return submit(pool, _window, Path(path), start, stop, description="Reading samples")


def spectrogram_tile(pool: QThreadPool, path: Path, key: TileKey) -> TaskHandle:
    """Compute one spectrogram tile; the result is a :class:`Tile`."""
    return submit(pool, compute_tile, Path(path), key, description="Spectrogram")


__all__ = ["OpenedAudio", "RawWindow", "TaskHandle", "Tile", "open_audio", "raw_window",
           "spectrogram_tile", "submit"]
