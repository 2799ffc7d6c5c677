"""A server's ties to whoever started it: one server per data folder, gone with its parent.

``ServeLock`` holds an exclusive OS lock on ``server.lock`` in the data folder
for as long as ``relay-server serve`` runs, so a second server on the same
folder stops at once with a message naming the first (its pid and URL). The
OS drops the lock when the process dies, however it dies, so a stale file
never blocks a start.

``watch_parent_pipe`` serves ``--exit-with-parent``: the parent keeps the
write end of the child's stdin open and never writes; when the parent is
gone (quit, crash, SIGKILL) the OS closes that end, the read returns EOF and
the server shuts down. A pipe closing works the same on every platform,
unlike parent-death signals.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

LOCK_NAME = "server.lock"
EXIT_FOLDER_IN_USE = 3


class FolderInUse(RuntimeError):
    """Another running server holds the data folder's lock."""

    def __init__(self, data_dir: Path, holder: dict[str, Any]) -> None:
        pid = holder.get("pid", "?")
        url = holder.get("url") or "an unknown address"
        super().__init__(
            f"The data folder {data_dir} is already served by another Relay Local "
            f"(process {pid} at {url}). Stop that server, or use another --data-dir.")
        self.holder = holder


class ServeLock:
    """An exclusive lock on a data folder, held while a server serves it."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / LOCK_NAME
        self._fh: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`FolderInUse`; never waits."""
        fh = open(self.path, "a+")  # noqa: SIM115 - held until release()
        try:
            _lock_file(fh)
        except OSError:
            fh.seek(0)
            holder = _parse(fh.read())
            fh.close()
            raise FolderInUse(self.data_dir, holder) from None
        self._fh = fh
        self.describe(url="")

    def describe(self, url: str) -> None:
        """Record who holds the lock (pid, URL) for the message a second server prints."""
        if self._fh is None:
            return
        self._fh.seek(0)
        self._fh.truncate()
        self._fh.write(json.dumps({"pid": os.getpid(), "url": url}))
        self._fh.flush()

    def release(self) -> None:
        if self._fh is not None:
            self._fh.close()  # closing drops the lock
            self._fh = None

    def __enter__(self) -> ServeLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _parse(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock_file(fh: IO[str]) -> None:
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
else:
    import fcntl

    def _lock_file(fh: IO[str]) -> None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def watch_parent_pipe(on_gone: Callable[[], None], stream: IO[bytes] | None = None) -> None:
    """Call ``on_gone`` (once, on a daemon thread) when ``stream`` (stdin) reaches EOF."""
    source = stream if stream is not None else sys.stdin.buffer

    def watch() -> None:
        try:
            while source.read(4096):
                pass  # the parent writes nothing; anything it does write is ignored
        except (OSError, ValueError):
            pass
        on_gone()

    threading.Thread(target=watch, name="parent-pipe", daemon=True).start()
