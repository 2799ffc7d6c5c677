"""FileWriter: appends buffers to a file descriptor in batches, with early writeback.

Buffers are collected until ``batch_bytes`` are waiting and then written
with one ``writev`` call; every megabyte written is handed to the kernel's
writeback at once (:mod:`relay_server.storage.writeback`), so the fsync that
makes an upload durable has little left to do.
"""

from __future__ import annotations

import os

from relay_server.storage.writeback import WRITEBACK_CHUNK, start_writeback

BATCH_BYTES = 1 << 20
MAX_BATCH_BUFFERS = 256  # well below IOV_MAX (1024), the most one writev takes


def _writev(fd: int, views: list[memoryview]) -> int:
    """``os.writev`` where the platform has it, else one ``os.write`` (Windows)."""
    if hasattr(os, "writev"):
        return os.writev(fd, views)
    return os.write(fd, views[0])


class FileWriter:
    """Writes buffers to ``fd`` in order; call :meth:`flush` before syncing the file.

    Buffers are kept by reference until written, so they must not change
    afterwards (``bytes``, or views of them).
    """

    def __init__(self, fd: int, batch_bytes: int = BATCH_BYTES) -> None:
        self.fd = fd
        self.batch_bytes = batch_bytes
        self.size = 0  # bytes accepted, written or waiting
        self._pending: list[memoryview] = []
        self._pending_bytes = 0
        self._written = 0
        self._synced = 0

    def write(self, data: bytes | memoryview) -> None:
        """Append ``data``; it reaches the file at the latest on :meth:`flush`."""
        if not len(data):
            return
        self._pending.append(memoryview(data))
        self._pending_bytes += len(data)
        self.size += len(data)
        if self._pending_bytes >= self.batch_bytes or len(self._pending) >= MAX_BATCH_BUFFERS:
            self.flush()

    def flush(self) -> None:
        """Write everything waiting (short writes are continued)."""
        views, self._pending, self._pending_bytes = self._pending, [], 0
        while views:
            written = _writev(self.fd, views)
            self._written += written
            while views and written >= len(views[0]):
                written -= len(views[0])
                views.pop(0)
            if views and written:
                views[0] = views[0][written:]
        if self._written - self._synced >= WRITEBACK_CHUNK:
            start_writeback(self.fd, self._synced, self._written - self._synced)
            self._synced = self._written
