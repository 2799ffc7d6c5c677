"""``/api/v1/inference-jobs``: jobs, their files (presigned upload, confirm, get,
download) and the ``files/from-dataset`` extension.

Job and file state changes go through :mod:`relay_server.inference_state`, so
the counters always add up; a file is queued for the ``infer_file`` task only
after its row is committed.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from relay_server.db.base import utcnow
from relay_server.db.models import AudioFile, InferenceFile, InferenceJob, Model
from relay_server.errors import ApiError, conflict, not_found
from relay_server.inference_state import cancel_job, lock_job, queue_file, settle_job
from relay_server.pagination import PageParams, envelope, page_params, paginate
from relay_server.routers.audio import download_ttl
from relay_server.schemas.audio import DownloadLink
from relay_server.schemas.common import ErrorResponse
from relay_server.schemas.inference import (
    InferenceConfig,
    InferenceFileBatch,
    InferenceFileConfirmRequest,
    InferenceFilesFromDataset,
    InferenceFileUploadUrlRequest,
    InferenceFileUploadUrlResponse,
    InferenceJobCreate,
    InferenceJobDetail,
    InferenceJobList,
    InferenceJobStatus,
)
from relay_server.schemas.inference import InferenceFile as InferenceFileOut
from relay_server.schemas.inference import InferenceJob as InferenceJobOut
from relay_server.scoping import SessionDep, TenantDep
from relay_server.storage.base import Storage
from relay_server.storage.errors import ObjectNotFound
from relay_server.storage.keys import inference_file_key

log = logging.getLogger("relay_server.inference")
router = APIRouter(prefix="/api/v1/inference-jobs", tags=["Inference Jobs"],
                   responses={401: {"model": ErrorResponse}, 404: {"model": ErrorResponse}})
CANCELLED_JOB = ("This inference job was cancelled, so no files can be added to it; "
                 "create a new inference job.")
NOT_UPLOADED = ("The file has not been uploaded yet: POST it to the upload_url with the "
                "upload_fields from upload-url, then confirm.")


def _storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


def _job_or_404(session: Session, tenant_id: uuid.UUID, job_id: uuid.UUID) -> InferenceJob:
    row = session.scalar(select(InferenceJob).where(InferenceJob.id == job_id,
                                                    InferenceJob.tenant_id == tenant_id))
    if row is None:
        raise not_found("Inference job")
    return row


def _file_or_404(session: Session, tenant_id: uuid.UUID, job_id: uuid.UUID,
                 file_id: uuid.UUID) -> InferenceFile:
    row = session.scalar(select(InferenceFile).where(
        InferenceFile.id == file_id, InferenceFile.inference_job_id == job_id,
        InferenceFile.tenant_id == tenant_id))
    if row is None:
        raise not_found("Inference file")
    return row


def _locked_open_job(session: Session, tenant_id: uuid.UUID, job_id: uuid.UUID) -> InferenceJob:
    """Take the job's write lock; 404 when absent, 409 when it is cancelled."""
    if not lock_job(session, job_id, tenant_id):
        raise not_found("Inference job")
    job = _job_or_404(session, tenant_id, job_id)
    session.refresh(job)
    if job.status == "cancelled":
        raise conflict(CANCELLED_JOB)
    return job


def _enqueue(request: Request, file_ids: list[uuid.UUID]) -> None:
    for file_id in file_ids:
        try:
            request.app.state.jobs.enqueue("infer_file", file_id=str(file_id))
        except Exception:  # the reaper queues it again from the database
            log.exception("Could not queue inference of file %s", file_id)


def _job_out(row: InferenceJob) -> InferenceJobOut:
    return InferenceJobOut.model_validate(row)


def _files_of(session: Session, job_id: uuid.UUID) -> list[InferenceFile]:
    return list(session.scalars(select(InferenceFile)
                                .where(InferenceFile.inference_job_id == job_id)
                                .order_by(InferenceFile.created_at, InferenceFile.id)))


# ---------------------------------------------------------------------------- jobs


@router.post("", status_code=201, response_model=InferenceJobOut)
def create_job(body: InferenceJobCreate, tenant_id: TenantDep,
               session: SessionDep) -> InferenceJobOut:
    """A new, empty job (``pending``) that runs ``model_id`` with ``config`` (defaults filled)."""
    model = session.scalar(select(Model.id).where(Model.id == body.model_id,
                                                  Model.tenant_id == tenant_id))
    if model is None:
        raise not_found("Model")
    config = (body.config or InferenceConfig()).model_dump()
    row = InferenceJob(tenant_id=tenant_id, model_id=body.model_id, config=config,
                       status="pending")
    session.add(row)
    session.commit()
    return _job_out(row)


