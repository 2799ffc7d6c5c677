"""Why the journal cannot store something, in words a person can act on.

A full disk reaches SQLite as ``SQLITE_FULL``; a read-only one as
``SQLITE_READONLY``, ``SQLITE_CANTOPEN`` or, for a file already open when the
disk turned read-only, a plain ``SQLITE_IOERR`` (``EROFS`` underneath). So the
error code alone is not enough: :func:`journal_error` also asks the
filesystem holding the journal whether it is read-only or out of space.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

FULL = "full"
READ_ONLY = "read_only"
OTHER = "other"

#: what the user was doing when the journal failed (the start of the message)
NOT_SAVED = "Not saved"
NOT_OPENED = "The annotation journal cannot be opened"
NOT_UPDATED = "The annotation journal could not be updated"

_SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_FULL, _SQLITE_CANTOPEN = 8, 10, 13, 14


class JournalError(RuntimeError):
    """The journal file cannot be used (corrupt, locked, unwritable, out of space).

    ``kind`` is :data:`FULL`, :data:`READ_ONLY` or :data:`OTHER`; ``str()`` is a
    sentence for the user.
    """

    def __init__(self, message: str, kind: str = OTHER, path: Path | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.path = path


def disk_state(folder: Path) -> str | None:
    """FULL or READ_ONLY when the filesystem holding ``folder`` is so now, else None."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        st = os.statvfs(folder)
    except OSError:
        return None
    if st.f_flag & os.ST_RDONLY:
        return READ_ONLY
    if st.f_bavail == 0 or (st.f_favail == 0 and st.f_files > 0):
        return FULL
    return None


def classify(exc: BaseException, path: Path) -> str:
    """:data:`FULL`, :data:`READ_ONLY` or :data:`OTHER` for a failure to write ``path``."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary == _SQLITE_FULL or getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT):
        return FULL
    if primary == _SQLITE_READONLY or getattr(exc, "errno", None) == errno.EROFS:
        return READ_ONLY
    if primary in (_SQLITE_IOERR, _SQLITE_CANTOPEN, None) or isinstance(exc, OSError):
        return disk_state(path.parent) or OTHER
    return OTHER


def journal_error(exc: BaseException, path: Path, action: str) -> JournalError:
    """A :class:`JournalError` saying ``action`` failed and why (``exc``: sqlite3/OS error)."""
    kind = classify(exc, path)
    if kind == FULL:
        why = f"the disk holding your journal is full ({path}). Free some space and try again."
    elif kind == READ_ONLY:
        why = (f"the disk holding your journal is read-only ({path}). Make it writable and "
               "try again.")
    else:
        return JournalError(f"{action} ({path}): {exc}.", kind, path)
    return JournalError(f"{action}: {why}", kind, path)

