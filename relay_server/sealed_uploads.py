"""A presigned POST is spent once its file is confirmed.

Until confirm, posting the same form again is a retry (the first answer may
have been lost) and replaces the object. After confirm the server has
processed what it received; a replay would swap the bytes under a finished
file, so the storage endpoint refuses it as S3 refuses a bad policy and the
stored object stays as it is. (S3 itself lets a policy be reused until it
expires; this is Relay Local's stricter rule for its own storage.)
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from relay_server.db.models import AudioFile, InferenceFile
from relay_server.storage.errors import StorageError

SPENT = StorageError("AccessDenied", "This upload is already complete: its file was confirmed. "
                                     "Request a new upload URL to send another file.", 403)


def is_confirmed(session_factory: sessionmaker[Session], key: str) -> bool:
    """Whether a confirmed audio or inference file is stored under ``key``."""
    with session_factory() as session:
        for model in (AudioFile, InferenceFile):
            if session.scalar(select(model.id).where(model.storage_key == key,
                                                     model.confirmed_at.is_not(None))
                              .limit(1)) is not None:
                return True
    return False


def refuse_if_spent(session_factory: sessionmaker[Session], key: str | None) -> None:
    """Raise :data:`SPENT` when ``key`` already holds a confirmed file."""
    if key is not None and is_confirmed(session_factory, key):
        raise SPENT
