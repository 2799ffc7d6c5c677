"""Recovery: queue again the work whose task was lost, at start-up and every few seconds.

Two kinds of work are recovered:

- audio processing (``process_audio``): at start-up, every confirmed file the
  database says is unfinished and whose task is not queued;
- leased jobs (training jobs, inference files; see
  :mod:`relay_server.jobs.leases`): by the :class:`Reaper`, in every process
  that consumes tasks and in the API server (even with no workers of its
  own), at start-up and every ``settings.reaper_interval_s``. A running row
  whose lease is free or lapsed, or whose holder was a process on this host
  that no longer exists, and whose task is not queued, is marked
  :data:`~relay_server.jobs.leases.QUEUED_MARK` (so other reapers leave it
  alone) and queued again. A row that used up ``MAX_ATTEMPTS`` is marked
  failed with a message that says so. Nothing stays "training" forever.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from relay_server.db.base import utcnow
from relay_server.db.models import AudioFile, InferenceFile, TrainingJob
from relay_server.inference_state import finish_file
from relay_server.jobs.leases import MAX_ATTEMPTS, QUEUED_MARK, TERMINAL, LeasedModel
from relay_server.jobs.queue import TaskQueue
from relay_server.processing.pipeline import IN_PROGRESS, sweep_scratch
from relay_server.storage.local import LocalStorage

log = logging.getLogger("relay_server.jobs")
GAVE_UP = (f"stopped after {MAX_ATTEMPTS} attempts: each attempt ended before the work was "
           "done (the process running it crashed, was killed, or stopped with an error; "
           "the server and worker logs say which)")


def requeue_unfinished(queue: TaskQueue) -> int:
    """Queue ``process_audio`` for confirmed files still pending/normalizing/embedding.

    A task that was running when the process died is gone from the queue;
    the database still knows the file is unfinished. Files whose task is
    still queued are skipped. Returns how many were queued.
    """
    queued = {str(kw.get("audio_id")) for kw in queue.pending_kwargs("process_audio")}
    with queue.ctx.session_factory() as session:
        ids = list(session.scalars(
            select(AudioFile.id)
            .where(AudioFile.confirmed_at.is_not(None),
                   AudioFile.processing_status.in_(IN_PROGRESS))
            .order_by(AudioFile.confirmed_at)))
    count = 0
    for audio_id in ids:
        if str(audio_id) not in queued:
            queue.enqueue("process_audio", audio_id=str(audio_id))
            count += 1
    if count:
        log.info("Queued %d unfinished audio file(s) for processing again", count)
    return count


def _fail_training_job(session: Session, row_id: uuid.UUID, message: str) -> bool:
    result = session.execute(
        update(TrainingJob)
        .where(TrainingJob.id == row_id, TrainingJob.status.not_in(TERMINAL))
        .values(status="failed", error_message=message, completed_at=utcnow(),
                lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False))
    return bool(getattr(result, "rowcount", 0))


def _fail_inference_file(session: Session, row_id: uuid.UUID, message: str) -> bool:
    return finish_file(session, row_id, "failed", error_message=message,
                       processed_at=utcnow(), lease_owner=None, lease_expires_at=None)


@dataclass(frozen=True)
class LeasedKind:
    """A kind of leased work: its rows, its task and how to give up on one."""

    model: LeasedModel
    task: str
    kwarg: str
    running: tuple[str, ...]
    give_up: Callable[[Session, uuid.UUID, str], bool]

    def since(self) -> ColumnElement[datetime]:
        """When a row became runnable (rows younger than the grace period are left alone)."""
        if self.model is InferenceFile:
            return func.coalesce(InferenceFile.confirmed_at, InferenceFile.created_at)
        return TrainingJob.created_at.expression


LEASED_KINDS = (
    LeasedKind(TrainingJob, "train_model", "job_id", ("pending", "queued", "training"),
               _fail_training_job),
    LeasedKind(InferenceFile, "infer_file", "file_id", ("queued", "processing"),
               _fail_inference_file),
)


def _dead_local_owner(owner: str | None, host: str) -> bool:
    """Whether ``owner`` names a process on this host that no longer exists."""
    if not owner or owner == QUEUED_MARK:
        return False
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def reap_leased(queue: TaskQueue, grace_s: float = 2.0) -> int:
    """Queue again (or give up on) leased rows nobody is running; return how many changed.

    ``grace_s`` leaves alone rows made runnable moments ago, whose creator is
    about to queue them itself.
    """
    settings = queue.ctx.settings
    host = socket.gethostname()[:120]
    hold = timedelta(seconds=max(settings.lease_ttl_s, 2 * settings.reaper_interval_s))
    changed = 0
    for kind in LEASED_KINDS:
        can_queue = queue.has_task(kind.task)
        model = kind.model
        now = utcnow()
        with queue.ctx.session_factory() as session:
            rows = session.execute(
                select(model.id, model.lease_owner, model.lease_expires_at, model.attempts)
                .where(model.status.in_(kind.running), kind.since() < now - timedelta(
                    seconds=grace_s))).all()
        if not rows:
            continue
        queued: set[str] | None = None
        for row_id, owner, expires, attempts in rows:
            lapsed = owner is None or (expires is not None and expires < now)
            dead = not lapsed and _dead_local_owner(owner, host)
            marked = owner == QUEUED_MARK and not lapsed
            if attempts >= MAX_ATTEMPTS and (lapsed or dead or marked):
                changed += _give_up(queue, kind, row_id, owner, now)
                continue
            if not (lapsed or dead) or not can_queue:
                continue  # running under a live lease, or queued again moments ago
            if queued is None:
                queued = {str(kw.get(kind.kwarg)) for kw in queue.pending_kwargs(kind.task)}
            if str(row_id) in queued:
                continue
            if _mark_queued(queue, kind, row_id, owner, now, hold):
                queue.enqueue(kind.task, **{kind.kwarg: str(row_id)})
                log.info("Queued %s %s again (attempt %d of %d; its lease was %s)",
                         model.__name__, row_id, attempts + 1, MAX_ATTEMPTS,
                         "held by a process that is gone" if dead else "free")
                changed += 1
    return changed


def _owner_unchanged(model: LeasedModel, owner: str | None,
                     now: datetime) -> ColumnElement[bool]:
    """The row's lease is still what the reaper saw (so no process claimed it meanwhile)."""
    if owner is None:
        return model.lease_owner.is_(None)
    return or_(model.lease_owner == owner, model.lease_expires_at < now)


