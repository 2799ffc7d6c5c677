"""Exception handlers that emit the documented error shapes.

Ordinary errors are ``{"detail": "..."}``; validation errors are
``{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}``. Nothing
reaches the client as an HTML page or a bare 500 traceback.

A path id that is not a UUID (``/datasets/abc``) names no resource, so it is
answered like an unknown id: 404 with ``"<Resource> not found"``. Malformed
JSON and wrong content types are 422s located at ``["body", ...]``.

A write the data folder's disk refuses is 507 when the disk is full and 503
when it is read-only, each with a sentence that says so (see
:mod:`relay_server.diskfaults`); a database that passes away is 503 with
Retry-After.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from relay_server.diskfaults import DETAILS, DiskFault, disk_fault

log = logging.getLogger("relay_server")


class ApiError(Exception):
    """A business-rule failure with an HTTP status and a human-readable detail."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


class FieldErrors(Exception):
    """A 422 found by the server's own rules, in the documented loc/msg/type shape."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(items)} invalid field(s)")
        self.items = items


def field_error(loc: list[str | int], msg: str, type_: str = "value_error") -> dict[str, Any]:
    """One item of a 422 ``detail`` list."""
    return {"loc": list(loc), "msg": msg, "type": type_}


# Path parameter -> the resource it names, for the "not a UUID" 404s.
PATH_RESOURCES = {
    "dataset_id": "Dataset",
    "annotation_set_id": "Annotation set",
    "annotation_id": "Annotation",
    "audio_id": "Audio file",
    "job_id": "Job",
    "model_id": "Model",
    "file_id": "File",
}


def _malformed_path_id(errors: list[dict[str, Any]]) -> str | None:
    """The resource named by the first path id that failed to parse, if any."""
    for err in errors:
        loc = list(err.get("loc", []))
        if len(loc) == 2 and loc[0] == "path" and str(err.get("type", "")).startswith("uuid"):
            return PATH_RESOURCES.get(str(loc[1]), "Resource")
    return None


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found")


def conflict(detail: str) -> ApiError:
    return ApiError(409, detail)


def validation_error(items: list[dict[str, Any]]) -> JSONResponse:
    """A 422 response with the documented list shape."""
    return JSONResponse(status_code=422, content={"detail": items})


def _clean_validation_item(err: dict[str, Any]) -> dict[str, Any]:
    loc = [part if isinstance(part, int) else str(part) for part in err.get("loc", [])]
    kind = str(err.get("type", "value_error"))
    msg = str(err.get("msg", ""))
    if kind == "json_invalid":
        reason = (err.get("ctx") or {}).get("error")
        msg = f"The request body is not valid JSON ({reason})" if reason else \
            "The request body is not valid JSON"
    elif kind == "model_attributes_type" and loc == ["body"]:
        msg = "The request body must be a JSON object sent with Content-Type: application/json"
    return {"loc": loc, "msg": msg, "type": kind}


DATABASE_UNAVAILABLE = "The database is not reachable right now; try again in a moment."


def is_database_unavailable(exc: BaseException) -> bool:
    """A database error that passes (restart, lost connection, busy), not a bad query."""
    return isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated)


def database_unavailable() -> JSONResponse:
    """503 with a ``detail`` and Retry-After: clients retry; the pool reconnects meanwhile."""
    return JSONResponse(status_code=503, content={"detail": DATABASE_UNAVAILABLE},
                        headers={"Retry-After": "1"})


def disk_fault_response(fault: DiskFault) -> JSONResponse:
    """507 (disk full) or 503 (read-only) with a ``detail`` that says which."""
    return JSONResponse(status_code=fault.value, content={"detail": DETAILS[fault]})


def _disk_fault_of(request: Request, exc: BaseException) -> DiskFault | None:
    """The data folder's disk fault behind ``exc`` (logged in one line), if any."""
    settings = getattr(request.app.state, "settings", None)
    fault = disk_fault(exc, getattr(settings, "data_dir", None))
    if fault is not None:
        cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        log.error("%s %s refused: the data folder is %s (%s)", request.method,
                  request.url.path, "full" if fault is DiskFault.FULL else "read-only", cause)
    return fault


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail})

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return JSONResponse(status_code=exc.status_code, content={"detail": detail},
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        resource = _malformed_path_id(errors)
        if resource is not None:
            return JSONResponse(status_code=404, content={"detail": f"{resource} not found"})
        return validation_error([_clean_validation_item(e) for e in errors])

    @app.exception_handler(FieldErrors)
    async def _field_errors(_request: Request, exc: FieldErrors) -> JSONResponse:
        return validation_error(exc.items)

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        if (fault := _disk_fault_of(request, exc)) is not None:
            return disk_fault_response(fault)
        if is_database_unavailable(exc):
            log.warning("Database unavailable on %s %s: %s", request.method, request.url.path,
                        str(exc.orig).strip().splitlines()[0] if exc.orig else exc)
            return database_unavailable()
        log.exception("Database error on %s %s", request.method, request.url.path)
        return JSONResponse(status_code=500, content={"detail": "Internal server error"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if (fault := _disk_fault_of(request, exc)) is not None:
            return disk_fault_response(fault)
        log.exception("Unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(status_code=500, content={"detail": "Internal server error"})
