"""Walk a list endpoint page by page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from relay_desktop.api.models import Page

T = TypeVar("T")

FetchPage = Callable[[int, int], Page[T]]


def iter_pages(fetch: FetchPage[T], page_size: int = 100) -> Iterator[Page[T]]:
    """Yield pages from ``fetch(page, page_size)`` until one says there is no more.

    Stops on ``has_more`` false (which ``Page.from_json`` derives from ``total`` or a
    short page when the server omits it), on an empty page, or once ``total`` items
    have been seen, so a server that ignores ``page`` cannot loop forever.
    """
    page_no = 1
    seen = 0
    while True:
        page = fetch(page_no, page_size)
        yield page
        seen += len(page.items)
        if not page.items or not page.has_more:
            return
        if page.total is not None and seen >= page.total:
            return
        page_no += 1


def iter_items(fetch: FetchPage[T], page_size: int = 100) -> Iterator[T]:
    """Every item of every page, in order."""
    for page in iter_pages(fetch, page_size):
        yield from page.items
