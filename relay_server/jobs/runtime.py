"""Starts and stops the in-process task-queue consumer of a running server.

``start(app)`` puts the :class:`TaskQueue` on ``app.state.jobs`` (routes
enqueue through it) and, unless ``settings.workers`` is 0 or
``settings.run_workers`` is false, runs ``settings.workers`` consumer
threads and queues unfinished work again. ``stop(app)`` asks running tasks
to stop at their next block and waits for the threads.
"""

from __future__ import annotations

import logging
import threading

from fastapi import FastAPI

from relay_server.jobs.queue import JobContext, TaskQueue
from relay_server.jobs.recovery import recover

log = logging.getLogger("relay_server.jobs")


def start(app: FastAPI) -> None:
    """Create the queue for this app and start consuming it."""
    settings = app.state.settings
    ctx = JobContext(settings, app.state.session_factory, app.state.storage)
    queue = TaskQueue(ctx)
    app.state.jobs = queue
    app.state.job_consumer = None
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
    """Stop the consumer started by :func:`start` (running tasks stop at a safe point)."""
    queue: TaskQueue | None = getattr(app.state, "jobs", None)
    consumer = getattr(app.state, "job_consumer", None)
    if queue is not None:
        queue.ctx.stop.set()
    if consumer is not None:
        consumer.stop(graceful=True)
        app.state.job_consumer = None
    if queue is not None:
        queue.huey.storage.close()
