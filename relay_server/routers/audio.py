"""Audio routes: presigned upload, confirm, list, and the get/delete/download extensions."""

from __future__ import annotations

import logging
import os
import uuid

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import Engine, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from relay_server.auth import api_key_header, current_tenant_id, get_session
from relay_server.config import DOWNLOAD_URL_TTL_S
from relay_server.db.base import utcnow
from relay_server.db.models import Annotation, AnnotationSet, AudioFile, Dataset
from relay_server.diskfaults import DETAILS, disk_fault
from relay_server.errors import ApiError, conflict, not_found
from relay_server.pagination import PageParams, envelope, page_params, paginate
from relay_server.routers.annotation_sets import compute_stats
from relay_server.schemas.audio import (
    AudioFileList,
    AudioFileOut,
    ConfirmRequest,
    ConfirmResponse,
    DownloadLink,
    ProcessingStatus,
    UploadUrlRequest,
    UploadUrlResponse,
)
from relay_server.schemas.common import ErrorResponse
from relay_server.scoping import audio_or_404, dataset_or_404
from relay_server.storage.base import Storage
from relay_server.storage.errors import ObjectNotFound
from relay_server.storage.keys import audio_key, audio_prefix

log = logging.getLogger("relay_server.audio")
# every route answers 401 without a valid key and 404 for another tenant's dataset or file
router = APIRouter(prefix="/api/v1/datasets/{dataset_id}/audio", tags=["Audio"],
                   responses={401: {"model": ErrorResponse}, 404: {"model": ErrorResponse}})


def _storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


def download_ttl() -> int:
    """Lifetime of download URLs (``RELAY_DOWNLOAD_TTL_S`` overrides the default hour)."""
    value = os.environ.get("RELAY_DOWNLOAD_TTL_S")
    return max(1, int(value)) if value else DOWNLOAD_URL_TTL_S


async def _caller_tenant_id(
    request: Request,
    key: str | None = Depends(api_key_header),
) -> uuid.UUID:
    """The caller's tenant id without a thread hop when ApiKeyMiddleware has set it."""
    tenant_id = getattr(request.state, "tenant_id", None)
    if isinstance(tenant_id, uuid.UUID):
        return tenant_id
    return await run_in_threadpool(current_tenant_id, request, key)


# Built once: their SQL compiles once and their cache keys are memoized.
_DATASET_OF_TENANT = select(Dataset.id).where(Dataset.id == bindparam("dataset_id"),
                                              Dataset.tenant_id == bindparam("tenant_id"))
_INSERT_AUDIO = insert(AudioFile)


def _register_upload(engine: Engine, storage: Storage, tenant_id: uuid.UUID,
                     dataset_id: uuid.UUID, body: UploadUrlRequest,
                     base_url: str) -> UploadUrlResponse:
    """Check the dataset, sign the POST and commit the pending AudioFile (one transaction).

    Two plain Core statements (an indexed id lookup and an INSERT) on one
    connection, not an ORM session: this call sits in front of every upload.
    """
    with engine.begin() as conn:  # commits before the response: the next call sees the row
        if conn.scalar(_DATASET_OF_TENANT,
                       {"dataset_id": dataset_id, "tenant_id": tenant_id}) is None:
            raise not_found("Dataset")
        audio_id = uuid.uuid4()
        key = audio_key(tenant_id, dataset_id, audio_id, body.filename)
        post = storage.presign_upload(key, body.content_type, body.file_size, base_url)
        conn.execute(_INSERT_AUDIO, {
            "id": audio_id, "tenant_id": tenant_id, "dataset_id": dataset_id,
            "filename": body.filename, "content_type": body.content_type,
            "file_size": body.file_size, "storage_key": key,
            "processing_status": ProcessingStatus.pending.value})
    return UploadUrlResponse(upload_url=post.url, fields=post.fields, key=post.key,
                             expires_in=post.expires_in, audio_id=audio_id)


