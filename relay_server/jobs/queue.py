"""The task queue: huey on SQLite in the data folder, and the tasks it runs.

Tasks are registered by name in :data:`TASKS`; each receives the
:class:`JobContext` and its keyword arguments. The same names are registered
in the server's embedded consumer and in ``relay-server worker`` processes,
so either can run any queued task. Job state lives in the database, not in
the queue: a task lost in a crash is queued again from the database on
start-up (see :mod:`relay_server.jobs.recovery`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from huey import SqliteHuey
from huey.api import Task
from huey.consumer import Consumer
from sqlalchemy.orm import Session, sessionmaker

from relay_server.config import ServerSettings
from relay_server.processing.pipeline import ProcessingContext, mark_failed, process_audio
from relay_server.storage.base import Storage

log = logging.getLogger("relay_server.jobs")
RETRIES = 2
RETRY_DELAY_S = 3


@dataclass
class JobContext:
    """What tasks need: settings, database sessions, object storage, a stop flag."""

    settings: ServerSettings
    session_factory: sessionmaker[Session]
    storage: Storage
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def scratch_dir(self) -> Path:
        path = self.settings.data_dir / "tmp"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def processing(self) -> ProcessingContext:
        return ProcessingContext(self.session_factory, self.storage, self.scratch_dir, self.stop)


def run_process_audio(ctx: JobContext, task: Task | None, audio_id: str) -> None:
    """Task ``process_audio``: normalise and embed one confirmed file."""
    try:
        status = process_audio(ctx.processing(), audio_id)
    except Exception as exc:
        if task is not None and task.retries > 0:
            log.warning("Processing %s failed (%s); retrying", audio_id, exc)
            raise
        log.exception("Processing %s failed for good", audio_id)
        mark_failed(ctx.processing(), audio_id,
                    f"Processing failed because of a server error: {exc}")
        return
    log.info("Processed audio %s: %s", audio_id, status)


TaskFn = Callable[..., None]
TASKS: dict[str, TaskFn] = {"process_audio": run_process_audio}


class RelayConsumer(Consumer):  # type: ignore[misc]
    """A thread consumer that tells running tasks to stop (at a safe point) when it stops.

    With ``embedded=True`` it leaves signal handling to its host (uvicorn).
    """

    def __init__(self, huey: SqliteHuey, stop_event: threading.Event, embedded: bool,
                 **options: Any) -> None:
        super().__init__(huey, **options)
        self._stop_event = stop_event
        self._embedded = embedded

    def _set_signal_handlers(self) -> None:
        if not self._embedded:
            super()._set_signal_handlers()

    def stop(self, graceful: bool = False) -> None:
        self._stop_event.set()
        super().stop(graceful=graceful)


class TaskQueue:
    """The huey instance for one data folder, with every task bound to a context."""

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self.huey = SqliteHuey(name="relay", filename=str(ctx.settings.queue_path),
                               results=False, utc=True, timeout=30)
        self._tasks: dict[str, Any] = {}
        for name, fn in TASKS.items():
            self._tasks[name] = self.huey.task(name=name, retries=RETRIES,
                                               retry_delay=RETRY_DELAY_S,
                                               context=True)(self._bind(fn))

    def _bind(self, fn: TaskFn) -> TaskFn:
        ctx = self.ctx

        def run(*args: Any, task: Task | None = None, **kwargs: Any) -> None:
            fn(ctx, task, *args, **kwargs)

        run.__name__ = fn.__name__
        return run

    def enqueue(self, name: str, **kwargs: Any) -> None:
        """Queue task ``name`` with keyword arguments (plain JSON-able values)."""
        self._tasks[name](**kwargs)

    def pending_kwargs(self, name: str) -> list[dict[str, Any]]:
        """Keyword arguments of the queued (not yet started) tasks called ``name``."""
        out = []
        for task in self.huey.pending():
            if task.name == name:
                out.append(dict(task.kwargs or {}))
        for task in self.huey.scheduled():
            if task.name == name:
                out.append(dict(task.kwargs or {}))
        return out

    def consumer(self, workers: int, embedded: bool) -> RelayConsumer:
        """A thread-based consumer; ``embedded`` leaves signals to the host process."""
        return RelayConsumer(self.huey, self.ctx.stop, embedded, workers=workers,
                             worker_type="thread", periodic=False, initial_delay=0.05,
                             backoff=1.3, max_delay=0.5, scheduler_interval=1,
                             check_worker_health=True, shutdown_timeout=10,
                             graceful_signal="TERM")
