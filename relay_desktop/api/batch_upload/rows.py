"""Value types of an upload queue: row state, target, one row, and queue totals.

Immutable and Qt-free. They live in the api package because the upload engine
(shared by the CLI and the desktop) produces them; ``relay_desktop.core.uploads``
re-exports them for the desktop.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

TargetKind = Literal["dataset", "inference_job"]


class UploadState(StrEnum):
    """Where one queued file stands."""

    SCANNING = "scanning"       # being probed and hashed
    WAITING = "waiting"         # valid, queued for a lane
    DUPLICATE = "duplicate"     # awaiting the user's choice: skip or upload anyway
    UPLOADING = "uploading"     # bytes going to the storage host
    CONFIRMING = "confirming"   # bytes stored, confirm call in flight
    PROCESSING = "processing"   # confirmed; the server is processing it
    READY = "ready"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    PAUSED = "paused"

    @property
    def is_terminal(self) -> bool:
        """True when nothing more happens to the row without a user action (retry)."""
        return self in _TERMINAL

    @property
    def is_active(self) -> bool:
        """True while a lane is working on the row (bytes or API calls in flight)."""
        return self in _ACTIVE

    @property
    def is_done(self) -> bool:
        """True once the file is on the server (confirmed): processing or ready."""
        return self in (UploadState.PROCESSING, UploadState.READY)


_TERMINAL = frozenset({UploadState.READY, UploadState.FAILED, UploadState.SKIPPED,
                       UploadState.CANCELLED})
_ACTIVE = frozenset({UploadState.UPLOADING, UploadState.CONFIRMING})


@dataclass(frozen=True)
class UploadTarget:
    """Where files go: a dataset or an inference job."""

    kind: TargetKind
    id: str
    name: str = ""

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "id": self.id, "name": self.name}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UploadTarget:
        kind = data["kind"]
        if kind not in ("dataset", "inference_job"):
            raise ValueError(f"unknown upload target kind {kind!r}")
        return cls(kind, str(data["id"]), str(data.get("name", "")))


def new_row_id() -> str:
    """A fresh local row id."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class UploadRow:
    """One file in the upload queue, as the GUI shows it."""

    id: str
    path: Path
    target: UploadTarget
    size: int
    state: UploadState
    reason: str = ""            # why failed/skipped/duplicate, in words a person reads
    bytes_sent: int = 0
    speed_bps: float = 0.0
    content_type: str = ""
    sha256: str = ""
    remote_id: str = ""         # audio_file_id or inference file_id
    duplicate_of: str = ""      # "already in the dataset as X.wav" or the queued row's id

    @property
    def filename(self) -> str:
        return self.path.name

    @property
    def fraction(self) -> float:
        """Share of the file's bytes sent, 0..1 (1 once the file is on the server)."""
        if self.state.is_done:
            return 1.0
        return min(1.0, self.bytes_sent / self.size) if self.size > 0 else 0.0

    def with_(self, **changes: Any) -> UploadRow:
        """A copy with the given fields changed."""
        return replace(self, **changes)


@dataclass(frozen=True)
class UploadTotals:
    """The queue as a whole, for the status bar."""

    files_total: int
    files_done: int
    files_failed: int
    bytes_total: int
    bytes_sent: int
    speed_bps: float
    eta_s: float | None
    active: int
    paused: bool

    @property
    def fraction(self) -> float:
        return min(1.0, self.bytes_sent / self.bytes_total) if self.bytes_total > 0 else 0.0

    @classmethod
    def empty(cls, paused: bool = False) -> UploadTotals:
        return cls(0, 0, 0, 0, 0, 0.0, None, 0, paused)


_COUNTED_OUT = frozenset({UploadState.SKIPPED, UploadState.CANCELLED, UploadState.DUPLICATE})


def compute_totals(rows: list[UploadRow] | tuple[UploadRow, ...], paused: bool) -> UploadTotals:
    """Totals over rows; skipped, cancelled and undecided duplicate rows are left out."""
    counted = [r for r in rows if r.state not in _COUNTED_OUT]
    bytes_total = sum(r.size for r in counted)
    bytes_sent = sum(r.size if r.state.is_done else min(r.bytes_sent, r.size) for r in counted)
    speed = sum(r.speed_bps for r in counted if r.state.is_active)
    remaining = bytes_total - bytes_sent
    eta = remaining / speed if speed > 0 else None
    return UploadTotals(
        files_total=len(counted),
        files_done=sum(1 for r in counted if r.state.is_done),
        files_failed=sum(1 for r in counted if r.state is UploadState.FAILED),
        bytes_total=bytes_total, bytes_sent=bytes_sent, speed_bps=speed, eta_s=eta,
        active=sum(1 for r in counted if r.state.is_active), paused=paused)


class TotalsCounter:
    """:func:`compute_totals` kept up to date row by row, so reading it costs O(1).

    Call :meth:`add` with +1 for a row entering (or a row's new version) and -1 for a
    row leaving (or its old version). Not thread-safe: the owner holds its own lock.
    """

    def __init__(self) -> None:
        self.files_total = self.files_done = self.files_failed = self.active = 0
        self.bytes_total = self.bytes_sent = 0
        self.speed_bps = 0.0

    def add(self, row: UploadRow, sign: int) -> None:
        if row.state in _COUNTED_OUT:
            return
        done = row.state.is_done
        self.files_total += sign
        self.bytes_total += sign * row.size
        self.bytes_sent += sign * (row.size if done else min(row.bytes_sent, row.size))
        if done:
            self.files_done += sign
        elif row.state is UploadState.FAILED:
            self.files_failed += sign
        elif row.state.is_active:
            self.active += sign
            self.speed_bps += sign * row.speed_bps
            if self.active == 0:
                self.speed_bps = 0.0   # no drift left over from float sums

    def totals(self, paused: bool) -> UploadTotals:
        speed = max(0.0, self.speed_bps)
        remaining = self.bytes_total - self.bytes_sent
        return UploadTotals(
            files_total=self.files_total, files_done=self.files_done,
            files_failed=self.files_failed, bytes_total=self.bytes_total,
            bytes_sent=self.bytes_sent, speed_bps=speed,
            eta_s=remaining / speed if speed > 0 else None, active=self.active, paused=paused)
