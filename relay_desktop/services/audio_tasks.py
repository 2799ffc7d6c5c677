"""Audio work on a QThreadPool: opening (decode + peaks) and raw windows (tiles: spectrogram_tasks).

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
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

import numpy as np
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal

from relay_desktop.core.audio.decode import (
    DEFAULT_BLOCK_FRAMES,
    AudioDecodeError,
    AudioInfo,
    CancelFlag,
    DecodeCancelled,
    probe,
    read_window,
)
from relay_desktop.core.audio.peaks import PeakCache, PeakPyramid
from relay_desktop.core.audio.progressive import GrowingPyramid
from relay_desktop.core.audio.seeking import raw_window_span, seeks_fast
from relay_desktop.services.parallel_decode import decoded_spans

log = logging.getLogger(__name__)
_Piece = TypeVar("_Piece")
#: an open at a window waits at most this long for its window to be drawn before decoding
FIRST_WINDOW_WAIT_S = 0.25
_LIVE: set[TaskHandle] = set()


class TaskHandle(QObject):
    """One background task.

    Signals:
        finished(object): the result, on the GUI thread.
        failed(str): a sentence saying what went wrong.
        cancelled(): the task was cancelled before it produced a result.
        progress(int, int): (done, total) while it runs.
        started(object): a first, partial result before ``finished`` (tasks that have one,
            e.g. opening: the header and the pyramid that grows while decoding).
    """

    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    progress = Signal(int, int)
    started = Signal(object)
    _outcome = Signal(str, object)  # worker -> GUI thread hop (queued)
    _step = Signal(int, int)
    _partial = Signal(object)

    def __init__(self, description: str = "") -> None:
        super().__init__()
        self.description = description
        self.flag = CancelFlag()
        self.done = False
        self._go_on = threading.Event()
        self._runnable: QRunnable | None = None
        # Always queued, even when the task finishes before the caller has connected:
        # the public signals fire from the GUI thread's event loop, after submit() returned.
        self._outcome.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._step.connect(self.progress, Qt.ConnectionType.QueuedConnection)
        self._partial.connect(self.started, Qt.ConnectionType.QueuedConnection)

    def _deliver(self, kind: str, value: object) -> None:
        self.done = True
        _LIVE.discard(self)
        if kind == "finished":
            self.finished.emit(value)
        elif kind == "failed":
            self.failed.emit(str(value))
        else:
            self.cancelled.emit()

    def report_progress(self, done: int, total: int) -> None:
        """Called from the worker: queue a ``progress`` emission."""
        self._step.emit(int(done), int(total))

    def report_started(self, partial: object) -> None:
        """Called from the worker: queue a ``started`` emission (delivered before the outcome)."""
        self._partial.emit(partial)

    def go_on(self) -> None:
        """Let a task waiting after its partial result continue (see :meth:`wait_to_go_on`)."""
        self._go_on.set()

    def wait_to_go_on(self, timeout_s: float) -> None:
        """Called from the worker: pause until :meth:`go_on` (or the timeout, or a cancel)."""
        self._go_on.wait(timeout_s)

    def cancel(self) -> None:
        """Ask the task to stop (checked between blocks); its result is dropped."""
        self.flag.cancel()
        self._go_on.set()

    @property
    def is_cancelled(self) -> bool:
        return self.flag.is_cancelled


class _Runnable(QRunnable):
    def __init__(self, handle: TaskHandle, fn: Callable[..., Any], args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> None:
        super().__init__()
        self.handle, self.fn, self.args, self.kwargs = handle, fn, args, kwargs

    def run(self) -> None:
        try:
            self._run()
        except RuntimeError as exc:
            if "deleted" not in str(exc):
                raise
            # the handle went away with the application (quit mid-task): no one to tell
            log.debug("audio task %s outlived its handle", self.handle.description)

    def _run(self) -> None:
        handle = self.handle
        if handle.is_cancelled:
            handle._outcome.emit("cancelled", None)
            return
        kind, value = outcome_of(lambda: self.fn(*self.args, **self.kwargs),
                                 handle.description or "The task")
        if kind == "finished" and handle.is_cancelled:
            kind, value = "cancelled", None
        handle._outcome.emit(kind, value)


def outcome_of(work: Callable[[], Any], what: str) -> tuple[str, object]:
    """Run ``work`` and say how it ended: ("finished", result), ("cancelled", None) or
    ("failed", sentence). ``what`` names it in sentences ("Opening x.wav failed: ...");
    anything unexpected is logged with its traceback. A Qt object deleted under the
    work (the app quitting) is raised, not reported: there is no one to tell.
    """
    try:
        return "finished", work()
    except DecodeCancelled:
        return "cancelled", None
    except AudioDecodeError as exc:
        return "failed", str(exc)
    except MemoryError:
        return "failed", f"{what} ran out of memory."
    except Exception as exc:  # reported to the user, logged with its traceback
        if isinstance(exc, RuntimeError) and "deleted" in str(exc):
            raise
        log.exception("%s failed", what)
        return "failed", f"{what} failed: {exc}"


def submit(pool: QThreadPool, fn: Callable[..., Any], *args: Any, description: str = "",
           pass_handle: bool = False, priority: int = 0, **kwargs: Any) -> TaskHandle:
    """Run ``fn(*args, **kwargs)`` on ``pool``; with ``pass_handle`` it gets ``handle=`` too.

    A higher ``priority`` starts before queued tasks of lower priority.
    """
    handle = TaskHandle(description)
    if pass_handle:
        kwargs["handle"] = handle
    _LIVE.add(handle)
    runnable = _Runnable(handle, fn, args, kwargs)
    runnable.setAutoDelete(False)
    handle._runnable = runnable  # Python owns it: freed with the handle, after it ran
    pool.start(runnable, priority)
    return handle


def prefetched(blocks: Iterator[np.ndarray], depth: int = 2) -> Iterator[np.ndarray]:
    """Decode ahead on a helper thread, so reducing block n overlaps decoding block n+1.

    At most ``depth`` blocks wait in the queue (memory stays bounded); an error in
    the decoder is re-raised here; stopping early (or an error here) stops the thread.
    """
    q: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for block in blocks:
                while not stop.is_set():
                    try:
                        q.put(("block", block), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(("end", None))
        except BaseException as exc:  # handed to the consumer
            q.put(("error", exc))

    thread = threading.Thread(target=produce, name="relay-decode-ahead", daemon=True)
    thread.start()
    try:
        while True:
            kind, item = q.get()
            if kind == "end":
                return
            if isinstance(item, BaseException):
                raise item
            yield cast(np.ndarray, item)
    finally:
        stop.set()
        while thread.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(0.05)


class Pacer(Protocol):
    """Wraps what decoding yields (blocks or reduced spans), e.g. to pace it in tests.

    It must yield the same pieces in the same order.
    """

    def __call__(self, pieces: Iterator[_Piece]) -> Iterator[_Piece]: ...


@dataclass(frozen=True)
class OpenedAudio:
    """What opening a file produces: its header and its peak pyramid.

    Reported twice for a file that is not in the peak cache: by ``started`` with a
    :class:`GrowingPyramid` that fills while decoding, then by ``finished`` (the
    same object, complete); a cached file only by ``finished``.
    """

    info: AudioInfo
    pyramid: PeakPyramid
    window: RawWindow | None = None


@dataclass(frozen=True)
class RawWindow:
    """Samples ``[start, start + len(data))`` of a file, ``(n, channels)`` float32."""

    start: int
    data: np.ndarray


def _first_window(path: Path, info: AudioInfo, at: tuple[float, float] | None) -> RawWindow | None:
    """The samples of ``at`` (plus margins), read by seeking where the format seeks fast."""
    if at is None or not seeks_fast(info):
        return None
    span = raw_window_span(at[0] * info.sample_rate, at[1] * info.sample_rate, info.frames)
    if span is None:
        return None
    return _window(path, *span)


def _open(path: Path, cache: PeakCache | None, content_hash: str | None,
          handle: TaskHandle, block_frames: int = DEFAULT_BLOCK_FRAMES,
          pacer: Pacer | None = None, at: tuple[float, float] | None = None) -> OpenedAudio:
    info = probe(path)
    key: str | None = None
    if cache is not None:
        try:  # the key is read once: to look the file up, and to store it after decoding
            key = cache.key_of(path, content_hash)
        except OSError:
            key = None  # unreadable metadata: decode anyway, store nothing
        cached = cache.load(key) if key is not None else None
        if cached is not None:
            return OpenedAudio(info, cached, _first_window(path, info, at))
    pyramid = GrowingPyramid.for_file(info)
    window = _first_window(path, info, at)
    handle.report_started(OpenedAudio(info, pyramid, window))
    if window is not None:
        # the window first: decoding the rest competes for the CPU with drawing it
        handle.wait_to_go_on(FIRST_WINDOW_WAIT_S)

    if seeks_fast(info):  # spans decoded on several threads, absorbed in order
        with closing(decoded_spans(path, info, block_frames, cancelled=handle.flag)) as spans:
            pyramid.fill_spans(pacer(spans) if pacer is not None else spans,
                               handle.report_progress)
    else:  # one stream, decoded ahead of its reduction on a helper thread

        def ahead(blocks: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
            blocks = prefetched(blocks)
            return pacer(blocks) if pacer is not None else blocks

        pyramid.decode(path, block_frames, cancelled=handle.flag,
                       progress=handle.report_progress, prefetch=ahead)
    if cache is not None and key is not None and not handle.is_cancelled:
        cache.store(path, pyramid, key)
    return OpenedAudio(info, pyramid)


def open_audio(pool: QThreadPool, path: Path, cache: PeakCache | None,
               content_hash: str | None = None, *, block_frames: int = DEFAULT_BLOCK_FRAMES,
               pacer: Pacer | None = None,
               at: tuple[float, float] | None = None) -> TaskHandle:
    """Probe ``path`` and get its peak pyramid (cached, or built in one decoding pass).

    A file not in ``cache`` reports ``started(OpenedAudio)`` right after the probe,
    then ``progress(decoded_frames, frames)``, then ``finished``; nothing is stored
    when it is cancelled. Queued ahead of spectrogram tiles (the user is waiting).
    With ``at`` (start_s, end_s) and a format that seeks fast,
    that window's samples are read first and come with the first result
    (``OpenedAudio.window``). Such a format is also decoded on several threads at
    once (:mod:`~relay_desktop.services.parallel_decode`); others stream on one.
    ``pacer`` wraps what decoding yields (see :class:`Pacer`).
    """
    return submit(pool, _open, Path(path), cache, content_hash, block_frames=block_frames,
                  pacer=pacer, at=at, description=f"Opening {Path(path).name}",
                  pass_handle=True, priority=1)


def _window(path: Path, start: int, stop: int) -> RawWindow:
    return RawWindow(max(0, start), read_window(path, start, stop))


def raw_window(pool: QThreadPool, path: Path, start: int, stop: int) -> TaskHandle:
    """Read frames ``[start, stop)`` (the visible samples at high zoom).

    Queued ahead of spectrogram tiles: these are what the user is looking at.
    """
    return submit(pool, _window, Path(path), start, stop, description="Reading samples",
                  priority=1)


__all__ = ["OpenedAudio", "Pacer", "RawWindow", "TaskHandle", "open_audio", "outcome_of",
           "prefetched", "raw_window", "submit"]
