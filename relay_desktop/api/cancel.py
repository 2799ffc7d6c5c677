"""Cooperative cancellation shared between a caller and a running operation."""

from __future__ import annotations

import threading

from relay_desktop.api.errors import Cancelled


class CancelToken:
    """A flag an operation checks before a request, between chunks and during backoff.

    Thread-safe: ``cancel()`` may be called from any thread.
    """

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the operation to stop at its next check."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise ``errors.Cancelled`` when cancellation was requested."""
        if self._event.is_set():
            raise Cancelled()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; return True early when cancelled."""
        return self._event.wait(max(0.0, seconds))

    def __repr__(self) -> str:
        return f"CancelToken(cancelled={self.cancelled})"
