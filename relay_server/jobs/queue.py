"""The task queue: huey on SQLite in the data folder (or on Redis), and the tasks it runs.

Tasks are registered by name in :data:`TASKS`; each receives the
:class:`JobContext` and its keyword arguments. The same names are registered
in the server's embedded consumer and in ``relay-server worker`` processes,
so either can run any queued task. With ``settings.queue_url`` set
(``RELAY_QUEUE_URL=redis://host:port/db``) the queue lives on Redis and
workers on other machines share it. Job state lives in the database, not in
the queue: a task lost in a crash is queued again from the database (see
:mod:`relay_server.jobs.recovery`).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from huey import RedisHuey, SqliteHuey
from huey.api import Huey, Task
from huey.consumer import Consumer

from relay_server.config import check_queue_url
from relay_server.jobs.context import JobContext
from relay_server.processing.pipeline import mark_failed, process_audio

__all__ = ["TASKS", "JobContext", "RelayConsumer", "TaskQueue", "TaskSpec", "make_huey"]

log = logging.getLogger("relay_server.jobs")
RETRIES = 2
RETRY_DELAY_S = 3


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


@dataclass(frozen=True)
class TaskSpec:
    """A task: its function (or ``"module:function"``, imported when a queue is made).

    ``retries`` is huey's retry count. Leased jobs use 0: their lease and the
    reaper resume them, and a retry would only count as another attempt.
    """

    target: TaskFn | str
    retries: int = 0
    retry_delay_s: int = RETRY_DELAY_S

    def resolve(self) -> TaskFn:
        if not isinstance(self.target, str):
            return self.target
        module, _, name = self.target.partition(":")
        fn: TaskFn = getattr(importlib.import_module(module), name)
        return fn


TASKS: dict[str, TaskSpec] = {
    "process_audio": TaskSpec(run_process_audio, retries=RETRIES),
    "train_model": TaskSpec("relay_server.jobs.training:run_train_model"),
    "infer_file": TaskSpec("relay_server.jobs.inference:run_infer_file"),
    "seed_demo_inference": TaskSpec("relay_server.jobs.demo_chain:run_seed_demo_inference"),
}


def make_huey(queue_url: str, queue_path: str) -> Huey:
    """huey on Redis for a ``redis://`` URL, else on the SQLite file ``queue_path``."""
    if queue_url:
        check_queue_url(queue_url)
        if importlib.util.find_spec("redis") is None:
            raise RuntimeError("A Redis task queue needs the redis package: "
                               "pip install 'relay-desktop[redis]'")
        return RedisHuey(name="relay", url=queue_url, results=False, utc=True,
                         read_timeout=1)
    return SqliteHuey(name="relay", filename=queue_path, results=False, utc=True, timeout=30)


class RelayConsumer(Consumer):  # type: ignore[misc]
    """A thread consumer that tells running tasks to stop (at a safe point) when it stops.

    With ``embedded=True`` it leaves signal handling to its host (uvicorn).
    """

    def __init__(self, huey: Huey, stop_event: threading.Event, embedded: bool,
                 **options: Any) -> None:
        super().__init__(huey, **options)
        self._stop_event = stop_event
        self._embedded = embedded

    def _set_signal_handlers(self) -> None:
        # A private hook of huey 3.5.4 (pinned to 3.5.x in pyproject.toml): Consumer.start()
        # ends by calling it and huey has no public switch for it (restoring the handlers
        # after start() instead fails off the main thread, where signal.signal raises).
        # tests/unit/test_dependency_internals.py fails when huey stops calling it.
        if not self._embedded:
            super()._set_signal_handlers()

    def stop(self, graceful: bool = False) -> None:
        self._stop_event.set()
        super().stop(graceful=graceful)


class TaskQueue:
    """The huey instance for one data folder (or Redis URL), every task bound to a context."""

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        settings = ctx.settings
        self.huey = make_huey(settings.queue_url, str(settings.queue_path))
        ctx.enqueue_fn = self.enqueue
        self._tasks: dict[str, Any] = {}
        for name, spec in TASKS.items():
            self._tasks[name] = self.huey.task(name=name, retries=spec.retries,
                                               retry_delay=spec.retry_delay_s,
                                               context=True)(self._bind(spec.resolve()))

    @property
    def location(self) -> str:
        """Where the queue lives, for logs (the Redis URL without its password)."""
        url = self.ctx.settings.queue_url
        if url:
            head, _, tail = url.rpartition("@")
            return f"{url.split('://', 1)[0]}://{tail}" if head else url
        return str(self.ctx.settings.queue_path)

    def _bind(self, fn: TaskFn) -> TaskFn:
        ctx = self.ctx

        def run(*args: Any, task: Task | None = None, **kwargs: Any) -> None:
            fn(ctx, task, *args, **kwargs)

        run.__name__ = fn.__name__
        return run

    def has_task(self, name: str) -> bool:
        """Whether task ``name`` is registered on this queue."""
        return name in self._tasks

    def enqueue(self, name: str, **kwargs: Any) -> None:
        """Queue task ``name`` with keyword arguments (plain JSON-able values)."""
        self._tasks[name](**kwargs)

    def schedule(self, name: str, delay_s: float, **kwargs: Any) -> None:
        """Queue task ``name`` to run no sooner than ``delay_s`` seconds from now."""
        self._tasks[name].schedule(kwargs=kwargs, delay=delay_s)

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

    def close(self) -> None:
        """Release the queue's connections (SQLite file handles or the Redis pool)."""
        storage = self.huey.storage
        if hasattr(storage, "close"):
            storage.close()
        pool = getattr(storage, "pool", None)
        if pool is not None:
            pool.disconnect()
