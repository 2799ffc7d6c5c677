"""Leases: at most one process at a time runs a given training job or inference file.

A task claims its row with one atomic ``UPDATE ... WHERE`` (the row is not
finished and nobody holds a live lease on it), which works the same on
SQLite and PostgreSQL: of two claimers exactly one sees a changed row. A
heartbeat thread renews the lease every third of its lifetime while the task
runs; when a process dies, its lease lapses and the reaper
(:mod:`relay_server.jobs.recovery`) queues the row again for another
process. Every claim counts an attempt; a claim given up because the process
is shutting down gives its attempt back. A row that used up
:data:`MAX_ATTEMPTS` is not claimed again: the reaper marks it failed.

Usage in a task::

    with hold_lease(ctx, TrainingJob, job_id) as lease:
        if not lease.acquired:
            return
        ...  # pass should_stop=lease.should_stop to long work
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from datetime import timedelta
from types import TracebackType

from sqlalchemy import or_, update

from relay_server.config import LEASE_TTL_S
from relay_server.db.base import utcnow
from relay_server.db.models import InferenceFile, TrainingJob
from relay_server.jobs.context import JobContext

log = logging.getLogger("relay_server.jobs")

__all__ = ["LEASE_TTL_S", "MAX_ATTEMPTS", "QUEUED_MARK", "TERMINAL", "JobLease",
           "LeasedModel", "hold_lease", "new_owner"]

MAX_ATTEMPTS = 3
TERMINAL = ("completed", "failed", "cancelled")
# lease_owner of a row the reaper has just queued again: it keeps other reapers from
# queueing it a second time, and any task that runs it may claim it at once.
QUEUED_MARK = "(queued)"
LeasedModel = type[TrainingJob] | type[InferenceFile]


def new_owner() -> str:
    """A lease owner id naming this host and process, unique per lease."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class JobLease:
    """A claim on one row, renewed by a heartbeat thread; a context manager.

    Attributes:
        acquired: Whether the claim succeeded (set on entering the ``with``).
        owner: This lease's owner id, written to the row's ``lease_owner``.
    """

    def __init__(self, ctx: JobContext, model: LeasedModel, row_id: str | uuid.UUID, *,
                 ttl_s: float | None = None) -> None:
        self.ctx = ctx
        self.model = model
        self.row_id = uuid.UUID(str(row_id))
        self.ttl_s = float(ttl_s or ctx.settings.lease_ttl_s)
        self.owner = new_owner()
        self.acquired = False
        self._lost = threading.Event()
        self._done = threading.Event()
        self._renewed_at = 0.0
        self._thread: threading.Thread | None = None

    # ---- the with-block
    def __enter__(self) -> JobLease:
        self.acquired = self._claim()
        if self.acquired:
            self._renewed_at = time.monotonic()
            self._thread = threading.Thread(target=self._heartbeat, daemon=True,
                                            name=f"relay-lease-{self.row_id.hex[:8]}")
            self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self.acquired:
            return
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if exc is not None:
            log.warning("%s %s stopped with an error under lease %s: %s",
                        self.model.__name__, self.row_id, self.owner, exc)
        self._release(give_back_attempt=self.ctx.stop.is_set() and not self._lost.is_set())

    def should_stop(self) -> bool:
        """True when the process is stopping or this lease was lost to another owner."""
        if self.ctx.stop.is_set() or self._lost.is_set():
            return True
        if self.acquired and time.monotonic() - self._renewed_at > self.ttl_s:
            self._lost.set()  # could not renew in time: another process may hold it now
            return True
        return False

    @property
    def lost(self) -> bool:
        """Whether the lease lapsed or was taken over while this process held it."""
        return self._lost.is_set()

    # ---- database
    def _claim(self) -> bool:
        model = self.model
        now = utcnow()
        with self.ctx.session_factory.begin() as session:
            result = session.execute(
                update(model)
                .where(model.id == self.row_id, model.status.not_in(TERMINAL),
                       model.attempts < MAX_ATTEMPTS,
                       or_(model.lease_owner.is_(None), model.lease_owner == QUEUED_MARK,
                           model.lease_expires_at < now))
                .values(lease_owner=self.owner,
                        lease_expires_at=now + timedelta(seconds=self.ttl_s),
                        attempts=model.attempts + 1)
                .execution_options(synchronize_session=False))
            claimed = getattr(result, "rowcount", 0) == 1
        if claimed:
            log.info("%s %s leased by %s", model.__name__, self.row_id, self.owner)
        return claimed

    def _renew(self) -> bool:
        model = self.model
        with self.ctx.session_factory.begin() as session:
            result = session.execute(
                update(model)
                .where(model.id == self.row_id, model.lease_owner == self.owner)
                .values(lease_expires_at=utcnow() + timedelta(seconds=self.ttl_s))
                .execution_options(synchronize_session=False))
            return getattr(result, "rowcount", 0) == 1

    def _release(self, give_back_attempt: bool) -> None:
        model = self.model
        values: dict[str, object] = {"lease_owner": None, "lease_expires_at": None}
        if give_back_attempt:
            values["attempts"] = model.attempts - 1
        try:
            with self.ctx.session_factory.begin() as session:
                session.execute(
                    update(model)
                    .where(model.id == self.row_id, model.lease_owner == self.owner)
                    .values(**values)
                    .execution_options(synchronize_session=False))
        except Exception:
            log.exception("Could not release the lease on %s %s (it lapses by itself)",
                          model.__name__, self.row_id)

    def _heartbeat(self) -> None:
        while not self._done.wait(self.ttl_s / 3):
            try:
                if self._renew():
                    self._renewed_at = time.monotonic()
                    continue
                log.warning("%s %s: lease %s was lost (the row is gone or another "
                            "process took it over)", self.model.__name__, self.row_id,
                            self.owner)
                self._lost.set()
                return
            except Exception:
                log.exception("Could not renew the lease on %s %s", self.model.__name__,
                              self.row_id)
                if time.monotonic() - self._renewed_at > self.ttl_s:
                    self._lost.set()
                    return


def hold_lease(ctx: JobContext, model: LeasedModel, row_id: str | uuid.UUID,
               ttl_s: float | None = None) -> JobLease:
    """A :class:`JobLease` on ``row_id``, for ``with hold_lease(...) as lease:``.

    ``ttl_s`` defaults to the settings' ``lease_ttl_s`` (``RELAY_LEASE_TTL_S``,
    :data:`LEASE_TTL_S` when unset).
    """
    return JobLease(ctx, model, row_id, ttl_s=ttl_s)
