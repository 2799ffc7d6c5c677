"""Exception handlers that emit the documented error shapes.

Ordinary errors are ``{"detail": "..."}``; validation errors are
``{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}``. Nothing
reaches the client as an HTML page or a bare 500 traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("relay_server")


class ApiError(Exception):
    """A business-rule failure with an HTTP status and a human-readable detail."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found")


def conflict(detail: str) -> ApiError:
    return ApiError(409, detail)


def validation_error(items: list[dict[str, Any]]) -> JSONResponse:
    """A 422 response with the documented list shape."""
    return JSONResponse(status_code=422, content={"detail": items})


def _clean_validation_item(err: dict[str, Any]) -> dict[str, Any]:
    item = {"loc": list(err.get("loc", [])), "msg": str(err.get("msg", "")),
            "type": str(err.get("type", "value_error"))}
    return item


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
        return validation_error([_clean_validation_item(e) for e in exc.errors()])

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("Unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(status_code=500, content={"detail": "Internal server error"})
