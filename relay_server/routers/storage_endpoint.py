"""The object-storage endpoint of LocalStorage at ``/storage/<bucket>`` (no API key).

``POST /storage/<bucket>`` takes a presigned form upload exactly like S3's
POST Object: 204 on success, S3-style XML errors (403 for signature, policy
and expiry failures; 400 for size and form errors; 507 ``InsufficientStorage``
when the data folder's disk is full, 503 ``ServiceUnavailable`` when it is
read-only, 500 ``InternalError`` for another write error). ``GET``/``HEAD
/storage/<bucket>/<key>?Expires=..&Signature=..`` serves a signed download,
with HTTP Range support.
"""

from __future__ import annotations

import logging
import mimetypes
import time
from collections.abc import AsyncIterator

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.types import Receive

from relay_server.diskfaults import DETAILS, DiskFault, disk_fault
from relay_server.sealed_uploads import refuse_if_spent
from relay_server.storage.errors import StorageError, bad_request
from relay_server.storage.local import LocalStorage
from relay_server.storage.policy import verify_get
from relay_server.storage.post_form import PostObjectReceiver, form_boundary

log = logging.getLogger("relay_server.storage")
router = APIRouter(include_in_schema=False)
# Read (and drop) up to this much of a refused body, so the client gets to see the error.
DRAIN_LIMIT = 64 << 20
DRAIN_TIMEOUT_S = 10.0


def xml_error(err: StorageError, close: bool = False) -> Response:
    headers = {"Connection": "close"} if close else None
    return Response(err.to_xml(), status_code=err.status_code, media_type="application/xml",
                    headers=headers)


def write_failure(exc: OSError) -> StorageError:
    """The S3-style error for a write the disk refused: full, read-only or otherwise."""
    fault = disk_fault(exc)
    if fault is DiskFault.FULL:
        return StorageError("InsufficientStorage", DETAILS[fault], fault.value)
    if fault is DiskFault.READ_ONLY:
        return StorageError("ServiceUnavailable", DETAILS[fault], fault.value)
    return StorageError("InternalError", "The storage could not write the object "
                        f"({exc.strerror or exc}). Try again later.", 500)


def _local_storage(request: Request, bucket: str) -> LocalStorage:
    storage = request.app.state.storage
    if not isinstance(storage, LocalStorage) or bucket != storage.bucket:
        raise StorageError("NoSuchBucket", "The specified bucket does not exist.", 404)
    return storage


def _content_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    if value is None:
        return None
    try:
        length = int(value)
    except ValueError as exc:
        raise bad_request("MalformedPOSTRequest", "Invalid Content-Length header.") from exc
    if length < 0:
        raise bad_request("MalformedPOSTRequest", "Invalid Content-Length header.")
    return length


class RequestBody:
    """The request body straight from the ASGI ``receive`` channel, chunk by chunk.

    Hands on each chunk the server received as it is (no re-buffering), and
    remembers whether the body has ended, so a refused upload can be drained.
    """

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.complete = False
        self.received = 0

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        while not self.complete:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            self.complete = not message.get("more_body", False)
            chunk: bytes = message.get("body", b"")
            if chunk:
                self.received += len(chunk)
                return chunk
        raise StopAsyncIteration


async def _drain(body: RequestBody, remaining: int | None) -> bool:
    """Read and drop the rest of a refused body, so the client gets to read the error.

    Gives up (and the connection is closed) when more than DRAIN_LIMIT bytes
    are left or the client stalls; True when the whole body was read.
    """
    if body.complete:
        return True
    if remaining is not None and remaining > DRAIN_LIMIT:
        return False
    seen = 0
    with anyio.move_on_after(DRAIN_TIMEOUT_S):
        try:
            async for chunk in body:
                seen += len(chunk)
                if seen > DRAIN_LIMIT:
                    return False
        except (ClientDisconnect, RuntimeError):
            return False
        return True
    return False


@router.post("/storage/{bucket}")
async def post_object(bucket: str, request: Request) -> Response:
    """Store one object from a presigned POST form.

    The body is parsed as it arrives and the file's bytes are copied into the
    page cache on the event loop (a memory copy in 1 MiB ``writev`` batches,
    which hands each megabyte to writeback at once); the fsync of the file
    and its folder, which waits for the disk, runs on a worker thread.
    """
    body = RequestBody(request.receive)
    receiver: PostObjectReceiver | None = None
    length: int | None = None
    try:
        storage = _local_storage(request, bucket)
        length = _content_length(request)
        receiver = PostObjectReceiver(storage, bucket,
                                      form_boundary(request.headers.get("content-type")),
                                      length)
        async for chunk in body:
            receiver.feed(chunk)
        await run_in_threadpool(refuse_if_spent, request.app.state.session_factory,
                                receiver.key)
        key = await run_in_threadpool(receiver.finish)  # fsync + rename off the event loop
    except StorageError as err:
        if receiver is not None:
            receiver.abort()
        complete = await _drain(body, None if length is None else length - body.received)
        return xml_error(err, close=not complete)
    except ClientDisconnect:
        if receiver is not None:
            receiver.abort()
        log.info("Upload to /storage/%s abandoned by the client", bucket)
        return Response(status_code=400)
    except OSError as exc:  # e.g. the disk is full or read-only: nothing is kept
        if receiver is not None:
            receiver.abort()
        log.error("Upload to /storage/%s failed: %s", bucket, exc)
        complete = await _drain(body, None if length is None else length - body.received)
        return xml_error(write_failure(exc), close=not complete)
    except BaseException:
        if receiver is not None:
            receiver.abort()
        raise
    log.debug("Stored %s", key)
    return Response(status_code=204)


@router.api_route("/storage/{bucket}/{key:path}", methods=["GET", "HEAD"])
async def get_object(bucket: str, key: str, request: Request) -> Response:
    """Serve a stored object to a holder of a signed, unexpired URL (Range supported)."""
    try:
        storage = _local_storage(request, bucket)
        verify_get(storage.secret, bucket, key, request.query_params.get("Expires"),
                   request.query_params.get("Signature"), time.time())
        try:
            path = storage.path(key)
        except ValueError as exc:
            raise bad_request("InvalidArgument", "The object key is not valid.") from exc
        if not path.is_file():
            raise StorageError("NoSuchKey", "The specified key does not exist.", 404)
    except StorageError as err:
        return xml_error(err)
    media_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media_type, filename=key.rsplit("/", 1)[-1],
                        content_disposition_type="attachment")
