"""One sync pass of one set: the journal's plan sent with a ``RelayClient`` (Qt-free).

Runs on the API thread. Creates go in bulk; before they are sent the journal
marks them in flight, and a pass that finds creates in flight (a response was
lost: timeout, dropped connection, killed app) first reads the set back and
matches annotations by ``extra_data.client_id``, so nothing is created twice.
Updates and deletes are naturally idempotent (a delete answered 404 is done).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from relay_desktop.api import errors
from relay_desktop.core.annotations.diff import CLIENT_ID_KEY, Operation
from relay_desktop.core.journal import Journal, ServerAnnotation

if TYPE_CHECKING:
    from relay_desktop.api import CancelToken, RelayClient

BULK_LIMIT = 500


class SetLocked(Exception):
    """The set cannot take edits any more (published elsewhere, or deleted)."""

    def __init__(self, message: str, *, deleted: bool = False) -> None:
        super().__init__(message)
        self.deleted = deleted


@dataclass
class PushResult:
    """What one pass did."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    reconciled: int = 0
    requests: int = 0
    rejected: dict[str, str] = field(default_factory=dict)
    remaining: int = 0


def published_message(exc: BaseException | None = None) -> str:
    base = ("This annotation set was published (perhaps by someone else or on another "
            "computer) and can no longer be changed. Your edits are kept on this computer: "
            "move them into a new draft to keep working.")
    detail = str(exc) if exc else ""
    return f"{base} (Server said: {detail})" if detail else base


def is_locked_error(exc: BaseException) -> bool:
    """A refusal because the set is published (409, or 400/403 that says so)."""
    if isinstance(exc, errors.Conflict):
        return True
    if isinstance(exc, (errors.BadRequest, errors.Forbidden)):
        return "publish" in str(exc).lower()
    return False


def _locked(exc: BaseException) -> SetLocked:
    return SetLocked(published_message(exc))


