"""Journal-to-server delay of annotation edits, read from the requests a proxy saw.

Qt-free helper of the ``annotation_sync`` benchmark. Each edit is an
:class:`EditRecord` (which region, its fields after the edit, when it was made
and when the journal write returned). :func:`match_edits` replays the
requests recorded by ``tests.support.fault_proxy.FaultProxy`` (with
``keep_bodies=True``) in the order the server answered them, tracking the
server's copy of each region from the bodies: a bulk create (request and
answer, by ``extra_data.client_id``), a PATCH answer, a DELETE. An edit is on
the server when an answer leaves the server's copy equal to the region after
that edit or after a later edit of the same region made before that request
started; its delay is that answer's time minus the edit's journal time. So
nothing here relies on the code under test reporting what it sent. (An edit
that puts a region back as the server has it needs no request and shows as
unmatched: the benchmark's edits never repeat a region's state.)
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

COMPARED = ("audio_file_id", "artifact_type", "start_ms", "end_ms")
"""The fields an edit is compared on (the ones the benchmark changes)."""


class ProxyExchange(Protocol):
    """What :func:`match_edits` reads of a ``FaultProxy`` exchange."""

    method: str
    path: str
    started: float
    upstream_status: int | None
    upstream_answered: float
    request_body: bytes
    response_body: bytes


@dataclass
class EditRecord:
    """One edit of one region: its fields afterwards (None: deleted) and its times."""

    local_id: str
    kind: str
    fields: dict[str, Any] | None
    made: float
    journaled: float = 0.0
    on_server: float | None = None

    @property
    def delay_s(self) -> float | None:
        """Seconds from the journal write to the server's answer carrying it."""
        return None if self.on_server is None else self.on_server - self.journaled


@dataclass
class SyncReport:
    """What the replay found: delays of the edits, and requests that changed nothing."""

    delays_s: list[float] = field(default_factory=list)
    never_sent: int = 0        # drawn and deleted before any sync: rightly never sent
    unmatched: int = 0         # edits no request carried (a lost edit, or a wrong match)
    redundant_requests: int = 0  # creates of known regions, updates that changed nothing
    unknown_targets: int = 0   # PATCH/DELETE of an id no bulk answer named

    def summary(self) -> dict[str, Any]:
        ms = sorted(d * 1000 for d in self.delays_s)
        return {"delay_p50_ms": _round(percentile(ms, 50)),
                "delay_p95_ms": _round(percentile(ms, 95)),
                "delay_max_ms": _round(ms[-1] if ms else math.nan),
                "edits_matched": len(ms), "edits_never_sent": self.never_sent,
                "edits_unmatched": self.unmatched,
                "redundant_requests": self.redundant_requests,
                "unknown_targets": self.unknown_targets}


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values (NaN when empty)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def _round(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 1)


def compared(fields: Mapping[str, Any] | None) -> tuple[Any, ...] | None:
    return None if fields is None else tuple(fields.get(k) for k in COMPARED)


def _json(body: bytes) -> Any:
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    return json.loads(body) if body else None


def _server_copies(exchange: ProxyExchange, server_ids: dict[str, str],
                   copies: dict[str, tuple[Any, ...] | None], report: SyncReport) -> list[str]:
    """Apply one answered request to the server's copies; the local ids it touched."""
    method, last = exchange.method, exchange.path.rstrip("/").rsplit("/", 1)[-1]
    if method == "POST" and last == "bulk":
        touched = []
        for ann in (_json(exchange.response_body) or {}).get("annotations") or ():
            local_id = (ann.get("extra_data") or {}).get("client_id")
            if not local_id:
                continue
            if copies.get(local_id) is not None:
                report.redundant_requests += 1   # created twice
            server_ids[ann["id"]] = local_id
            copies[local_id] = compared(ann)
            touched.append(local_id)
        return touched
    if method not in ("PATCH", "DELETE"):
        return []
    local_id = server_ids.get(last)
    if local_id is None:
        report.unknown_targets += 1
        return []
    before = copies.get(local_id)
    copies[local_id] = compared(_json(exchange.response_body)) if method == "PATCH" else None
    if copies[local_id] == before:
        report.redundant_requests += 1
    return [local_id]


def _answered(exchange: ProxyExchange) -> bool:
    status = exchange.upstream_status
    if status is None or not exchange.upstream_answered:
        return False
    return status < 300 or (exchange.method == "DELETE" and status == 404)


def match_edits(edits: Iterable[EditRecord], exchanges: Iterable[ProxyExchange]) -> SyncReport:
    """Set each edit's ``on_server`` from ``exchanges``; report the delays found."""
    by_region: dict[str, list[EditRecord]] = {}
    for edit in edits:
        by_region.setdefault(edit.local_id, []).append(edit)
    report = SyncReport()
    server_ids: dict[str, str] = {}
    copies: dict[str, tuple[Any, ...] | None] = {}
    seen: set[str] = set()
    for exchange in sorted((e for e in exchanges if _answered(e)),
                           key=lambda e: e.upstream_answered):
        for local_id in _server_copies(exchange, server_ids, copies, report):
            seen.add(local_id)
            history = by_region.get(local_id, [])
            newest = max((i for i, e in enumerate(history)
                          if e.made <= exchange.started and compared(e.fields)
                          == copies[local_id]), default=-1)
            for edit in history[:newest + 1]:
                if edit.on_server is None:
                    edit.on_server = exchange.upstream_answered
    for local_id, history in by_region.items():
        for edit in history:
            if edit.on_server is not None:
                report.delays_s.append(edit.on_server - edit.journaled)
            elif local_id not in seen and history[-1].fields is None:
                report.never_sent += 1
            else:
                report.unmatched += 1
    return report
