"""The one error processing reports to users: a sentence for ``error_message``."""

from __future__ import annotations


class AudioError(Exception):
    """The audio cannot be processed; ``message`` says why in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Interrupted(Exception):
    """Processing stopped because the server is shutting down (it resumes on restart)."""
