"""The ``train_model`` task: train a detector for one training job and store the model.

The job row holds the state. Under its lease the task moves the job to
``training``, fetches the normalised copy of every ready file of the dataset,
trains with :func:`relay_server.ml.train_model` (writing ``progress`` after
each epoch), stores the model bytes and then, in ONE transaction, creates the
Model row and marks the job ``completed``: the model is usable the moment the
job says so. A cancelled job stops at the next batch; a process that is
stopping leaves the job ``training`` for recovery to queue again; any error
ends the job ``failed`` with a plain-language ``error_message``.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
import uuid
from collections import defaultdict
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huey.api import Task
from sqlalchemy import func, select, update

from relay_server import ml
from relay_server.db.base import utcnow
from relay_server.db.models import Annotation, AnnotationSet, AudioFile, Dataset, Model, TrainingJob
from relay_server.jobs.context import JobContext
from relay_server.jobs.leases import JobLease, hold_lease
from relay_server.processing.errors import AudioError
from relay_server.storage.errors import ObjectNotFound

log = logging.getLogger("relay_server.training")

ACTIVE = ("pending", "queued", "training")
CANCEL_CHECK_INTERVAL_S = 0.5
COPY_CHUNK = 1 << 20


def model_key(tenant_id: uuid.UUID, model_id: uuid.UUID) -> str:
    """Where a model's bytes live in object storage."""
    return f"tenants/{tenant_id}/models/{model_id}.bin"


class JobFailed(Exception):
    """Training cannot succeed; the message is shown to the user as ``error_message``."""


class JobGone(Exception):
    """The job was cancelled, deleted or taken over: stop without touching it."""


@dataclass(frozen=True)
class JobInputs:
    """What one training run reads from the database."""

    tenant_id: uuid.UUID
    dataset_id: uuid.UUID
    annotation_set_id: uuid.UUID
    dataset_name: str
    set_version: int
    config: dict[str, Any]
    files: tuple[AudioFile, ...]
    regions: dict[uuid.UUID, tuple[ml.Region, ...]]


def run_train_model(ctx: JobContext, task: Task | None, job_id: str) -> None:
    """Task ``train_model``: run (or resume, from the start) one training job."""
    with hold_lease(ctx, TrainingJob, job_id) as lease:
        if not lease.acquired:
            log.info("Training job %s is finished or running elsewhere; skipped", job_id)
            return
        TrainingRun(ctx, lease, uuid.UUID(job_id)).run()


