"""Task ``infer_file``: run a job's model over one confirmed inference file.

``queued -> processing -> completed`` (detections sorted by start) or
``failed`` (a clear ``error_message``: a corrupt or empty file fails alone,
the job goes on). Each transition settles the job's counters and status in
the same transaction (:mod:`relay_server.inference_state`).

The file is held under a lease (:mod:`relay_server.jobs.leases`), so it never
runs twice at once. A file whose job was cancelled becomes ``cancelled``,
before it starts or at the detector's next check while it runs. When the
process is stopping, or the lease was lost, the file is left ``processing``
for the reaper to queue again. Models are loaded once per process and kept
in a small cache keyed by model id.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from huey.api import Task
from sqlalchemy import select

from relay_server.db.base import utcnow
from relay_server.db.models import InferenceFile, InferenceJob, Model
from relay_server.inference_state import CANCELLED_FILE_MESSAGE, FILE_ACTIVE, finish_file
from relay_server.jobs.context import JobContext
from relay_server.jobs.leases import hold_lease
from relay_server.ml import (
    DetectionCancelled,
    DetectionResult,
    InferenceConfig,
    TrainedModel,
    detect,
)
from relay_server.processing.errors import AudioError, Interrupted
from relay_server.storage.base import Storage
from relay_server.storage.errors import ObjectNotFound

log = logging.getLogger("relay_server.inference")
CANCEL_CHECK_S = 0.5
"""How often a running file asks the database whether its job was cancelled."""
MODEL_CACHE_SIZE = 4


class Stopped(Exception):
    """Detection stopped early: the job was cancelled, the process is stopping, or the
    lease was lost."""


class ModelUnavailable(Exception):
    """The job's model cannot be loaded; the message is meant for the user."""


class ModelCache:
    """The last few loaded models, by model id (thread-safe; loads outside the lock)."""

    def __init__(self, size: int = MODEL_CACHE_SIZE) -> None:
        self.size = size
        self._models: OrderedDict[tuple[uuid.UUID, str], TrainedModel] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, storage: Storage, model_id: uuid.UUID, key: str) -> TrainedModel:
        """The model stored at ``key``; raises :class:`ModelUnavailable`."""
        entry = (model_id, key)
        with self._lock:
            found = self._models.get(entry)
            if found is not None:
                self._models.move_to_end(entry)
                return found
        try:
            with storage.open(key) as fh:
                data = fh.read()
        except ObjectNotFound:
            raise ModelUnavailable("The model's stored weights are missing, so it cannot run; "
                                   "train it again.") from None
        try:
            model = TrainedModel.from_bytes(data)
        except ValueError as exc:
            raise ModelUnavailable(f"The model's stored weights could not be loaded ({exc}); "
                                   "train it again.") from None
        with self._lock:
            self._models[entry] = model
            while len(self._models) > self.size:
                self._models.popitem(last=False)
        return model

    def clear(self) -> None:
        with self._lock:
            self._models.clear()


MODELS = ModelCache()


def run_infer_file(ctx: JobContext, task: Task | None, file_id: str) -> None:
    """Task ``infer_file``: detect artifacts in one inference file, under its lease."""
    with hold_lease(ctx, InferenceFile, file_id) as lease:
        if not lease.acquired:
            log.info("Inference file %s is finished or held elsewhere; skipped", file_id)
            return
        status = infer_file(ctx, uuid.UUID(str(file_id)), lease.should_stop)
        log.info("Inference file %s: %s", file_id, status)


