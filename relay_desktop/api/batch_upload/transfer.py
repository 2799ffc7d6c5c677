"""One file's upload on a lane: the three steps, resuming from a stored ticket.

Before the first byte goes to storage the row, its server record id and the
presigned POST are committed through the :class:`RowBook`. A record left by an
interrupted attempt is checked first (confirmed, POSTed again or deleted), and
a record whose creation answer was lost is found by name, size and time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from relay_desktop.api.batch_upload.book import RowBook
from relay_desktop.api.batch_upload.rows import UploadRow, UploadState
from relay_desktop.api.batch_upload.store import StoredTicket
from relay_desktop.api.cancel import CancelToken
from relay_desktop.api.client import RelayClient
from relay_desktop.api.errors import (
    BadRequest,
    Cancelled,
    Conflict,
    NotFound,
    NotSupported,
    RelayError,
    StorageError,
)
from relay_desktop.api.models import UploadTicket
from relay_desktop.api.uploads import post_to_storage

log = logging.getLogger(__name__)

ClientFactory = Callable[[], RelayClient]
#: a stored policy this close to expiry is not reused
TICKET_MARGIN_S = 30.0
#: how far the server's clock may trail ours when looking for lost upload records
ORPHAN_SKEW_S = 60.0


def discard(client: RelayClient, row: UploadRow) -> None:
    """Delete the pending server record of a dataset upload (best effort)."""
    if row.target.kind != "dataset" or not row.remote_id:
        return
    try:
        client.audio.delete(row.target.id, row.remote_id)
    except NotFound:
        pass
    except RelayError as exc:
        log.warning("Could not delete the pending record %s: %s", row.remote_id, exc)


def discard_with_new_client(factory: ClientFactory, row: UploadRow) -> None:
    """:func:`discard` with a client of its own (for a helper thread)."""
    try:
        client = factory()
    except Exception:
        log.exception("Could not delete the pending record %s", row.remote_id)
        return
    try:
        discard(client, row)
    finally:
        client.close()


class Transfer:
    """Uploads one claimed row with a lane's client; ``confirmed(row_id)`` is called once
    the file is on the server."""

    def __init__(self, book: RowBook, confirmed: Callable[[str], None]) -> None:
        self._book = book
        self._confirmed = confirmed

    def upload(self, client: RelayClient, row: UploadRow, token: CancelToken) -> None:
        """The three steps for one row (dataset audio or inference file), resuming if it can."""
        book = self._book
        try:
            size = row.path.stat().st_size
        except FileNotFoundError:
            raise RelayError("The file is gone from the disk (moved or deleted since it "
                             "was queued).") from None
        if size != row.size:
            raise RelayError(f"The file changed since it was scanned ({row.size:,} -> "
                             f"{size:,} bytes); retry to scan it again.")
        ticket = book.ticket(row.id)
        if row.remote_id:
            outcome = self._check_existing(client, row, ticket, token)
            if outcome == "confirmed":
                self._confirmed(row.id)
                return
            if outcome == "fresh":
                with book.lock:
                    row = book.set(book.current(row), remote_id="", save=True, ticket=None)
                ticket = None
        elif ticket is not None and ticket.requested_at:
            self._remove_orphans(client, row, ticket.requested_at, token)
        if ticket is None or not ticket.usable or not row.remote_id:
            row, ticket = self._new_ticket(client, row, token)
        try:
            self._post(client, row, ticket, token)
        except StorageError as err:
            if not err.expired:
                raise
            log.info("Upload policy for %s expired; asking for a fresh one", row.path.name)
            if row.target.kind != "dataset":
                raise RelayError("The upload policy expired before the file was sent; the "
                                 "job's pending file cannot be removed, so it was not "
                                 "requested again.") from err
            discard(client, row)
            row, ticket = self._new_ticket(client, row, token)
            self._post(client, row, ticket, token)
        with book.lock:
            book.set(book.current(row), state=UploadState.CONFIRMING, bytes_sent=row.size)
        try:
            if row.target.kind == "dataset":
                client.audio.confirm(row.target.id, row.remote_id, cancel=token)
            else:
                client.inference_jobs.confirm_file(row.target.id, row.remote_id, cancel=token)
        except Conflict:
            pass  # confirmed by an earlier attempt whose answer was lost
        token.raise_if_cancelled()
        self._confirmed(row.id)

    def _check_existing(self, client: RelayClient, row: UploadRow,
                        ticket: StoredTicket | None, token: CancelToken) -> str:
        """What became of an interrupted upload's record: 'confirmed', 'post' or 'fresh'."""
        dataset = row.target.kind == "dataset"
        status = ""
        try:
            if dataset:
                status = client.audio.get(row.target.id, row.remote_id,
                                          cancel=token).processing_status
            else:
                status = client.inference_jobs.get_file(row.target.id, row.remote_id,
                                                        cancel=token).status
        except NotFound:
            return "fresh"
        except NotSupported:
            status = "pending"
        if status not in ("pending", ""):
            return "confirmed"
        try:  # the bytes may have arrived before the interruption: confirming tells
            if dataset:
                client.audio.confirm(row.target.id, row.remote_id, cancel=token)
            else:
                client.inference_jobs.confirm_file(row.target.id, row.remote_id, cancel=token)
            return "confirmed"
        except Conflict:
            return "confirmed"
        except (BadRequest, NotFound):
            pass
        if ticket is not None and ticket.usable and (
                ticket.expires_at - time.time() > TICKET_MARGIN_S):
            return "post"
        if not dataset:
            raise RelayError("The upload was interrupted and its policy expired; the job's "
                             "pending file cannot be removed, so it was not requested again.")
        discard(client, row)
        return "fresh"

    def _remove_orphans(self, client: RelayClient, row: UploadRow, requested_at: float,
                        token: CancelToken) -> None:
        """Delete pending records an unanswered upload-url of this row may have made: same
        name and size, created since the request (a minute's clock skew allowed), and not
        a record any row of this queue knows."""
        if row.target.kind != "dataset":
            return
        since = datetime.fromtimestamp(requested_at - ORPHAN_SKEW_S, UTC)
        with self._book.lock:
            known = {r.remote_id for r in self._book.rows() if r.remote_id}
        for audio in client.audio.iter_items(row.target.id, processing_status="pending",
                                             cancel=token):
            if (audio.filename == row.path.name and audio.file_size == row.size
                    and audio.id not in known
                    and (audio.created_at is None or audio.created_at >= since)):
                log.info("Removing %s: an upload record of %s whose answer was lost",
                         audio.id, row.path.name)
                discard(client, row.with_(remote_id=audio.id))

    def _new_ticket(self, client: RelayClient, row: UploadRow,
                    token: CancelToken) -> tuple[UploadRow, StoredTicket]:
        """Create the server record and commit it (with its policy) before any byte is sent.

        The time of the request is committed first: if its answer is lost, the record it
        made is found by name, size and time on the next attempt and removed."""
        book = self._book
        ticket: UploadTicket
        requested_at = time.time()
        intent = StoredTicket.intent(requested_at)
        with book.lock:
            # kept in memory too: a lost answer (dropped connection) is then cleaned up
            # on the next attempt of this run, not only after a restart
            book.put_ticket(row.id, intent)
            book.set(book.current(row), save=True, ticket=intent)
        book.sync()
        if row.target.kind == "dataset":
            ticket = client.audio.request_upload(row.target.id, row.path.name,
                                                 row.content_type, row.size, cancel=token)
        else:
            ticket = client.inference_jobs.request_file_upload(
                row.target.id, row.path.name, row.size, row.content_type, cancel=token)
        stored = StoredTicket(ticket.upload_url, dict(ticket.fields),
                              time.time() + float(ticket.expires_in or 3600), requested_at)
        with book.lock:
            book.put_ticket(row.id, stored)
            row = book.set(book.current(row), remote_id=ticket.object_id,
                           save=True, ticket=stored)
        book.sync()  # committed before the first byte goes to storage
        if token.cancelled:
            raise Cancelled()
        return row, stored

    def _post(self, client: RelayClient, row: UploadRow, ticket: StoredTicket,
              token: CancelToken) -> None:
        book = self._book
        started = time.monotonic()
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if done < total and now - last[0] < 0.05:
                return
            last[0] = now
            with book.lock:
                current = book.get(row.id)
                if current is not None and current.state is UploadState.UPLOADING:
                    book.set(current, bytes_sent=done,
                             speed_bps=done / max(now - started, 1e-3))

        post_to_storage(client.session, ticket.upload_url, ticket.fields, row.path,
                        timeout=client.timeout, content_type=row.content_type,
                        progress=progress, cancel=token)
