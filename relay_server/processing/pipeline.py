"""The processing job of one audio file: pending -> normalizing -> embedding -> ready | failed.

The database holds the state, so the job is safe to run again at any point
(after a crash, a restart, or twice at once): a finished file is left
alone, a file whose normalised copy is already stored resumes at the
embedding step, and every object is written atomically under a fixed key.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from relay_server.db.base import utcnow
from relay_server.db.models import AudioFile
from relay_server.processing.errors import AudioError, Interrupted
from relay_server.processing.features import compute_features
from relay_server.processing.normalize import normalize
from relay_server.storage.base import Storage
from relay_server.storage.errors import ObjectNotFound
from relay_server.storage.keys import FEATURES_NAME, NORMALIZED_NAME, derived_key

log = logging.getLogger("relay_server.processing")
IN_PROGRESS = ("pending", "normalizing", "embedding")
TERMINAL = ("ready", "failed")


@dataclass
class ProcessingContext:
    """What a processing run needs: the database, the object store, a scratch folder."""

    session_factory: sessionmaker[Session]
    storage: Storage
    scratch_dir: Path
    stop: threading.Event | None = None


def _set(ctx: ProcessingContext, audio_id: uuid.UUID, only_from: tuple[str, ...],
         **values: Any) -> bool:
    """Update the row if it still exists in one of ``only_from`` states; True if it did."""
    with ctx.session_factory.begin() as session:
        result = session.execute(
            update(AudioFile)
            .where(AudioFile.id == audio_id, AudioFile.processing_status.in_(only_from))
            .values(updated_at=utcnow(), **values)
            .execution_options(synchronize_session=False))
        return bool(getattr(result, "rowcount", 0))


def _load(ctx: ProcessingContext, audio_id: uuid.UUID) -> AudioFile | None:
    with ctx.session_factory() as session:
        return session.get(AudioFile, audio_id)


def process_audio(ctx: ProcessingContext, audio_id: uuid.UUID | str) -> str:
    """Run (or resume) processing of one confirmed file; return its final status.

    Returns ``"gone"`` when the file was deleted, ``"unconfirmed"`` when it
    was never confirmed, and ``"interrupted"`` when the server stopped
    first (the file keeps its state and is queued again on start-up).
    Unexpected errors propagate, leaving the state for a retry.
    """
    audio_id = uuid.UUID(str(audio_id))
    row = _load(ctx, audio_id)
    if row is None:
        return "gone"
    if row.confirmed_at is None:
        return "unconfirmed"
    if row.processing_status in TERMINAL:
        return row.processing_status
    scratch = Path(tempfile.mkdtemp(prefix=f"audio-{audio_id}-p{os.getpid()}-",
                                    dir=ctx.scratch_dir))
    try:
        return _run(ctx, row, scratch)
    except AudioError as err:
        log.info("Audio %s failed: %s", audio_id, err.message)
        if not _set(ctx, audio_id, IN_PROGRESS, processing_status="failed",
                    error_message=err.message):
            return _gone_or_status(ctx, audio_id)
        _drop_derived(ctx.storage, row.storage_key)
        return "failed"
    except Interrupted:
        log.info("Processing of %s interrupted by shutdown; it resumes on restart", audio_id)
        return "interrupted"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


SCRATCH_PID = re.compile(r"^audio-.+-p(\d+)-")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_scratch(scratch_dir: Path) -> int:
    """Remove scratch folders left by processes that died mid-run; return how many."""
    removed = 0
    for entry in scratch_dir.iterdir() if scratch_dir.is_dir() else ():
        match = SCRATCH_PID.match(entry.name)
        if match and entry.is_dir() and not _alive(int(match.group(1))):
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
    return removed


def mark_failed(ctx: ProcessingContext, audio_id: uuid.UUID | str, message: str) -> None:
    """Record an unexpected, final failure (after the task queue gave up retrying)."""
    audio_id = uuid.UUID(str(audio_id))
    _set(ctx, audio_id, IN_PROGRESS, processing_status="failed", error_message=message)


def _gone_or_status(ctx: ProcessingContext, audio_id: uuid.UUID) -> str:
    row = _load(ctx, audio_id)
    return "gone" if row is None else row.processing_status


def _drop_derived(storage: Storage, original_key: str) -> None:
    for name in (NORMALIZED_NAME, FEATURES_NAME):
        try:
            storage.delete(derived_key(original_key, name))
        except (OSError, ValueError, ObjectNotFound):
            log.warning("Could not delete a derived object of %s", original_key)


def _abandon(ctx: ProcessingContext, row: AudioFile) -> str:
    """The row vanished (or finished elsewhere) mid-run: clean up what this run wrote."""
    status = _gone_or_status(ctx, row.id)
    if status == "gone":
        _drop_derived(ctx.storage, row.storage_key)
    return status


def _sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _record_hash(ctx: ProcessingContext, row: AudioFile, source: Path | None) -> None:
    """Store the SHA-256 of the uploaded object (for duplicate checks) if not known yet."""
    if row.content_sha256:
        return
    if source is None:
        try:
            with ctx.storage.local_copy(row.storage_key) as stored:
                digest = _sha256(stored)
        except ObjectNotFound:
            return
    else:
        digest = _sha256(source)
    _set(ctx, row.id, IN_PROGRESS, content_sha256=digest)


def _run(ctx: ProcessingContext, row: AudioFile, scratch: Path) -> str:
    norm_key = derived_key(row.storage_key, NORMALIZED_NAME)
    feat_key = derived_key(row.storage_key, FEATURES_NAME)
    features: dict[str, Any] = dict(row.features or {})
    norm_path = scratch / NORMALIZED_NAME
    resume = (row.processing_status == "embedding" and row.normalized_key == norm_key
              and row.duration_ms is not None and ctx.storage.exists(norm_key))
    if resume:
        _record_hash(ctx, row, None)
        with ctx.storage.local_copy(norm_key) as stored:
            shutil.copyfile(stored, norm_path)
    else:
        if not _set(ctx, row.id, IN_PROGRESS, processing_status="normalizing",
                    error_message=None):
            return _abandon(ctx, row)
        try:
            with ctx.storage.local_copy(row.storage_key) as source:
                _record_hash(ctx, row, source)
                result = normalize(source, norm_path, ctx.stop)
        except ObjectNotFound as exc:
            raise AudioError("The uploaded file is missing from storage") from exc
        ctx.storage.put_file(norm_key, norm_path, "audio/flac")
        features["normalized"] = {"key": norm_key, **result.summary()}
        if not _set(ctx, row.id, ("normalizing",), processing_status="embedding",
                    normalized_key=norm_key, duration_ms=result.duration_ms,
                    sample_rate=result.sample_rate, channels=result.channels,
                    features=features):
            return _abandon(ctx, row)
    feats = compute_features(norm_path, ctx.stop)
    npy = scratch / FEATURES_NAME
    np.save(npy, feats.pooled)
    ctx.storage.put_file(feat_key, npy, "application/octet-stream")
    features["embedding"] = {"key": feat_key, **feats.summary()}
    if not _set(ctx, row.id, ("embedding",), processing_status="ready", features=features,
                error_message=None):
        return _abandon(ctx, row)
    return "ready"