def infer_file(ctx: JobContext, file_id: uuid.UUID,
               should_stop: Callable[[], bool] = lambda: False) -> str:
    """Run (or resume) one file; return what became of it.

    ``"completed"``, ``"failed"``, ``"cancelled"``; ``"stopped"`` when
    ``should_stop`` fired first (the file stays ``processing``); ``"skipped"``
    when the file is gone, unconfirmed or already finished.
    """
    with ctx.session_factory() as session:
        found = session.execute(
            select(InferenceFile, InferenceJob.status, InferenceJob.config, Model)
            .join(InferenceJob, InferenceJob.id == InferenceFile.inference_job_id)
            .join(Model, Model.id == InferenceJob.model_id)
            .where(InferenceFile.id == file_id)).one_or_none()
    if found is None or found[0].status not in FILE_ACTIVE:
        return "skipped"
    row, job_status, config, model_row = found
    if job_status == "cancelled":
        return _cancel(ctx, file_id)
    if not _finish(ctx, file_id, "processing", error_message=None):
        return "skipped"
    cancelled = _CancelWatch(ctx, row.inference_job_id)
    stop = _first_of(should_stop, cancelled)
    try:
        model = MODELS.get(ctx.storage, model_row.id, model_row.storage_key)
        result = _detect(ctx, row.storage_key, model, InferenceConfig.from_mapping(config), stop)
    except (AudioError, ModelUnavailable) as exc:
        message = exc.message if isinstance(exc, AudioError) else str(exc)
        _finish(ctx, file_id, "failed", error_message=message, processed_at=utcnow())
        return "failed"
    except Stopped:
        if cancelled():
            return _cancel(ctx, file_id)
        return "stopped"
    except Exception as exc:  # a bug or an outage: say so on the file, never a traceback
        log.exception("Inference of file %s failed", file_id)
        _finish(ctx, file_id, "failed", processed_at=utcnow(),
                error_message=f"Inference failed because of a server error: "
                              f"{type(exc).__name__}")
        return "failed"
    if should_stop():  # the lease was lost: whoever holds it now writes the result
        return "stopped"
    detections = sorted((d.as_dict() for d in result.detections),
                        key=lambda d: (d["start_ms"], d["end_ms"], d["artifact_type"]))
    _finish(ctx, file_id, "completed", detections=detections,
            detection_count=len(detections), duration_ms=result.duration_ms,
            processed_at=utcnow(), error_message=None)
    return "completed"


def _detect(ctx: JobContext, key: str, model: TrainedModel, config: InferenceConfig,
            stop: Callable[[], bool]) -> DetectionResult:
    """Fetch the audio object to a local file and run the detector over it."""
    if stop():
        raise Stopped
    try:
        with ctx.storage.local_copy(key) as path:
            return detect(model, path, config, should_stop=stop)
    except ObjectNotFound:
        raise AudioError("The file's audio is missing from storage (was it deleted?)") from None
    except (DetectionCancelled, Interrupted):
        raise Stopped from None
    except AudioError:
        raise
    except Exception:
        if stop():
            raise Stopped from None
        raise


def _finish(ctx: JobContext, file_id: uuid.UUID, status: str, **values: Any) -> bool:
    with ctx.session_factory.begin() as session:
        return finish_file(session, file_id, status, **values)


def _cancel(ctx: JobContext, file_id: uuid.UUID) -> str:
    _finish(ctx, file_id, "cancelled", error_message=CANCELLED_FILE_MESSAGE)
    return "cancelled"


class _CancelWatch:
    """``watch()`` is True once the job is cancelled (asks the database at most every
    :data:`CANCEL_CHECK_S` seconds)."""

    def __init__(self, ctx: JobContext, job_id: uuid.UUID) -> None:
        self._ctx = ctx
        self._job_id = job_id
        self._checked_at = 0.0
        self._cancelled = False

    def __call__(self) -> bool:
        now = time.monotonic()
        if not self._cancelled and now - self._checked_at >= CANCEL_CHECK_S:
            self._checked_at = now
            with self._ctx.session_factory() as session:
                status = session.scalar(select(InferenceJob.status)
                                        .where(InferenceJob.id == self._job_id))
            self._cancelled = status in (None, "cancelled")
        return self._cancelled


def _first_of(*checks: Callable[[], bool]) -> Callable[[], bool]:
    return lambda: any(check() for check in checks)
