"""The one thread that talks to the Relay API: a priority queue of requests and their handles.

The RelayClient (and its requests.Session) is created on the ``relay-api``
thread and used only there. The GUI thread submits callables; results come
back as signals of a :class:`RequestHandle`, always on the GUI thread.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from enum import Enum, IntEnum
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from relay_desktop.api import CancelToken, RelayClient, errors

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
Job = Callable[[RelayClient, CancelToken, Progress], Any]
ClientFactory = Callable[[], RelayClient]

PROGRESS_INTERVAL_S = 0.05
_LINGERING: set[QThread] = set()  # threads still finishing a read after a bounded shutdown


class Priority(IntEnum):
    """Lower runs first: user actions before background work before polling."""

    USER = 0
    BACKGROUND = 1
    POLL = 2


class _State(Enum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"


class RequestHandle(QObject):
    """One submitted request. Exactly one of succeeded/failed/cancelled is emitted, once.

    Signals:
        succeeded(object): the callable's return value.
        failed(object): the exception it raised (a ``relay_desktop.api.errors`` error usually).
        cancelled(): the request was cancelled before or while it ran; no result follows.
        progress(object): a ``(done, total)`` tuple, throttled.
        finished(): after any of the three outcomes.
    """

    succeeded = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    progress = Signal(object)
    finished = Signal()

    def __init__(self, worker: ApiWorker, fn: Job, priority: Priority, description: str) -> None:
        super().__init__()
        self.fn = fn
        self.priority = priority
        self.description = description
        self.token = CancelToken()
        self._worker = worker
        self._state = _State.PENDING
        self._delivered = False
        self.outcome: str | None = None

    @property
    def done(self) -> bool:
        return self._delivered

    def cancel(self) -> None:
        """Cancel: a pending request never starts; a running one sees its token cancelled."""
        self.token.cancel()
        if self._worker.withdraw(self):
            self.deliver("cancelled", None)

    # -- state, changed by the worker under its lock ---------------------------------------

    @property
    def is_pending(self) -> bool:
        """Queued and not started (nor withdrawn)."""
        return self._state is _State.PENDING

    def take_if_pending(self) -> bool:
        """Pending -> done (it will never run); whether it was pending."""
        if self._state is not _State.PENDING:
            return False
        self._state = _State.DONE
        return True

    def start_if_pending(self) -> bool:
        """Pending -> running; whether it was pending (a withdrawn one is skipped)."""
        if self._state is not _State.PENDING:
            return False
        self._state = _State.RUNNING
        return True

    def mark_done(self) -> None:
        self._state = _State.DONE

    def deliver(self, kind: str, payload: object) -> None:
        """Emit the outcome ("succeeded", "failed", "cancelled") or a "progress" step.

        Called on the GUI thread, by the worker (through its bridge). The first
        outcome wins; later ones, and progress after it, are dropped.
        """
        if kind == "progress":
            if not self._delivered:
                self.progress.emit(payload)
            return
        if self._delivered:
            return
        self._delivered = True
        self.outcome = kind
        if kind == "succeeded" and self.token.cancelled:
            kind = self.outcome = "cancelled"
        if kind == "succeeded":
            self.succeeded.emit(payload)
        elif kind == "failed":
            self.failed.emit(payload)
        else:
            self.cancelled.emit()
        self.finished.emit()
        self._worker.forget(self)


class _Bridge(QObject):
    """Lives on the GUI thread; carries results there through a queued connection.

    Signals:
        deliver(object, str, object): (handle or None, kind, payload) from the API thread.
    """

    deliver = Signal(object, str, object)

    def __init__(self, on_status: Callable[[str, object], None]) -> None:
        super().__init__()
        self._on_status = on_status
        self.deliver.connect(self._on_deliver, Qt.ConnectionType.QueuedConnection)

    @Slot(object, str, object)
    def _on_deliver(self, handle: RequestHandle | None, kind: str, payload: object) -> None:
        if handle is not None:
            handle.deliver(kind, payload)
        else:
            self._on_status(kind, payload)


class _Loop(QObject):
    """Runs on the ``relay-api`` thread: takes requests off the queue until STOP.

    Signals:
        stopped(): the loop has ended and the client is closed.
    """

    stopped = Signal()

    def __init__(self, worker: ApiWorker, factory: ClientFactory) -> None:
        super().__init__()
        self._worker = worker
        self._factory = factory
        self._told_unreachable = False   # the last reachability the GUI thread was told

    @Slot()
    def run(self) -> None:
        worker = self._worker
        client: RelayClient | None = None
        setup_error: BaseException | None = None
        try:
            client = self._factory()
        except Exception as exc:  # a bad URL, say: every request will fail with it
            log.warning("Could not create the API client: %s", exc)
            setup_error = exc
        try:
            while (handle := worker.next_request()) is not None:
                worker.post(None, "busy", handle.description)
                kind, payload = self._execute(handle, client, setup_error)
                idle = worker.request_finished(handle)
                worker.post(handle, kind, payload)
                if idle:
                    worker.post(None, "idle", None)
        finally:
            if client is not None:
                try:
                    client.close()
                except Exception:  # closing must not stop the shutdown
                    log.exception("Closing the API client failed")
            self.stopped.emit()

    def _execute(self, handle: RequestHandle, client: RelayClient | None,
                 setup_error: BaseException | None) -> tuple[str, object]:
        post = self._worker.post
        if handle.token.cancelled:
            return "cancelled", None
        if client is None:
            return "failed", setup_error
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if done >= total or now - last[0] >= PROGRESS_INTERVAL_S:
                last[0] = now
                post(handle, "progress", (done, total))

        try:
            result = handle.fn(client, handle.token, progress)
        except errors.Cancelled:
            return "cancelled", None
        except Exception as exc:
            if handle.token.cancelled:
                return "cancelled", None
            if isinstance(exc, errors.ApiConnectionError | errors.ApiTimeoutError):
                self._told_unreachable = True
                post(None, "unreachable", exc)
            elif isinstance(exc, errors.ApiStatusError):
                self._tell_reachable()
            return "failed", exc
        if handle.token.cancelled:
            return "cancelled", None
        self._tell_reachable()
        return "succeeded", result

    def _tell_reachable(self) -> None:
        """The server answered: tell the GUI thread only if it last heard otherwise
        (one queued call less per request; the GUI sees every transition, in order)."""
        if self._told_unreachable:
            self._told_unreachable = False
            self._worker.post(None, "reachable", None)


class ApiWorker(QObject):
    """Owns the ``relay-api`` thread and the RelayClient that lives on it.

    Signals:
        busy(str): a request started (its description).
        idle(): the queue ran empty.
        server_unreachable(object): a request failed to reach the server (the error);
            emitted on the transition only.
        server_reachable(): the server answered again after being unreachable.
        stopped(): the thread has finished (after ``shutdown``).
    """

    busy = Signal(str)
    idle = Signal()
    server_unreachable = Signal(object)
    server_reachable = Signal()
    stopped = Signal()

    def __init__(self, base_url: str, api_key: str, *,
                 timeout: tuple[float, float] = (5.0, 30.0),
                 client_factory: ClientFactory | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.base_url = base_url
        factory = client_factory or (lambda: RelayClient(base_url, api_key, timeout=timeout))
        self._client_factory = factory
        self._lock = threading.Lock()
        self._queue: queue.PriorityQueue[tuple[int, int, RequestHandle | None]] = (
            queue.PriorityQueue())
        self._seq = itertools.count()
        self._handles: set[RequestHandle] = set()
        self._running: RequestHandle | None = None
        self._closing = False
        self.reachable = True
        self._bridge = _Bridge(self._on_status)
        self._thread = QThread()
        self._thread.setObjectName("relay-api")
        self._loop = _Loop(self, factory)
        self._loop.moveToThread(self._thread)
        self._thread.started.connect(self._loop.run, Qt.ConnectionType.QueuedConnection)
        self._loop.stopped.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._thread.finished.connect(self.stopped)
        self._thread.start()

    def new_client(self) -> RelayClient:
        """Another client of the same server and key, for a thread of the caller's own
        (upload lanes): the worker's own client stays on the ``relay-api`` thread."""
        return self._client_factory()

    @property
    def thread_name(self) -> str:
        return self._thread.objectName()

    @property
    def is_running(self) -> bool:
        return self._thread.isRunning()

    def pending_count(self) -> int:
        return sum(1 for h in self._handles if h.is_pending)

    def submit(self, fn: Job, *, priority: Priority = Priority.USER,
               description: str = "") -> RequestHandle:
        """Queue ``fn(client, cancel, progress)`` to run on the API thread."""
        handle = RequestHandle(self, fn, Priority(priority), description)
        self._handles.add(handle)
        if self._closing:
            with self._lock:
                handle.take_if_pending()
            handle.token.cancel()
            self.post(handle, "cancelled", None)
            return handle
        self._queue.put((int(priority), next(self._seq), handle))
        return handle

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel what is pending, stop the thread and wait at most ``timeout_ms``.

        Returns True when the thread has finished. If a read is still in flight
        after the bound, the thread is left to finish on its own (its token is
        cancelled, so its result is dropped) and False is returned.
        """
        if not self._closing:
            self._closing = True
            to_cancel = []
            with self._lock:
                for handle in self._handles:
                    if handle.take_if_pending():
                        to_cancel.append(handle)
                running = self._running
            if running is not None:
                running.token.cancel()
            for handle in to_cancel:
                handle.token.cancel()
                handle.deliver("cancelled", None)
            self._queue.put((-1, next(self._seq), None))
        if self._thread.wait(max(0, timeout_ms)):
            return True
        log.warning("The API thread is still finishing a request; not waiting for it")
        _LINGERING.add(self._thread)  # never destroy a running QThread
        return False

    # -- for the handles and the API thread's loop ----------------------------------------

    def forget(self, handle: RequestHandle) -> None:
        """A handle has delivered its outcome: the worker no longer holds it."""
        self._handles.discard(handle)

    def withdraw(self, handle: RequestHandle) -> bool:
        """Take a pending ``handle`` off the queue (it will never run); whether it was pending."""
        with self._lock:
            return handle.take_if_pending()

    def next_request(self) -> RequestHandle | None:
        """On the API thread: block for the next pending request and mark it running;
        None once the worker is shutting down."""
        while True:
            _, _, handle = self._queue.get()
            if handle is None:
                return None
            with self._lock:
                if handle.start_if_pending():
                    self._running = handle
                    return handle

    def request_finished(self, handle: RequestHandle) -> bool:
        """On the API thread: ``handle`` has run; whether the queue is now empty."""
        with self._lock:
            handle.mark_done()
            self._running = None
            return self._queue.empty()

    def post(self, handle: RequestHandle | None, kind: str, payload: object) -> None:
        """From any thread: deliver to ``handle`` (or, with None, to the worker's status
        signals) on the GUI thread."""
        self._bridge.deliver.emit(handle, kind, payload)

    def _on_status(self, kind: str, payload: object) -> None:
        if kind == "busy":
            self.busy.emit(str(payload))
        elif kind == "idle":
            self.idle.emit()
        elif kind == "unreachable":
            if self.reachable:
                self.reachable = False
                self.server_unreachable.emit(payload)
        elif kind == "reachable" and not self.reachable:
            self.reachable = True
            self.server_reachable.emit()


def lingering_threads() -> int:
    """How many API threads are still finishing after a bounded shutdown."""
    return sum(1 for t in _LINGERING if t.isRunning())
