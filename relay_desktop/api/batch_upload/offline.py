"""Waiting out a lost server: the row goes back to the queue and one lane probes until it answers.

Connection errors, and 429/502/503/504 from the API or storage, mean a busy
server or a gateway, not a refusal: lanes stop claiming rows while
:attr:`OfflineWatch.offline` is set (backoff 1 -> 2 -> 5 -> 10 s between probes).
"""

from __future__ import annotations

import logging
import threading

from relay_desktop.api.batch_upload.book import RowBook
from relay_desktop.api.batch_upload.rows import UploadState
from relay_desktop.api.batch_upload.store import StoredTicket
from relay_desktop.api.client import RelayClient
from relay_desktop.api.errors import ApiConnectionError, ApiStatusError, ApiTimeoutError, RelayError
from relay_desktop.api.retry import RETRY_STATUSES

log = logging.getLogger(__name__)

OFFLINE_BACKOFF_S = (1.0, 2.0, 5.0, 10.0)


def wait_for_server(client: RelayClient, stop: threading.Event) -> None:
    """Probe the server with backoff until it answers or ``stop`` is set."""
    attempt = 0
    while not stop.is_set():
        delay = OFFLINE_BACKOFF_S[min(attempt, len(OFFLINE_BACKOFF_S) - 1)]
        attempt += 1
        if stop.wait(delay):
            return
        try:
            client.datasets.list(page=1, page_size=1)
        except (ApiConnectionError, ApiTimeoutError):
            continue
        except ApiStatusError as exc:
            if exc.status_code in RETRY_STATUSES:
                continue  # still busy or behind a failing gateway
        except RelayError:
            pass  # it answered
        log.info("The server answers again; uploads resume")
        return


class OfflineWatch:
    """Whether the server is unreachable (``offline``, ``reason``), guarded by the book's lock."""

    def __init__(self, book: RowBook, stop: threading.Event) -> None:
        self._book = book
        self._stop = stop
        self._probing = False
        self.offline = False
        self.reason = ""

    def went_offline(self, client: RelayClient, row_id: str, exc: RelayError) -> None:
        """Put the row back in the queue; the first lane to get here waits for the server."""
        book = self._book
        with book.lock:
            row = book.get(row_id)
            if row is None:
                return
            # the policy may point at a storage host that moved (a restarted server): the
            # record is checked when the row comes back, and a fresh policy asked for; the
            # request time stays, in case upload-url made a record whose answer was lost
            old = book.drop_ticket(row_id)
            intent = StoredTicket.intent(old.requested_at) if old is not None else None
            if intent is not None:
                book.put_ticket(row_id, intent)
            book.set(row, state=UploadState.PAUSED if book.paused else UploadState.WAITING,
                     bytes_sent=0, speed_bps=0.0,
                     reason=f"Waiting for the server: {exc}", save=True, ticket=intent)
            self.offline = True
            self.reason = str(exc)
            if self._probing:
                return
            self._probing = True
        book.sync()
        log.info("Uploads wait for the server: %s", exc)
        try:
            wait_for_server(client, self._stop)
        finally:
            with book.lock:
                self._probing = False
                self.offline = False
                self.reason = ""
                book.wake.notify_all()
