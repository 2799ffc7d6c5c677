"""Start-up recovery: queue again every confirmed file the database says is unfinished."""

from __future__ import annotations

import logging

from sqlalchemy import select

from relay_server.db.models import AudioFile
from relay_server.jobs.queue import TaskQueue
from relay_server.processing.pipeline import IN_PROGRESS, sweep_scratch
from relay_server.storage.local import LocalStorage

log = logging.getLogger("relay_server.jobs")


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


def recover(queue: TaskQueue) -> None:
    """Everything a starting consumer does once: drop dead partial uploads, requeue work."""
    storage = queue.ctx.storage
    if isinstance(storage, LocalStorage):
        storage.sweep_partials()
    sweep_scratch(queue.ctx.scratch_dir)
    requeue_unfinished(queue)