def _check(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled()


def read_back(client: RelayClient, dataset_id: str, set_id: str,
              cancel: CancelToken | None = None) -> list[ServerAnnotation]:
    try:
        detail = client.annotation_sets.get(dataset_id, set_id, cancel=cancel)
    except errors.NotFound as exc:
        raise SetLocked("This annotation set no longer exists on the server. Your edits are "
                        "kept on this computer: move them into a new draft.",
                        deleted=True) from exc
    return [ServerAnnotation.from_api(a) for a in detail.annotations]


def push_set(client: RelayClient, journal: Journal, dataset_id: str, set_id: str, *,
             cancel: CancelToken | None = None, bulk_limit: int = BULK_LIMIT) -> PushResult:
    """Send every pending edit of ``set_id``; raises the client's errors on failure.

    Raises :class:`SetLocked` when the server refuses edits because the set is
    published or gone; anything already sent stays recorded in the journal.
    """
    result = PushResult()
    if journal.has_inflight(set_id):
        _check(cancel)
        result.reconciled = journal.reconcile_inflight(
            set_id, read_back(client, dataset_id, set_id, cancel))
        result.requests += 1
    plan = journal.plan(set_id)
    for op in plan.forgets:
        if op.server_id is None:
            journal.record_deleted(set_id, op.local_id, op.rev)
        else:
            journal.record_updated(set_id, op.local_id, op.rev,
                                   journal_region_fields(journal, set_id, op.local_id))
    for start in range(0, len(plan.creates), bulk_limit):
        _check(cancel)
        _create_chunk(client, journal, dataset_id, set_id, plan.creates[start:start + bulk_limit],
                      result, cancel)
    for op in plan.updates:
        _check(cancel)
        _update(client, journal, dataset_id, set_id, op, result, cancel)
    for op in plan.deletes:
        _check(cancel)
        try:
            client.annotations.delete(dataset_id, set_id, op.server_id or "", cancel=cancel)
        except errors.NotFound:
            pass
        except errors.ApiStatusError as exc:
            if is_locked_error(exc):
                raise _locked(exc) from exc
            raise
        finally:
            result.requests += 1
        journal.record_deleted(set_id, op.local_id, op.rev)
        result.deleted += 1
    result.remaining = journal.pending_count(set_id) - len(journal.rejected(set_id))
    return result


def journal_region_fields(journal: Journal, set_id: str, local_id: str) -> dict[str, Any]:
    for r in journal.local_regions(set_id):
        if r.local_id == local_id:
            return r.fields()
    return {}


def _created_by_client_id(annotations: Iterable[Any]) -> dict[str, ServerAnnotation]:
    out = {}
    for ann in annotations:
        sa = ServerAnnotation.from_api(ann)
        if sa.client_id:
            out[sa.client_id] = sa
    return out


def _create_chunk(client: RelayClient, journal: Journal, dataset_id: str, set_id: str,
                  ops: list[Operation], result: PushResult,
                  cancel: CancelToken | None = None) -> None:
    journal.mark_inflight(set_id, [(op.local_id, op.rev) for op in ops])
    try:
        result.requests += 1
        response = client.annotations.bulk_create(dataset_id, set_id,
                                                  [op.payload for op in ops], cancel=cancel)
    except errors.ValidationFailed:
        # one bad item may reject the batch: send one by one to isolate it
        journal.reconcile_inflight(set_id, [])
        for op in ops:
            _create_one(client, journal, dataset_id, set_id, op, result, cancel)
        return
    except errors.ApiStatusError as exc:
        if is_locked_error(exc):
            journal.reconcile_inflight(set_id, [])
            raise _locked(exc) from exc
        raise
    by_client = _created_by_client_id(response.annotations)
    created = []
    for i, op in enumerate(ops):
        ann = by_client.get(op.local_id)
        if ann is None and len(response.annotations) == len(ops):
            ann = ServerAnnotation.from_api(response.annotations[i])
        if ann is not None:
            created.append((op.local_id, op.rev, ann))
    journal.record_created(set_id, created)
    result.created += len(created)
    if len(created) < len(ops):
        # the answer did not account for every item: leave the rest in flight to reconcile
        pass


def _create_one(client: RelayClient, journal: Journal, dataset_id: str, set_id: str,
                op: Operation, result: PushResult, cancel: CancelToken | None = None) -> None:
    journal.mark_inflight(set_id, [(op.local_id, op.rev)])
    try:
        result.requests += 1
        ann = client.annotations.create(dataset_id, set_id, op.payload, cancel=cancel)
    except errors.ValidationFailed as exc:
        journal.reconcile_inflight(set_id, [])
        journal.record_rejected(set_id, op.local_id, op.rev, str(exc))
        result.rejected[op.local_id] = str(exc)
        return
    except errors.ApiStatusError as exc:
        if is_locked_error(exc):
            journal.reconcile_inflight(set_id, [])
            raise _locked(exc) from exc
        if isinstance(exc, errors.BadRequest):
            journal.reconcile_inflight(set_id, [])
            journal.record_rejected(set_id, op.local_id, op.rev, str(exc))
            result.rejected[op.local_id] = str(exc)
            return
        raise
    journal.record_created(set_id, [(op.local_id, op.rev, ServerAnnotation.from_api(ann))])
    result.created += 1


def _update(client: RelayClient, journal: Journal, dataset_id: str, set_id: str,
            op: Operation, result: PushResult, cancel: CancelToken | None = None) -> None:
    try:
        result.requests += 1
        ann = client.annotations.update(dataset_id, set_id, op.server_id or "", cancel=cancel,
                                        **op.payload)
    except errors.NotFound:
        journal.record_lost(set_id, op.local_id)  # deleted on the server: create it again
        return
    except (errors.ValidationFailed, errors.BadRequest) as exc:
        if is_locked_error(exc):
            raise _locked(exc) from exc
        journal.record_rejected(set_id, op.local_id, op.rev, str(exc))
        result.rejected[op.local_id] = str(exc)
        return
    except errors.ApiStatusError as exc:
        if is_locked_error(exc):
            raise _locked(exc) from exc
        raise
    journal.record_updated(set_id, op.local_id, op.rev, ServerAnnotation.from_api(ann).fields)
    result.updated += 1


__all__ = ["CLIENT_ID_KEY", "PushResult", "SetLocked", "is_locked_error", "push_set",
           "read_back"]