def _mark_queued(queue: TaskQueue, kind: LeasedKind, row_id: uuid.UUID, owner: str | None,
                 now: datetime, hold: timedelta) -> bool:
    model = kind.model
    with queue.ctx.session_factory.begin() as session:
        result = session.execute(
            update(model)
            .where(model.id == row_id, model.status.in_(kind.running),
                   _owner_unchanged(model, owner, now))
            .values(lease_owner=QUEUED_MARK, lease_expires_at=now + hold)
            .execution_options(synchronize_session=False))
        return bool(getattr(result, "rowcount", 0))


def _give_up(queue: TaskQueue, kind: LeasedKind, row_id: uuid.UUID, owner: str | None,
             now: datetime) -> int:
    model = kind.model
    with queue.ctx.session_factory.begin() as session:
        still = session.scalar(select(model.id).where(
            model.id == row_id, model.status.in_(kind.running),
            _owner_unchanged(model, owner, now)))
        if still is None or not kind.give_up(session, row_id, GAVE_UP):
            return 0
    log.warning("%s %s failed: %s", model.__name__, row_id, GAVE_UP)
    return 1


def recover(queue: TaskQueue) -> None:
    """What a starting consumer does once: drop dead partial uploads, requeue audio work.

    Leased jobs are the :class:`Reaper`'s: its first pass runs as it starts.
    """
    storage = queue.ctx.storage
    if isinstance(storage, LocalStorage):
        storage.sweep_partials()
    sweep_scratch(queue.ctx.scratch_dir)
    requeue_unfinished(queue)


class Reaper:
    """A daemon thread that runs :func:`reap_leased` now and every ``interval_s``."""

    def __init__(self, queue: TaskQueue, interval_s: float | None = None) -> None:
        self.queue = queue
        self.interval_s = interval_s or queue.ctx.settings.reaper_interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="relay-reaper", daemon=True)

    def start(self) -> Reaper:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set() and not self.queue.ctx.stop.is_set():
            try:
                reap_leased(self.queue)
            except Exception:
                log.exception("Re-queueing jobs whose process died failed; trying again")
            self._stop.wait(self.interval_s)
