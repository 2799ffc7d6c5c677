"""Upload lanes: threads that each claim the next WAITING row and upload it with their own client.

A lane keeps one ``RelayClient`` (its own HTTP session) for its life. The
outcome of each file (confirmed, interrupted, offline, failed) is written back
to the :class:`RowBook`; the in-flight rows' cancel tokens live here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from relay_desktop.api.batch_upload.book import RowBook
from relay_desktop.api.batch_upload.offline import OfflineWatch
from relay_desktop.api.batch_upload.rows import UploadRow, UploadState
from relay_desktop.api.batch_upload.transfer import (
    ClientFactory,
    Transfer,
    discard,
    discard_with_new_client,
)
from relay_desktop.api.cancel import CancelToken
from relay_desktop.api.client import RelayClient
from relay_desktop.api.errors import (
    ApiConnectionError,
    ApiStatusError,
    ApiTimeoutError,
    Cancelled,
    RelayError,
    StorageError,
)
from relay_desktop.api.retry import RETRY_STATUSES

log = logging.getLogger(__name__)

MAX_LANES = 8


def clamp_lanes(n: int) -> int:
    """``n`` as a lane count, 1..:data:`MAX_LANES`."""
    return max(1, min(MAX_LANES, int(n)))


class Lanes:
    """The lane threads and the rows in flight on them; state guarded by the book's lock."""

    def __init__(self, book: RowBook, factory: ClientFactory, stop: threading.Event,
                 watch: OfflineWatch, helper: ThreadPoolExecutor, *, lanes: int,
                 on_confirmed: Callable[[UploadRow], None] | None) -> None:
        self._book = book
        self._factory = factory
        self._stop = stop
        self._watch = watch
        self._helper = helper
        self._on_confirmed = on_confirmed
        self._transfer = Transfer(book, self._confirmed)
        self._target = clamp_lanes(lanes)
        self._started = False
        self._threads: dict[int, threading.Thread] = {}
        self._tokens: dict[str, CancelToken] = {}
        self._intent: dict[str, UploadState] = {}

    # -- for the engine (book lock held) -----------------------------------------------------

    @property
    def target(self) -> int:
        """How many lanes should run."""
        return self._target

    def start(self) -> None:
        self._started = True
        self._spawn()

    def set_target(self, n: int) -> None:
        """Run ``n`` (1..8) lanes; extra lanes stop after their current file."""
        self._target = clamp_lanes(n)
        self._book.wake.notify_all()
        if self._started:
            self._spawn()

    def threads(self) -> list[threading.Thread]:
        return list(self._threads.values())

    def is_running(self, row_id: str) -> bool:
        """True while a lane holds the row."""
        return row_id in self._tokens

    def any_running(self) -> bool:
        return bool(self._tokens)

    def interrupt(self, row_id: str, intent: UploadState) -> bool:
        """Stop the row's upload at its next chunk, ending in ``intent``; False if not running."""
        token = self._tokens.get(row_id)
        if token is None:
            return False
        self._intent[row_id] = intent
        token.cancel()
        return True

    def interrupt_all(self, intent: UploadState) -> None:
        for row_id, token in self._tokens.items():
            self._intent[row_id] = intent
            token.cancel()

    # -- lane threads ----------------------------------------------------------------------

    def _spawn(self) -> None:
        for index in range(self._target):
            thread = self._threads.get(index)
            if thread is None or not thread.is_alive():
                thread = threading.Thread(target=self._lane_main, args=(index,),
                                          name=f"upload-lane-{index + 1}", daemon=True)
                self._threads[index] = thread
                thread.start()

    def _claim(self, index: int) -> UploadRow | None:
        """Block until a row is ready for this lane; None when the lane should end."""
        book = self._book
        with book.lock:
            while True:
                if self._stop.is_set() or index >= self._target:
                    return None
                if not book.paused and not self._watch.offline:
                    row = book.next_waiting()
                    if row is not None:
                        token = CancelToken()
                        self._tokens[row.id] = token
                        return book.set(row, state=UploadState.UPLOADING, reason="",
                                        bytes_sent=0, speed_bps=0.0)
                book.wake.wait(0.5)

    def _lane_main(self, index: int) -> None:
        client: RelayClient | None = None
        try:
            while True:
                row = self._claim(index)
                if row is None:
                    return
                if client is None:
                    try:
                        client = self._factory()
                    except Exception as exc:
                        self._end(row, UploadState.FAILED, f"Could not start: {exc}")
                        continue
                self._run(client, row)
        finally:
            if client is not None:
                client.close()

    def _run(self, client: RelayClient, row: UploadRow) -> None:
        token = self._tokens[row.id]
        confirmed = False
        try:
            self._transfer.upload(client, row, token)
            confirmed = True
        except Cancelled:
            self._interrupted(client, row.id)
        except (ApiConnectionError, ApiTimeoutError) as exc:
            if token.cancelled:
                self._interrupted(client, row.id)
            else:
                self._watch.went_offline(client, row.id, exc)
        except (ApiStatusError, StorageError) as exc:
            if token.cancelled:
                self._interrupted(client, row.id)
            elif exc.status_code in RETRY_STATUSES:  # a gateway or a busy server: wait
                self._watch.went_offline(client, row.id, exc)
            else:
                self._failed(client, row.id, str(exc))
        except (RelayError, OSError) as exc:
            if token.cancelled:    # the cancelled POST may surface as a broken upload
                self._interrupted(client, row.id)
            else:
                reason = str(exc) if isinstance(exc, RelayError) else (
                    f"Could not read the file: {exc.strerror or exc}.")
                self._failed(client, row.id, reason)
        except Exception as exc:  # a bug must not kill the lane
            log.exception("Upload of %s failed unexpectedly", row.path)
            self._failed(client, row.id, f"Unexpected error: {exc}")
        finally:
            with self._book.lock:
                self._tokens.pop(row.id, None)
                self._intent.pop(row.id, None)
                self._book.wake.notify_all()
            if not confirmed:
                # a confirmed row is saved with the next commit: if that never comes, the
                # restart finds the record confirmed on the server, which is as good
                self._book.sync()

    # -- outcomes --------------------------------------------------------------------------

    def _confirmed(self, row_id: str) -> None:
        book = self._book
        with book.lock:
            row = book[row_id]
            book.drop_ticket(row_id)
            row = book.set(row, state=UploadState.PROCESSING, bytes_sent=row.size,
                           speed_bps=0.0, reason="", save=True, ticket=None)
            book.note_confirmed(row)
            replaced = book.pop_replacement(row_id)
        if replaced:
            self._helper.submit(discard_with_new_client, self._factory,
                                row.with_(remote_id=replaced))
        if self._on_confirmed is not None:
            try:
                self._on_confirmed(row)
            except Exception:
                log.exception("on_confirmed hook failed for %s", row.path)

    def _interrupted(self, client: RelayClient, row_id: str) -> None:
        """The row's token was cancelled: cancel (delete its record), pause or shut down."""
        book = self._book
        with book.lock:
            intent = self._intent.get(row_id, UploadState.CANCELLED)
            row = book.get(row_id)
        if row is None:
            return
        if intent is UploadState.CANCELLED:
            if row.remote_id:
                discard(client, row)
            with book.lock:
                book.drop_ticket(row_id)
                book.set(book[row_id], state=UploadState.CANCELLED, reason="Cancelled.",
                         bytes_sent=0, speed_bps=0.0, remote_id="", save=True, ticket=None)
            return
        with book.lock:  # pause or shutdown: keep the record and policy for resuming
            state = intent if intent is UploadState.PAUSED else UploadState.WAITING
            if state is UploadState.WAITING and book.paused:
                state = UploadState.PAUSED
            book.set(book[row_id], state=state, bytes_sent=0, speed_bps=0.0, save=True)

    def _failed(self, client: RelayClient, row_id: str, reason: str) -> None:
        book = self._book
        with book.lock:
            row = book.get(row_id)
        if row is None:
            return
        if row.remote_id and row.state is not UploadState.PROCESSING:
            discard(client, row)
        with book.lock:
            book.drop_ticket(row_id)
            book.set(book[row_id], state=UploadState.FAILED, reason=reason,
                     speed_bps=0.0, remote_id="", save=True, ticket=None)

    def _end(self, row: UploadRow, state: UploadState, reason: str) -> None:
        with self._book.lock:
            self._tokens.pop(row.id, None)
            self._book.set(self._book[row.id], state=state, reason=reason, save=True)