class TrainingRun:
    """One attempt at one training job, under its lease."""

    def __init__(self, ctx: JobContext, lease: JobLease, job_id: uuid.UUID) -> None:
        self.ctx = ctx
        self.lease = lease
        self.job_id = job_id
        self._train_loss: list[float] = []
        self._validation_loss: list[float] = []
        self._epochs = 0
        self._cancelled = False
        self._next_cancel_check = 0.0

    # ---- the run
    def run(self) -> None:
        scratch = Path(tempfile.mkdtemp(prefix=f"audio-training-{self.job_id}-p{os.getpid()}-",
                                        dir=self.ctx.scratch_dir))
        try:
            inputs = self._start()
            files = self._training_files(inputs, scratch)
            model = self._train(inputs, files)
            self._finish(inputs, model)
        except JobGone:
            log.info("Training job %s was cancelled or removed; stopped", self.job_id)
        except ml.TrainingCancelled:
            if self._is_cancelled(force=True):
                log.info("Training job %s cancelled", self.job_id)
            else:
                log.info("Training job %s interrupted; it resumes when queued again",
                         self.job_id)
        except JobFailed as exc:
            self._fail(str(exc))
        except (ml.TrainingError, AudioError) as exc:
            self._fail(getattr(exc, "message", None) or str(exc))
        except Exception as exc:
            log.exception("Training job %s failed", self.job_id)
            self._fail(f"Training failed because of a server error ({type(exc).__name__}: "
                       f"{exc})")
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _start(self) -> JobInputs:
        """Mark the job ``training`` (progress reset) and read what it trains on."""
        with self.ctx.session_factory.begin() as session:
            # one conditional UPDATE, so a cancel that lands first is never overwritten
            started = session.execute(
                update(TrainingJob)
                .where(TrainingJob.id == self.job_id, TrainingJob.status.in_(ACTIVE),
                       TrainingJob.lease_owner == self.lease.owner)
                .values(status="training", error_message=None)
                .execution_options(synchronize_session=False))
            if not int(getattr(started, "rowcount", 0) or 0):
                raise JobGone
            job = session.get(TrainingJob, self.job_id)
            if job is None:
                raise JobGone
            self._epochs = int(job.config.get("epochs", 0))
            job.started_at = job.started_at or utcnow()
            job.progress = self._progress(0)
            dataset = session.get(Dataset, job.dataset_id)
            annotation_set = session.get(AnnotationSet, job.annotation_set_id)
            if dataset is None or annotation_set is None:
                raise JobGone
            types = [str(t) for t in job.config.get("artifact_types", [])]
            files = tuple(session.scalars(
                select(AudioFile).where(AudioFile.dataset_id == dataset.id)
                .order_by(AudioFile.created_at, AudioFile.id)))
            regions: dict[uuid.UUID, list[ml.Region]] = defaultdict(list)
            for audio_id, kind, start, end in session.execute(
                select(Annotation.audio_file_id, Annotation.artifact_type, Annotation.start_ms,
                       Annotation.end_ms)
                .where(Annotation.annotation_set_id == annotation_set.id,
                       Annotation.artifact_type.in_(types))
                .order_by(Annotation.audio_file_id, Annotation.start_ms)):
                regions[audio_id].append(ml.Region(kind, int(start), int(end)))
            session.expunge_all()
            return JobInputs(
                tenant_id=job.tenant_id, dataset_id=dataset.id,
                annotation_set_id=annotation_set.id, dataset_name=dataset.name,
                set_version=annotation_set.version, config=dict(job.config), files=files,
                regions={k: tuple(v) for k, v in regions.items()})

    def _training_files(self, inputs: JobInputs, scratch: Path) -> list[ml.TrainingFile]:
        """Each file's normalised audio, fetched from storage (local or S3) into ``scratch``.

        ``scratch`` is named after this process, so a crash leaves nothing behind for
        long: the scratch sweep removes folders of processes that are gone.
        """
        not_ready = [f.filename for f in inputs.files
                     if f.processing_status != "ready" or not f.normalized_key]
        if not_ready:
            what = "file is" if len(not_ready) == 1 else "files are"
            raise JobFailed(f"{len(not_ready)} audio {what} no longer ready "
                            f"({', '.join(not_ready[:5])}); wait for processing to finish "
                            "and start a new training job")
        if not inputs.files:
            raise JobFailed("The dataset has no audio files left to train on")
        out = []
        for row in inputs.files:
            self._check_stop()
            assert row.normalized_key is not None
            path = scratch / f"{row.id}{Path(row.normalized_key).suffix}"
            try:
                with closing(self.ctx.storage.open(row.normalized_key)) as source, \
                        open(path, "wb") as target:
                    shutil.copyfileobj(source, target, COPY_CHUNK)
            except ObjectNotFound as exc:
                raise JobFailed(f"The processed copy of {row.filename} is missing from "
                                "storage; delete and upload the file again") from exc
            out.append(ml.TrainingFile(audio_id=str(row.id), path=path,
                                       duration_ms=int(row.duration_ms or 0),
                                       regions=inputs.regions.get(row.id, ())))
        return out

    def _train(self, inputs: JobInputs, files: list[ml.TrainingFile]) -> ml.TrainedModel:
        try:
            config = ml.TrainingConfig.from_mapping(inputs.config)
        except ValueError as exc:
            raise JobFailed(f"The training config is invalid: {exc}") from exc
        self._epochs = config.epochs
        return ml.train_model(files, config, on_epoch=self._on_epoch,
                              should_stop=self._should_stop, seed=0)

    def _finish(self, inputs: JobInputs, model: ml.TrainedModel) -> None:
        """Store the bytes, then create the Model and complete the job in one transaction."""
        model_id = uuid.uuid4()
        key = model_key(inputs.tenant_id, model_id)
        self.ctx.storage.put_bytes(key, model.to_bytes())
        try:
            with self.ctx.session_factory.begin() as session:
                done = session.execute(
                    update(TrainingJob)
                    .where(TrainingJob.id == self.job_id, TrainingJob.status == "training",
                           TrainingJob.lease_owner == self.lease.owner)
                    .values(status="completed", model_id=model_id, completed_at=utcnow(),
                            error_message=None, progress=self._progress(self._epochs))
                    .execution_options(synchronize_session=False))
                if not int(getattr(done, "rowcount", 0) or 0):
                    raise JobGone
                earlier = session.scalar(
                    select(func.count()).select_from(Model)
                    .where(Model.annotation_set_id == inputs.annotation_set_id)) or 0
                session.add(Model(
                    id=model_id, tenant_id=inputs.tenant_id,
                    name=f"{inputs.dataset_name} v{inputs.set_version} #{int(earlier) + 1}",
                    description=(f"Trained on annotation set v{inputs.set_version} of "
                                 f"{inputs.dataset_name!r} ({len(inputs.files)} files)"),
                    artifact_types=list(model.artifact_types), training_job_id=self.job_id,
                    dataset_id=inputs.dataset_id, annotation_set_id=inputs.annotation_set_id,
                    eval_metrics=dict(model.eval_metrics), is_active=True, storage_key=key,
                    feature_summary={
                        "config": inputs.config,
                        "train_audio_ids": list(model.train_audio_ids),
                        "validation_audio_ids": list(model.validation_audio_ids),
                    },
                    created_at=utcnow()))
        except BaseException:
            self.ctx.storage.delete(key)
            raise
        log.info("Training job %s completed: model %s", self.job_id, model_id)

    def _fail(self, message: str) -> None:
        log.info("Training job %s failed: %s", self.job_id, message)
        with self.ctx.session_factory.begin() as session:
            session.execute(
                update(TrainingJob)
                .where(TrainingJob.id == self.job_id, TrainingJob.status.in_(ACTIVE))
                .values(status="failed", error_message=message[:2000], completed_at=utcnow())
                .execution_options(synchronize_session=False))

    # ---- progress and stopping
    def _progress(self, epoch: int) -> dict[str, Any]:
        return {"epoch": epoch, "epochs": self._epochs, "train_loss": list(self._train_loss),
                "validation_loss": list(self._validation_loss)}

    def _on_epoch(self, report: ml.EpochReport) -> None:
        self._epochs = report.epochs
        self._train_loss.append(_finite(report.train_loss))
        self._validation_loss.append(_finite(report.validation_loss))
        with self.ctx.session_factory.begin() as session:
            done = session.execute(
                update(TrainingJob)
                .where(TrainingJob.id == self.job_id, TrainingJob.status == "training",
                       TrainingJob.lease_owner == self.lease.owner)
                .values(progress=self._progress(report.epoch))
                .execution_options(synchronize_session=False))
        if not int(getattr(done, "rowcount", 0) or 0):
            self._cancelled = True

    def _should_stop(self) -> bool:
        return self.lease.should_stop() or self._is_cancelled()

    def _check_stop(self) -> None:
        if self._should_stop():
            raise ml.TrainingCancelled

    def _is_cancelled(self, force: bool = False) -> bool:
        """Whether the job left ``training`` (cancelled, removed); asks the database at
        most every CANCEL_CHECK_INTERVAL_S unless ``force``."""
        now = time.monotonic()
        if self._cancelled or (not force and now < self._next_cancel_check):
            return self._cancelled
        self._next_cancel_check = now + CANCEL_CHECK_INTERVAL_S
        with self.ctx.session_factory() as session:
            state = session.scalar(select(TrainingJob.status)
                                   .where(TrainingJob.id == self.job_id))
        self._cancelled = state != "training"
        return self._cancelled


def _finite(value: float) -> float:
    """Losses as JSON can store them (a diverged run's inf/NaN become a large number)."""
    value = float(value)
    if value != value:
        return 1e9
    return max(min(value, 1e9), -1e9)