@router.get("", response_model=InferenceJobList)
def list_jobs(
    tenant_id: TenantDep,
    session: SessionDep,
    params: PageParams = Depends(page_params),
    status: InferenceJobStatus | None = Query(None, description="only jobs in this status"),
    model_id: uuid.UUID | None = Query(None, description="only jobs of this model"),
) -> dict[str, Any]:
    """One page of the caller's inference jobs, oldest first."""
    query = select(InferenceJob).where(InferenceJob.tenant_id == tenant_id)
    if status is not None:
        query = query.where(InferenceJob.status == status.value)
    if model_id is not None:
        query = query.where(InferenceJob.model_id == model_id)
    rows, total = paginate(session, query.order_by(InferenceJob.created_at, InferenceJob.id),
                           params)
    return envelope([_job_out(r) for r in rows], total, params)


@router.get("/{job_id}", response_model=InferenceJobDetail)
def get_job(job_id: uuid.UUID, tenant_id: TenantDep, session: SessionDep) -> InferenceJobDetail:
    """The job with every file (oldest first) and each file's detections."""
    job = _job_or_404(session, tenant_id, job_id)
    files = [InferenceFileOut.model_validate(f) for f in _files_of(session, job.id)]
    return InferenceJobDetail(**_job_out(job).model_dump(), files=files)


@router.post("/{job_id}/cancel", response_model=InferenceJobOut,
             responses={409: {"model": ErrorResponse}})
def cancel(job_id: uuid.UUID, tenant_id: TenantDep, session: SessionDep) -> InferenceJobOut:
    """Cancel a pending or processing job (409 once it has finished or was cancelled).

    Files not yet started become ``cancelled``; a file being processed stops
    at its next check. Files that finished keep their results.
    """
    if not lock_job(session, job_id, tenant_id):
        raise not_found("Inference job")
    if not cancel_job(session, job_id, tenant_id):
        job = _job_or_404(session, tenant_id, job_id)
        raise conflict(f"This inference job is already {job.status}; only pending or "
                       "processing jobs can be cancelled.")
    session.commit()
    job = _job_or_404(session, tenant_id, job_id)
    session.refresh(job)
    return _job_out(job)


# ---------------------------------------------------------------------------- files


@router.post("/{job_id}/files/upload-url", status_code=201,
             response_model=InferenceFileUploadUrlResponse, tags=["Inference Files"],
             responses={409: {"model": ErrorResponse}})
def create_file_upload_url(job_id: uuid.UUID, body: InferenceFileUploadUrlRequest,
                           request: Request, tenant_id: TenantDep,
                           session: SessionDep) -> InferenceFileUploadUrlResponse:
    """Add a ``pending`` file to the job and sign a POST for exactly ``file_size_bytes`` bytes.

    The policy is the same as for dataset audio (storage ``presign_upload``).
    """
    job = _job_or_404(session, tenant_id, job_id)
    if job.status == "cancelled":
        raise conflict(CANCELLED_JOB)
    file_id = uuid.uuid4()
    key = inference_file_key(tenant_id, job.id, file_id, body.filename)
    post = _storage(request).presign_upload(key, body.content_type, body.file_size_bytes,
                                            str(request.base_url))
    session.add(InferenceFile(id=file_id, tenant_id=tenant_id, inference_job_id=job.id,
                              original_filename=body.filename, storage_key=key,
                              content_type=body.content_type, file_size=body.file_size_bytes,
                              status="pending", detection_count=0))
    session.commit()  # the confirm that follows must see the row
    return InferenceFileUploadUrlResponse(file_id=file_id, upload_url=post.url,
                                          upload_fields=post.fields, s3_key=post.key,
                                          expires_in=post.expires_in)


@router.post("/{job_id}/files/confirm", response_model=InferenceFileOut,
             tags=["Inference Files"],
             responses={400: {"model": ErrorResponse}, 409: {"model": ErrorResponse}})
