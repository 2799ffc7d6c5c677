"""Inference bookkeeping: file transitions and the job's counters and status.

Every change to an inference file's status runs in one transaction that first
takes the job's row lock (an UPDATE of the job row: the database write lock
on SQLite, the row lock on PostgreSQL), then changes the file(s), then calls
:func:`settle_job`, which recomputes the job's counters and status from its
files. Writers of one job therefore queue up, each sees the others' committed
files, and the counters always add up, whichever process (server or worker)
made the change and however often a change is repeated:

- ``total_files``: files confirmed into the job (queued, whatever became of
  them since, cancelled ones included; uploads never confirmed do not count);
- ``processed_files``: files whose inference has finished, completed or failed;
- ``failed_files``: the failed part of ``processed_files``;
- ``total_detections``: the detections of the completed files.

Job status: ``pending`` until a file is queued, then ``processing`` (with
``started_at``) while any file is queued or processing; once every confirmed
file has finished, ``failed`` when all of them failed, else ``completed``
(``completed_at``). A file confirmed later reopens a finished job to
``processing``. ``cancelled`` is final.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from relay_server.db.base import utcnow
from relay_server.db.models import InferenceFile, InferenceJob

FILE_ACTIVE = ("queued", "processing")
FILE_FINISHED = ("completed", "failed")
FILE_TERMINAL = (*FILE_FINISHED, "cancelled")
JOB_CANCELLABLE = ("pending", "processing")
CANCELLED_FILE_MESSAGE = "The inference job was cancelled before this file was processed."


def lock_job(session: Session, job_id: uuid.UUID, tenant_id: uuid.UUID | None = None) -> bool:
    """Take the job's write lock (see the module docstring); False when there is no such job."""
    statement = update(InferenceJob).where(InferenceJob.id == job_id)
    if tenant_id is not None:
        statement = statement.where(InferenceJob.tenant_id == tenant_id)
    result = session.execute(statement.values(status=InferenceJob.status)
                             .execution_options(synchronize_session=False))
    return bool(getattr(result, "rowcount", 0))


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def settle_job(session: Session, job_id: uuid.UUID) -> None:
    """Recompute the job's counters and status from its files (the caller holds its lock)."""
    counts: dict[str, int] = {}
    detections = 0
    for status, count, found in session.execute(
        select(InferenceFile.status, func.count(),
               func.coalesce(func.sum(InferenceFile.detection_count), 0))
        .where(InferenceFile.inference_job_id == job_id,
               InferenceFile.confirmed_at.is_not(None))
        .group_by(InferenceFile.status)
    ):
        counts[str(status)] = int(count)
        if status == "completed":
            detections = int(found)
    total = sum(counts.values())
    failed = counts.get("failed", 0)
    finished = counts.get("completed", 0) + failed
    active = sum(counts.get(status, 0) for status in FILE_ACTIVE)
    current = session.execute(
        select(InferenceJob.status, InferenceJob.started_at)
        .where(InferenceJob.id == job_id)).one_or_none()
    if current is None:
        return
    values: dict[str, Any] = {"total_files": total, "processed_files": finished,
                              "failed_files": failed, "total_detections": detections}
    status = str(current.status)
    now = utcnow()
    if status != "cancelled":
        if total == 0:
            new = "pending"
        elif active:
            new = "processing"
        else:
            new = "failed" if failed == total else "completed"
        values["status"] = new
        if new == "processing":
            values.update(completed_at=None, error_message=None,
                          started_at=current.started_at or now)
        elif new != status:
            values["completed_at"] = now
            values["error_message"] = (
                f"Every file failed ({failed} of {total}); each file's error_message says why."
                if new == "failed" else None)
    session.execute(update(InferenceJob).where(InferenceJob.id == job_id).values(**values)
                    .execution_options(synchronize_session=False))


def queue_file(session: Session, job_id: uuid.UUID, file_id: uuid.UUID, file_size: int) -> bool:
    """Confirm a pending upload: ``pending -> queued`` (caller holds the job lock).

    Returns False when the file was not pending (already confirmed or cancelled).
    """
    now = utcnow()
    result = session.execute(
        update(InferenceFile)
        .where(InferenceFile.id == file_id, InferenceFile.inference_job_id == job_id,
               InferenceFile.status == "pending")
        .values(status="queued", confirmed_at=now, file_size=file_size)
        .execution_options(synchronize_session=False))
    if not _rowcount(result):
        return False
    settle_job(session, job_id)
    return True


def cancel_job(session: Session, job_id: uuid.UUID, tenant_id: uuid.UUID) -> bool:
    """``pending|processing -> cancelled``; its pending and queued files become cancelled.

    A file already processing stops at its next check (see jobs/inference.py).
    Returns False when the job was not cancellable.
    """
    now = utcnow()
    result = session.execute(
        update(InferenceJob)
        .where(InferenceJob.id == job_id, InferenceJob.tenant_id == tenant_id,
               InferenceJob.status.in_(JOB_CANCELLABLE))
        .values(status="cancelled", completed_at=now)
        .execution_options(synchronize_session=False))
    if not _rowcount(result):
        return False
    session.execute(
        update(InferenceFile)
        .where(InferenceFile.inference_job_id == job_id,
               InferenceFile.status.in_(("pending", "queued")))
        .values(status="cancelled", error_message=CANCELLED_FILE_MESSAGE)
        .execution_options(synchronize_session=False))
    settle_job(session, job_id)
    return True


def finish_file(session: Session, file_id: uuid.UUID, status: str,
                **values: Any) -> bool:
    """Move a queued or processing file to ``status`` and settle its job, in one transaction.

    ``status`` is ``processing``, ``completed``, ``failed`` or ``cancelled``;
    ``values`` are further columns (detections, error_message, ...). Returns
    False, changing nothing, when the file is gone or already terminal. The
    caller commits.
    """
    job_id = session.scalar(select(InferenceFile.inference_job_id)
                            .where(InferenceFile.id == file_id))
    if job_id is None or not lock_job(session, job_id):
        return False
    result = session.execute(
        update(InferenceFile)
        .where(InferenceFile.id == file_id, InferenceFile.status.in_(FILE_ACTIVE))
        .values(status=status, **values)
        .execution_options(synchronize_session=False))
    if not _rowcount(result):
        return False
    if status != "processing":
        settle_job(session, job_id)
    return True
