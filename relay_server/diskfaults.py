"""Disk faults of the data folder: full (507) or read-only (503), told in words.

A write fails when the filesystem under the data folder has run out of space
(``ENOSPC``/``EDQUOT``; SQLite: "database or disk is full") or has become
read-only (``EROFS``; SQLite: "attempt to write a readonly database", or a
bare "disk I/O error" on a file it already had open). :func:`disk_fault`
finds such a cause in an exception, so the API and the storage endpoint can
say what happened instead of a bare 500 or "the database is not reachable".
Nothing of the failed request was saved, and the same request succeeds once
space (or write access) is back, without a restart for a full disk.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import uuid
from collections.abc import Iterator
from enum import Enum
from pathlib import Path


class DiskFault(Enum):
    """What is wrong with the data folder; the value is the HTTP status to answer."""

    FULL = 507
    READ_ONLY = 503


DETAILS = {
    DiskFault.FULL: "The server's data folder is full (no space left on the disk), so "
                    "nothing was saved. Free some disk space on the server, then try again.",
    DiskFault.READ_ONLY: "The server's data folder is read-only (read-only file system), so "
                         "nothing was saved; reading still works. Make the disk writable "
                         "again (restart the server if it was remounted), then try again.",
}
FULL_ERRNOS = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, the DB-API error a SQLAlchemy error wraps, and their causes (no loops)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen or len(seen) > 16:
            continue
        seen.add(id(item))
        yield item
        orig = getattr(item, "orig", None)
        todo += [orig if isinstance(orig, BaseException) else None,
                 item.__cause__, item.__context__]


def _of_os_error(exc: OSError) -> DiskFault | None:
    if exc.errno in FULL_ERRNOS:
        return DiskFault.FULL
    if exc.errno == errno.EROFS:
        return DiskFault.READ_ONLY
    return None


def probe(folder: Path) -> DiskFault | None:
    """Write (and remove) one byte in ``folder``: the fault that stops it, if any."""
    path = folder / f".write-probe-{uuid.uuid4().hex[:8]}"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, b"\0")
        finally:
            os.close(fd)
            os.unlink(path)
    except OSError as exc:
        return _of_os_error(exc)
    return None


def disk_fault(exc: BaseException, data_dir: Path | None = None) -> DiskFault | None:
    """The disk fault behind ``exc``, or None when it is another kind of error.

    An SQLite "disk I/O error" says nothing about its cause; with ``data_dir``
    given, a one-byte write there tells a full or read-only disk apart.
    """
    for item in _causes(exc):
        if isinstance(item, OSError) and (fault := _of_os_error(item)) is not None:
            return fault
        if isinstance(item, sqlite3.Error):
            message = str(item).lower()
            if "database or disk is full" in message:
                return DiskFault.FULL
            if "readonly database" in message:
                return DiskFault.READ_ONLY
            if "disk i/o error" in message and data_dir is not None:
                return probe(data_dir)
    return None


EXIT_DISK_FAULT = 4  # exit status of ``relay-server serve`` on a full or read-only data folder


def cannot_start(folder: Path, fault: DiskFault) -> str:
    """Why ``relay-server serve`` stops at once on ``folder``, and what to do about it."""
    if fault is DiskFault.FULL:
        return (f"cannot start: the data folder {folder} is full (no space left on the "
                "disk). Free some disk space there, then start the server again.")
    return (f"cannot start: the data folder {folder} is read-only (read-only file system). "
            "Make it writable, or use another --data-dir, then start the server again.")
