"""``/api/v1/training-jobs``: create (with every documented precondition), get, list, cancel.

A job is created ``pending``, committed, handed to the task queue and then
marked ``queued``; the ``train_model`` task (:mod:`relay_server.jobs.training`)
takes it to ``training`` and ``completed`` (a model exists) or ``failed``.
``POST .../{job_id}/cancel`` is a Relay Local extension.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, status
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from relay_server.db.base import utcnow
from relay_server.db.models import Annotation, AnnotationSet, AudioFile, Dataset, TrainingJob
from relay_server.errors import ApiError, FieldErrors, conflict, field_error, not_found
from relay_server.pagination import PageParams, envelope, page_params, paginate
from relay_server.schemas.common import ErrorResponse
from relay_server.schemas.training import (
    ACTIVE_STATUSES,
    TrainingConfigIn,
    TrainingJobCreate,
    TrainingJobList,
    TrainingStatus,
)
from relay_server.schemas.training import TrainingJob as TrainingJobOut
from relay_server.scoping import SessionDep, TenantDep, dataset_or_404

log = logging.getLogger("relay_server.training")

router = APIRouter(prefix="/api/v1/training-jobs", tags=["Training Jobs"],
                   responses={401: {"model": ErrorResponse}, 404: {"model": ErrorResponse}})

MIN_AUDIO_MS = 5 * 60 * 1000
NAMES_SHOWN = 5


def job_out(row: TrainingJob) -> TrainingJobOut:
    """The API view of a job; ``progress`` always has all four keys."""
    progress = dict(row.progress or {})
    progress.setdefault("epochs", int(row.config.get("epochs", 0)) if row.config else 0)
    return TrainingJobOut.model_validate({
        "id": row.id, "tenant_id": row.tenant_id, "dataset_id": row.dataset_id,
        "annotation_set_id": row.annotation_set_id, "config": dict(row.config or {}),
        "status": row.status, "error_message": row.error_message, "model_id": row.model_id,
        "progress": progress, "created_at": row.created_at, "started_at": row.started_at,
        "completed_at": row.completed_at,
    })


def job_or_404(session: Session, tenant_id: uuid.UUID, job_id: uuid.UUID) -> TrainingJob:
    row = session.scalar(select(TrainingJob).where(TrainingJob.id == job_id,
                                                   TrainingJob.tenant_id == tenant_id))
    if row is None:
        raise not_found("Training job")
    return row


def format_duration(ms: int) -> str:
    """``4 min 12 s``, ``5 min``, ``38 s``."""
    minutes, seconds = divmod(ms // 1000, 60)
    if not minutes:
        return f"{seconds} s"
    return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"


def _names(items: list[str]) -> str:
    """``a, b, c`` or ``a, b, c, d, e and 7 more``."""
    shown = ", ".join(items[:NAMES_SHOWN])
    extra = len(items) - NAMES_SHOWN
    return f"{shown} and {extra} more" if extra > 0 else shown


def _annotation_set(session: Session, tenant_id: uuid.UUID, dataset: Dataset,
                    set_id: uuid.UUID) -> AnnotationSet:
    """The set, 404 when unknown to the tenant, 400 when it belongs to another dataset."""
    row = session.scalar(select(AnnotationSet).where(AnnotationSet.id == set_id,
                                                     AnnotationSet.tenant_id == tenant_id))
    if row is None:
        raise not_found("Annotation set")
    if row.dataset_id != dataset.id:
        raise ApiError(400, f"Annotation set v{row.version} belongs to another dataset, not "
                            f"to {dataset.name!r}; choose one of {dataset.name!r}'s sets")
    return row


def check_artifact_types(dataset: Dataset, config: TrainingConfigIn) -> None:
    """422 at ``["body", "config", "artifact_types", i]`` for every type the dataset lacks."""
    known = [str(t.get("name")) for t in dataset.artifact_types or []]
    errors = [
        field_error(["body", "config", "artifact_types", i],
                    f"{name!r} is not an artifact type of dataset {dataset.name!r}; "
                    f"use one of: {', '.join(known) or '(the dataset has no types)'}",
                    "value_error.unknown_artifact_type")
        for i, name in enumerate(config.artifact_types) if name not in known
    ]
    if errors:
        raise FieldErrors(errors)


def training_problems(session: Session, dataset: Dataset, annotation_set: AnnotationSet,
                      artifact_types: list[str]) -> list[str]:
    """Every failed precondition of REFERENCE 7.1, each saying what to do about it."""
    problems = []
    if annotation_set.status != "published":
        problems.append(f"Annotation set v{annotation_set.version} is a draft; publish it "
                        "first (drafts cannot be trained on).")
    files = list(session.execute(
        select(AudioFile.filename, AudioFile.processing_status, AudioFile.duration_ms)
        .where(AudioFile.dataset_id == dataset.id)
        .order_by(AudioFile.created_at, AudioFile.id)))
    not_ready = [f"{name} ({state})" for name, state, _ in files if state != "ready"]
    if not_ready:
        what = "file is" if len(not_ready) == 1 else "files are"
        problems.append(f"{len(not_ready)} audio {what} not ready: {_names(not_ready)}; wait "
                        "for processing to finish, or delete the failed files.")
    total_ms = sum(int(ms or 0) for _, state, ms in files if state == "ready")
    if total_ms < MIN_AUDIO_MS:
        problems.append(f"The dataset has {format_duration(total_ms)} of ready audio; training "
                        f"needs at least {format_duration(MIN_AUDIO_MS)}. Upload "
                        f"{format_duration(MIN_AUDIO_MS - total_ms)} more.")
    used = set(session.scalars(
        select(Annotation.artifact_type).where(
            Annotation.annotation_set_id == annotation_set.id,
            Annotation.artifact_type.in_(artifact_types)).distinct()))
    missing = [name for name in artifact_types if name not in used]
    if missing:
        listed = ", ".join(repr(name) for name in missing)
        problems.append(f"Annotation set v{annotation_set.version} has no annotation of type "
                        f"{listed}; label at least one in a new version, or remove "
                        f"{'it' if len(missing) == 1 else 'them'} from config.artifact_types.")
    return problems


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TrainingJobOut,
             responses={400: {"model": ErrorResponse}, 503: {"model": ErrorResponse}})
def create_training_job(body: TrainingJobCreate, request: Request, session: SessionDep,
                        tenant_id: TenantDep) -> TrainingJobOut:
    """Check the preconditions, store the job, queue it; 201 with the job (``queued``).

    All failed preconditions are reported together in one 400 ``detail``.
    """
    dataset = dataset_or_404(session, tenant_id, body.dataset_id)
    annotation_set = _annotation_set(session, tenant_id, dataset, body.annotation_set_id)
    check_artifact_types(dataset, body.config)
    problems = training_problems(session, dataset, annotation_set, body.config.artifact_types)
    if problems:
        raise ApiError(400, "Cannot train yet. " + " ".join(problems))
    config = body.config.model_dump()
    row = TrainingJob(tenant_id=tenant_id, dataset_id=dataset.id,
                      annotation_set_id=annotation_set.id, config=config, status="pending",
                      progress={"epoch": 0, "epochs": config["epochs"], "train_loss": [],
                                "validation_loss": []},
                      attempts=0, created_at=utcnow())
    session.add(row)
    session.commit()
    try:
        request.app.state.jobs.enqueue("train_model", job_id=str(row.id))
    except Exception as exc:
        log.exception("Could not queue training job %s", row.id)
        row.status = "failed"
        row.error_message = "The job could not be queued; try again"
        row.completed_at = utcnow()
        session.commit()
        raise ApiError(503, "The task queue is unavailable; the training job was not "
                            "started. Try again in a moment.") from exc
    session.execute(update(TrainingJob)
                    .where(TrainingJob.id == row.id, TrainingJob.status == "pending")
                    .values(status="queued").execution_options(synchronize_session=False))
    session.commit()
    session.refresh(row)
    return job_out(row)


@router.get("", response_model=TrainingJobList)
def list_training_jobs(session: SessionDep, tenant_id: TenantDep,
                       params: PageParams = Depends(page_params),
                       status: TrainingStatus | None = Query(None, description="only this status"),
                       dataset_id: uuid.UUID | None = Query(None, description="only this dataset"),
                       ) -> dict[str, Any]:
    """The caller's training jobs, oldest first."""
    query = select(TrainingJob).where(TrainingJob.tenant_id == tenant_id)
    if status is not None:
        query = query.where(TrainingJob.status == status)
    if dataset_id is not None:
        query = query.where(TrainingJob.dataset_id == dataset_id)
    rows, total = paginate(session, query.order_by(TrainingJob.created_at, TrainingJob.id),
                           params)
    return envelope([job_out(r) for r in rows], total, params)


@router.get("/{job_id}", response_model=TrainingJobOut)
def get_training_job(job_id: uuid.UUID, session: SessionDep,
                     tenant_id: TenantDep) -> TrainingJobOut:
    return job_out(job_or_404(session, tenant_id, job_id))


@router.post("/{job_id}/cancel", response_model=TrainingJobOut,
             responses={409: {"model": ErrorResponse}})
def cancel_training_job(job_id: uuid.UUID, session: SessionDep,
                        tenant_id: TenantDep) -> TrainingJobOut:
    """Extension: stop a pending, queued or training job (409 once it has finished).

    A running task notices within an epoch's batch and stops without a model.
    """
    result = session.execute(
        update(TrainingJob)
        .where(TrainingJob.id == job_id, TrainingJob.tenant_id == tenant_id,
               TrainingJob.status.in_(ACTIVE_STATUSES))
        .values(status="cancelled", completed_at=utcnow())
        .execution_options(synchronize_session=False))
    row = job_or_404(session, tenant_id, job_id)
    if int(getattr(result, "rowcount", 0) or 0) == 0:
        raise conflict(f"Training job is already {row.status}; only pending, queued or "
                       "training jobs can be cancelled")
    session.commit()
    session.refresh(row)
    return job_out(row)
