"""Pending edits to API operations.

The journal keeps, per region, the latest local state (with a revision that
grows on every edit) and what the server is known to hold. Comparing the two
coalesces any number of edits of one region into at most one operation: a
region created and then moved ten times is one create; created then deleted
before a sync is nothing at all; a synced region moved ten times is one PATCH
of the fields that differ.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from relay_desktop.core.annotations.document import FIELD_DEFAULTS, REGION_FIELDS, Region

CLIENT_ID_KEY = "client_id"
NOTE_KEY = "note"
#: the server's other ``extra_data`` keys (e.g. ``copied_from``), kept so a PATCH keeps them
EXTRA_KEY = "extra"


@dataclass(frozen=True)
class LocalEntry:
    """The latest local state of a region (``None`` once deleted) and its revision."""

    local_id: str
    region: Region | None
    rev: int


@dataclass(frozen=True)
class RemoteEntry:
    """What the server holds for a region, as far as the journal knows."""

    local_id: str
    server_id: str | None
    fields: Mapping[str, Any] | None
    synced_rev: int = 0
    rejected_rev: int = -1


@dataclass(frozen=True)
class Operation:
    """One request to make: ``create``, ``update``, ``delete`` or ``forget`` (nothing to send)."""

    kind: str
    local_id: str
    rev: int
    server_id: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    """The operations of one set, grouped by kind."""

    creates: list[Operation] = field(default_factory=list)
    updates: list[Operation] = field(default_factory=list)
    deletes: list[Operation] = field(default_factory=list)
    forgets: list[Operation] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.creates) + len(self.updates) + len(self.deletes) + len(self.forgets)

    @property
    def requests_needed(self) -> int:
        return (1 if self.creates else 0) + len(self.updates) + len(self.deletes)


def extra_data(local_id: str, note: str) -> dict[str, Any]:
    """The ``extra_data`` of a region: its local id, and its note when it has one."""
    return {CLIENT_ID_KEY: local_id, **({NOTE_KEY: note} if note else {})}


def create_payload(region: Region) -> dict[str, Any]:
    """The body of a create, carrying the local id so a lost response can be reconciled."""
    body = region.fields()
    body["extra_data"] = extra_data(region.local_id, body.pop(NOTE_KEY))
    return body


def update_payload(local_id: str, changes: Mapping[str, Any],
                   extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A PATCH body for ``changes``; a changed note is sent as the whole ``extra_data``,
    keeping the server's other keys (``extra``) since a PATCH replaces the object."""
    body = dict(changes)
    if NOTE_KEY in body:
        body["extra_data"] = {**(extra or {}), **extra_data(local_id, body.pop(NOTE_KEY))}
    return body


def changed_fields(before: Mapping[str, Any] | None, region: Region) -> dict[str, Any]:
    now = region.fields()
    if before is None:
        return now
    return {k: v for k, v in now.items() if before.get(k, FIELD_DEFAULTS.get(k)) != v}


def diff(local: Iterable[LocalEntry], remote: Mapping[str, RemoteEntry]) -> Plan:
    """The operations that bring the server to the local state."""
    plan = Plan()
    for entry in local:
        known = remote.get(entry.local_id)
        synced = known.synced_rev if known else -1
        if entry.rev <= synced:
            continue
        if known is not None and entry.rev == known.rejected_rev:
            continue
        server_id = known.server_id if known else None
        if entry.region is None:
            kind = "delete" if server_id else "forget"
            op = Operation(kind, entry.local_id, entry.rev, server_id)
            (plan.deletes if server_id else plan.forgets).append(op)
        elif server_id is None:
            plan.creates.append(Operation("create", entry.local_id, entry.rev, None,
                                          create_payload(entry.region)))
        else:
            changes = changed_fields(known.fields if known else None, entry.region)
            if changes:
                extra = (known.fields or {}).get(EXTRA_KEY) if known else None
                plan.updates.append(Operation("update", entry.local_id, entry.rev, server_id,
                                              update_payload(entry.local_id, changes, extra)))
            else:
                plan.forgets.append(Operation("forget", entry.local_id, entry.rev, server_id))
    return plan


def fields_of(data: Mapping[str, Any]) -> dict[str, Any]:
    """The synced fields of an annotation-like mapping (and the server's other extra keys)."""
    return {k: data[k] for k in (*REGION_FIELDS, EXTRA_KEY) if k in data}
