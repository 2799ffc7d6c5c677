"""Starts and stops the task queue, its in-process consumer and the reaper of a server.

``start(app)`` puts the :class:`TaskQueue` on ``app.state.jobs`` (routes
enqueue through it) and starts the :class:`~relay_server.jobs.recovery.Reaper`
(always, so jobs of a dead worker are queued again even when this server
runs no workers). Unless ``settings.workers`` is 0 or ``settings.run_workers``
is false it also runs ``settings.workers`` consumer threads and queues
unfinished audio work again. ``stop(app)`` asks running tasks to stop at
their next safe point and waits for the threads.
"""

from __future__ import annotations

import logging
import threading

from fastapi import FastAPI

from relay_server.jobs.context import JobContext
from relay_server.jobs.queue import TaskQueue
from relay_server.jobs.recovery import Reaper, recover

log = logging.getLogger("relay_server.jobs")


def start(app: FastAPI) -> None:
    """Create the queue for this app, start the reaper and (maybe) consume the queue."""
    settings = app.state.settings
    ctx = JobContext(settings, app.state.session_factory, app.state.storage)
    queue = TaskQueue(ctx)
    app.state.jobs = queue
    app.state.job_consumer = None
    app.state.job_reaper = Reaper(queue).start()
    if settings.workers <= 0 or not settings.run_workers:
        return
    consumer = queue.consumer(settings.workers, embedded=True)
    consumer.start()
    app.state.job_consumer = consumer
    thread = threading.Thread(target=_recover_safely, args=(queue,), name="relay-recovery",
                              daemon=True)
    thread.start()
    app.state.job_recovery = thread


def _recover_safely(queue: TaskQueue) -> None:
    try:
        recover(queue)
    except Exception:
        log.exception("Start-up recovery of unfinished jobs failed")


def stop(app: FastAPI) -> None:
    """Stop what :func:`start` started (running tasks stop at a safe point)."""
    queue: TaskQueue | None = getattr(app.state, "jobs", None)
    consumer = getattr(app.state, "job_consumer", None)
    reaper: Reaper | None = getattr(app.state, "job_reaper", None)
    if queue is not None:
        queue.ctx.stop.set()
    if reaper is not None:
        reaper.stop()
        app.state.job_reaper = None
    if consumer is not None:
        consumer.stop(graceful=True)
        app.state.job_consumer = None
    if queue is not None:
        queue.close()