def confirm_file(job_id: uuid.UUID, body: InferenceFileConfirmRequest, request: Request,
                 tenant_id: TenantDep, session: SessionDep) -> InferenceFileOut:
    """Check the object is stored and queue the file (``queued``); confirming twice is a no-op.

    400 while the object is not stored; 409 when the job was cancelled.
    """
    job = _job_or_404(session, tenant_id, job_id)
    row = _file_or_404(session, tenant_id, job.id, body.file_id)
    if job.status == "cancelled":
        raise conflict(CANCELLED_JOB)
    if row.status != "pending":
        return InferenceFileOut.model_validate(row)
    try:
        size = _storage(request).size(row.storage_key)
    except ObjectNotFound:
        raise ApiError(400, NOT_UPLOADED) from None
    session.rollback()  # what follows runs under the job's lock, on fresh rows
    _locked_open_job(session, tenant_id, job_id)
    queued = queue_file(session, job_id, body.file_id, size)
    session.commit()  # the worker must see the queued row before it sees the task
    if queued:
        _enqueue(request, [body.file_id])
    row = _file_or_404(session, tenant_id, job_id, body.file_id)
    session.refresh(row)
    return InferenceFileOut.model_validate(row)


@router.post("/{job_id}/files/from-dataset", status_code=201,
             response_model=InferenceFileBatch, tags=["Inference Files"],
             responses={400: {"model": ErrorResponse}, 409: {"model": ErrorResponse}})
def add_dataset_files(job_id: uuid.UUID, body: InferenceFilesFromDataset, request: Request,
                      tenant_id: TenantDep, session: SessionDep) -> InferenceFileBatch:
    """Relay Local extension: run the job over ready audio files of the caller's datasets.

    Each file references the stored upload (nothing is copied) and is queued
    at once. 404 names an unknown (or another tenant's) audio id; 400 names
    files that are not ready. All or nothing.
    """
    _job_or_404(session, tenant_id, job_id)
    found = {a.id: a for a in session.scalars(select(AudioFile).where(
        AudioFile.id.in_(body.audio_file_ids), AudioFile.tenant_id == tenant_id))}
    for audio_id in body.audio_file_ids:
        if audio_id not in found:
            raise not_found(f"Audio file {audio_id}")
    not_ready = [found[a] for a in body.audio_file_ids
                 if found[a].processing_status != "ready"]
    if not_ready:
        names = ", ".join(f"{a.filename} ({a.id}: {a.processing_status})" for a in not_ready[:5])
        more = f" and {len(not_ready) - 5} more" if len(not_ready) > 5 else ""
        raise ApiError(400, f"Only ready audio files can be added; not ready: {names}{more}. "
                            "Wait until processing finishes, or leave failed files out.")
    ids = [uuid.uuid4() for _ in body.audio_file_ids]
    rows: list[dict[str, Any]] = [
        {"id": file_id, "tenant_id": tenant_id, "inference_job_id": job_id,
         "original_filename": a.filename, "storage_key": a.storage_key,
         "content_type": a.content_type, "file_size": a.file_size, "source_audio_id": a.id,
         "status": "queued", "detection_count": 0}
        for file_id, a in zip(ids, (found[i] for i in body.audio_file_ids), strict=True)]
    session.rollback()  # what follows runs under the job's lock
    _locked_open_job(session, tenant_id, job_id)
    now = utcnow()
    session.execute(insert(InferenceFile),
                    [{**r, "confirmed_at": now, "created_at": utcnow()} for r in rows])
    settle_job(session, job_id)
    session.commit()
    _enqueue(request, ids)
    created = {f.id: f for f in session.scalars(select(InferenceFile)
                                                .where(InferenceFile.id.in_(ids)))}
    return InferenceFileBatch(files=[InferenceFileOut.model_validate(created[i]) for i in ids])


@router.get("/{job_id}/files/{file_id}", response_model=InferenceFileOut,
            tags=["Inference Files"])
def get_file(job_id: uuid.UUID, file_id: uuid.UUID, tenant_id: TenantDep,
             session: SessionDep) -> InferenceFileOut:
    """One file of the job, with its detections once processed."""
    _job_or_404(session, tenant_id, job_id)
    return InferenceFileOut.model_validate(_file_or_404(session, tenant_id, job_id, file_id))


@router.get("/{job_id}/files/{file_id}/download-url", response_model=DownloadLink,
            tags=["Inference Files"], responses={409: {"model": ErrorResponse}})
def file_download_url(job_id: uuid.UUID, file_id: uuid.UUID, request: Request,
                      tenant_id: TenantDep, session: SessionDep) -> DownloadLink:
    """A signed, expiring GET URL of the file's original audio (409 while nothing is stored)."""
    _job_or_404(session, tenant_id, job_id)
    row = _file_or_404(session, tenant_id, job_id, file_id)
    storage = _storage(request)
    if not storage.exists(row.storage_key):
        raise conflict("The file's audio is not stored (not uploaded yet, or its dataset "
                       "audio was deleted), so there is nothing to download.")
    ttl = download_ttl()
    return DownloadLink(download_url=storage.download_url(row.storage_key, ttl,
                                                          str(request.base_url)),
                        expires_in=ttl)