@router.post("/upload-url", status_code=201, response_model=UploadUrlResponse)
async def create_upload_url(
    dataset_id: uuid.UUID,
    body: UploadUrlRequest,
    request: Request,
    tenant_id: uuid.UUID = Depends(_caller_tenant_id),
) -> UploadUrlResponse:
    """Create a pending AudioFile and a presigned POST for exactly ``file_size`` bytes.

    The database work and the signing run in one worker-thread call, so the
    call costs one thread hop.
    """
    return await run_in_threadpool(_register_upload, request.app.state.engine,
                                   _storage(request), tenant_id, dataset_id, body,
                                   str(request.base_url))


@router.post("/confirm", response_model=ConfirmResponse,
             responses={400: {"model": ErrorResponse}, 409: {"model": ErrorResponse},
                        503: {"model": ErrorResponse}, 507: {"model": ErrorResponse}})
def confirm_upload(
    dataset_id: uuid.UUID,
    body: ConfirmRequest,
    request: Request,
    tenant_id: uuid.UUID = Depends(current_tenant_id),
    session: Session = Depends(get_session),
) -> ConfirmResponse:
    """Check the object is stored, record its size, and queue processing."""
    dataset_or_404(session, tenant_id, dataset_id)
    row = audio_or_404(session, tenant_id, dataset_id, body.audio_id)
    if row.confirmed_at is not None:
        raise conflict(f"This audio file was already confirmed (processing status: "
                       f"{row.processing_status}).")
    try:
        size = _storage(request).size(row.storage_key)
    except ObjectNotFound:
        raise ApiError(400, "The file has not been uploaded yet: POST it to the upload_url "
                            "with the fields from upload-url, then confirm.") from None
    now = utcnow()
    result = session.execute(
        update(AudioFile)
        .where(AudioFile.id == row.id, AudioFile.confirmed_at.is_(None))
        .values(confirmed_at=now, file_size=size, updated_at=now)
        .execution_options(synchronize_session=False))
    if not getattr(result, "rowcount", 0):
        raise conflict("This audio file was already confirmed.")
    session.commit()  # the worker must see the confirmation before it sees the task
    try:
        request.app.state.jobs.enqueue("process_audio", audio_id=str(row.id))
    except Exception as exc:
        log.error("Could not queue processing of %s: %s", row.id, exc)
        _unconfirm(session, row.id)
        fault = disk_fault(exc)
        if fault is not None:
            raise ApiError(fault.value, DETAILS[fault]) from exc
        raise ApiError(503, "The task queue is unavailable, so the upload was not confirmed; "
                            "confirm it again in a moment.") from exc
    return ConfirmResponse(audio_id=row.id, status=ProcessingStatus.pending,
                           message="Upload confirmed; the file is queued for processing.")


def _unconfirm(session: Session, audio_id: uuid.UUID) -> None:
    """Take a confirmation back whose processing could not be queued, so it can be repeated
    (a confirmed file without a task would wait for the next start-up)."""
    try:
        session.rollback()
        session.execute(update(AudioFile).where(AudioFile.id == audio_id)
                        .values(confirmed_at=None)
                        .execution_options(synchronize_session=False))
        session.commit()
    except Exception:
        session.rollback()
        log.exception("Could not take back the confirmation of %s; start-up recovery will "
                      "queue it", audio_id)


