"""What every task receives: settings, database sessions, object storage, a stop flag."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from relay_server.config import ServerSettings
from relay_server.processing.pipeline import ProcessingContext
from relay_server.storage.base import Storage


@dataclass
class JobContext:
    """What tasks need: settings, database sessions, object storage, a stop flag.

    ``stop`` is set when the process is shutting down: a task stops at its
    next safe point and leaves its state in the database (it is queued again).
    ``enqueue(name, **kwargs)`` queues a follow-up task on the queue this
    context belongs to (the :class:`~relay_server.jobs.queue.TaskQueue` sets it).
    """

    settings: ServerSettings
    session_factory: sessionmaker[Session]
    storage: Storage
    stop: threading.Event = field(default_factory=threading.Event)
    enqueue_fn: Callable[..., None] | None = None

    def enqueue(self, name: str, **kwargs: Any) -> None:
        """Queue task ``name`` on this context's queue."""
        if self.enqueue_fn is None:
            raise RuntimeError("this JobContext belongs to no task queue")
        self.enqueue_fn(name, **kwargs)

    @property
    def scratch_dir(self) -> Path:
        path = self.settings.data_dir / "tmp"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def processing(self) -> ProcessingContext:
        return ProcessingContext(self.session_factory, self.storage, self.scratch_dir, self.stop)
