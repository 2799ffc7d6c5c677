"""The list envelope ``items/total/page/page_size/has_more`` and its query parameters.

Pages are 1-based; ``page_size`` is 1..100 (default 20; the annotation-set list
defaults to 100 because the reference shows it unpaginated). A page beyond the
end is an empty ``items`` with the true ``total`` and ``has_more: false``.
Lists order by ``(created_at, id)`` or another total order, so paging is stable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_OFFSET = 2**62  # inside a signed 64-bit OFFSET on every database


class PageParams(BaseModel):
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    @property
    def offset(self) -> int:
        """Rows to skip; clamped so an absurd page number is simply past the end."""
        return min((self.page - 1) * self.page_size, MAX_OFFSET)


def page_params(
    page: int = Query(1, ge=1, description="1-based page number"),
    page_size: int = Query(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="items per page"),
) -> PageParams:
    """FastAPI dependency for the documented ``page`` / ``page_size`` parameters."""
    return PageParams(page=page, page_size=page_size)


def page_params_default(default_size: int) -> Callable[..., PageParams]:
    """Like :func:`page_params` with another default ``page_size``."""

    def dependency(
        page: int = Query(1, ge=1, description="1-based page number"),
        page_size: int = Query(default_size, ge=1, le=MAX_PAGE_SIZE,
                               description="items per page"),
    ) -> PageParams:
        return PageParams(page=page, page_size=page_size)

    return dependency


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int
    has_more: bool


def paginate(session: Session, query: Select[Any], params: PageParams) -> tuple[list[Any], int]:
    """Run ``query`` for one page; return (rows, total)."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = list(session.scalars(query.offset(params.offset).limit(params.page_size)))
    return rows, int(total)


def envelope(items: list[Any], total: int, params: PageParams) -> dict[str, Any]:
    return {
        "items": items,
        "total": total,
        "page": params.page,
        "page_size": params.page_size,
        "has_more": params.offset + len(items) < total,
    }