@router.get("", response_model=AudioFileList)
def list_audio(
    dataset_id: uuid.UUID,
    params: PageParams = Depends(page_params),
    processing_status: ProcessingStatus | None = Query(
        None, description="only files in this processing status"),
    content_sha256: str | None = Query(
        None, min_length=64, max_length=64, pattern="^[0-9a-fA-F]{64}$",
        description="Relay Local extension: only files whose uploaded bytes have this "
                    "hex SHA-256"),
    tenant_id: uuid.UUID = Depends(current_tenant_id),
    session: Session = Depends(get_session),
) -> dict[str, object]:
    """One page of the dataset's audio files, oldest first."""
    dataset_or_404(session, tenant_id, dataset_id)
    query = select(AudioFile).where(AudioFile.dataset_id == dataset_id,
                                    AudioFile.tenant_id == tenant_id)
    if processing_status is not None:
        query = query.where(AudioFile.processing_status == processing_status.value)
    if content_sha256 is not None:
        query = query.where(AudioFile.content_sha256 == content_sha256.lower())
    rows, total = paginate(session, query.order_by(AudioFile.created_at, AudioFile.id), params)
    return envelope([AudioFileOut.model_validate(r) for r in rows], total, params)


@router.get("/{audio_id}", response_model=AudioFileOut)
def get_audio(
    dataset_id: uuid.UUID,
    audio_id: uuid.UUID,
    tenant_id: uuid.UUID = Depends(current_tenant_id),
    session: Session = Depends(get_session),
) -> AudioFileOut:
    """Relay Local extension: one audio file."""
    dataset_or_404(session, tenant_id, dataset_id)
    return AudioFileOut.model_validate(audio_or_404(session, tenant_id, dataset_id, audio_id))


@router.delete("/{audio_id}", status_code=204, response_class=Response)
def delete_audio(
    dataset_id: uuid.UUID,
    audio_id: uuid.UUID,
    request: Request,
    tenant_id: uuid.UUID = Depends(current_tenant_id),
    session: Session = Depends(get_session),
) -> Response:
    """Relay Local extension: delete the file, its annotations and its stored objects.

    Published sets that held annotations of the file get their statistics
    recomputed, so the numbers they show stay true.
    """
    dataset_or_404(session, tenant_id, dataset_id)
    row = audio_or_404(session, tenant_id, dataset_id, audio_id)
    touched = list(session.scalars(
        select(Annotation.annotation_set_id).where(Annotation.audio_file_id == row.id)
        .distinct()))
    session.execute(delete(Annotation).where(Annotation.audio_file_id == row.id)
                    .execution_options(synchronize_session=False))
    session.delete(row)
    session.flush()
    _refresh_published_stats(session, touched)
    session.commit()
    try:
        _storage(request).delete_prefix(audio_prefix(tenant_id, dataset_id, audio_id))
    except Exception:
        log.exception("Could not delete the stored objects of audio %s", audio_id)
    return Response(status_code=204)


def _refresh_published_stats(session: Session, set_ids: list[uuid.UUID]) -> None:
    """Keep the stored statistics of published sets true after their annotations shrank."""
    if not set_ids:
        return
    published = list(session.scalars(select(AnnotationSet).where(
        AnnotationSet.id.in_(set_ids), AnnotationSet.status == "published")))
    stats = compute_stats(session, [s.id for s in published])
    for item in published:
        fresh = stats[item.id]
        item.total_annotations = fresh.total_annotations
        item.total_positive_duration_ms = fresh.total_positive_duration_ms
        item.annotations_by_type = fresh.annotations_by_type


@router.get("/{audio_id}/download-url", response_model=DownloadLink,
            responses={409: {"model": ErrorResponse}})
def download_url(
    dataset_id: uuid.UUID,
    audio_id: uuid.UUID,
    request: Request,
    tenant_id: uuid.UUID = Depends(current_tenant_id),
    session: Session = Depends(get_session),
) -> DownloadLink:
    """Relay Local extension: a signed, expiring GET URL of the original upload."""
    dataset_or_404(session, tenant_id, dataset_id)
    row = audio_or_404(session, tenant_id, dataset_id, audio_id)
    storage = _storage(request)
    if not storage.exists(row.storage_key):
        raise conflict("The file has not been uploaded yet, so there is nothing to download.")
    ttl = download_ttl()
    return DownloadLink(download_url=storage.download_url(row.storage_key, ttl,
                                                          str(request.base_url)),
                        expires_in=ttl)
