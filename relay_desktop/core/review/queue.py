"""ReviewQueue: every detection of an inference job's files, with a decision each.

Items are keyed by ``(file_id, detection index)``. The queue is ordered by
confidence (highest first) or by time (file, then start) and filtered by a
confidence threshold; the cursor is a key, so it survives re-sorting and
filtering. Every decision (accept, reject, relabel, nudge) is one undo step.
What the queue holds serialises to a small JSON mapping (only decided or
edited items) for :class:`~relay_desktop.core.review.store.ReviewStore`.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from relay_desktop.api.models import Detection, InferenceJob

PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"
DECISIONS = (PENDING, ACCEPTED, REJECTED)
ORDERS = ("confidence", "time")
Key = tuple[str, int]


@dataclass(frozen=True)
class ReviewItem:
    """One detection under review, with the reviewer's decision and edits.

    ``artifact_type``/``start_ms``/``end_ms`` are the reviewed values (relabelled,
    nudged); ``region_id`` is the local id of the region an accept made (kept after
    an undo, so a redo of the same accept reuses it).
    """

    file_id: str
    index: int
    detection: Detection
    decision: str = PENDING
    artifact_type: str = ""
    start_ms: int = 0
    end_ms: int = 0
    region_id: str = ""

    @classmethod
    def of(cls, file_id: str, index: int, detection: Detection) -> ReviewItem:
        return cls(file_id, index, detection, PENDING, detection.artifact_type,
                   detection.start_ms, detection.end_ms)

    @property
    def key(self) -> Key:
        return (self.file_id, self.index)

    @property
    def confidence(self) -> float:
        return self.detection.confidence

    @property
    def edited(self) -> bool:
        d = self.detection
        return (self.artifact_type, self.start_ms, self.end_ms) != (
            d.artifact_type, d.start_ms, d.end_ms)

    def to_json(self) -> dict[str, Any]:
        return {"file_id": self.file_id, "index": self.index, "decision": self.decision,
                "artifact_type": self.artifact_type, "start_ms": self.start_ms,
                "end_ms": self.end_ms, "region_id": self.region_id}


@dataclass(frozen=True)
class UndoStep:
    """What one action changed: the item before and after, and the cursor before."""

    label: str
    before: ReviewItem
    after: ReviewItem
    cursor: Key | None


@dataclass(frozen=True)
class Progress:
    """Counts over the items that pass the threshold."""

    total: int
    pending: int
    accepted: int
    rejected: int

    @property
    def decided(self) -> int:
        return self.accepted + self.rejected

    def text(self) -> str:
        return (f"{self.decided} of {self.total} reviewed · {self.accepted} accepted · "
                f"{self.rejected} rejected")


class ReviewQueue:
    """The detections of one inference job under review (see the module doc)."""

    def __init__(self, items: Iterable[ReviewItem] = (), *, order: str = "confidence",
                 threshold: float = 0.0) -> None:
        self._items: dict[Key, ReviewItem] = {i.key: i for i in items}
        self._order = order if order in ORDERS else "confidence"
        self._threshold = float(threshold)
        self._view: list[Key] = []
        self._pos: dict[Key, int] = {}
        self._cursor: Key | None = None
        self._undo: list[UndoStep] = []
        self._rebuild()

    @classmethod
    def from_files(cls, files: Iterable[tuple[str, Sequence[Detection]]],
                   **kwargs: Any) -> ReviewQueue:
        """A queue over ``(file_id, detections)`` pairs."""
        return cls((ReviewItem.of(fid, i, d) for fid, dets in files
                    for i, d in enumerate(dets)), **kwargs)

    @classmethod
    def from_job(cls, job: InferenceJob, **kwargs: Any) -> ReviewQueue:
        """A queue over the detections of a job fetched with its files."""
        return cls.from_files(((f.id, f.detections or ()) for f in job.files), **kwargs)

    # -- order, filter, cursor ---------------------------------------------------------
    def _sort_key(self, item: ReviewItem) -> tuple[Any, ...]:
        if self._order == "confidence":
            return (-item.confidence, item.file_id, item.detection.start_ms, item.index)
        return (item.file_id, item.detection.start_ms, item.index)

    def _rebuild(self) -> None:
        kept = [i for i in self._items.values() if i.confidence >= self._threshold]
        kept.sort(key=self._sort_key)
        self._view = [i.key for i in kept]
        self._pos = {k: n for n, k in enumerate(self._view)}
        if self._cursor is not None and self._cursor not in self._pos:
            self._cursor = self._nearest_visible(self._cursor)
        if self._cursor is None and self._view:
            self._cursor = self._view[0]

    def _nearest_visible(self, key: Key) -> Key | None:
        """The first visible item at or after where ``key`` would sort (else the last)."""
        if not self._view or key not in self._items:
            return self._view[0] if self._view else None
        sort_keys = [self._sort_key(self._items[k]) for k in self._view]
        n = bisect.bisect_left(sort_keys, self._sort_key(self._items[key]))
        return self._view[min(n, len(self._view) - 1)]

    @property
    def order(self) -> str:
        return self._order

    def set_order(self, order: str) -> None:
        if order not in ORDERS:
            raise ValueError(f"unknown order {order!r}")
        if order != self._order:
            self._order = order
            self._rebuild()

    @property
    def threshold(self) -> float:
        return self._threshold

    def set_threshold(self, threshold: float) -> None:
        """Show only items with at least this confidence (the cursor moves to the nearest)."""
        if float(threshold) != self._threshold:
            self._threshold = float(threshold)
            self._rebuild()

    def __len__(self) -> int:
        return len(self._view)

    def total(self) -> int:
        """Every item, whatever the threshold."""
        return len(self._items)

    def ordered_keys(self) -> list[Key]:
        """The visible items' keys in order."""
        return list(self._view)

    def at(self, row: int) -> ReviewItem:
        return self._items[self._view[row]]

    def item(self, key: Key) -> ReviewItem:
        return self._items[key]

    def get(self, key: Key) -> ReviewItem | None:
        return self._items.get(key)

    def row_of(self, key: Key) -> int | None:
        return self._pos.get(key)

    def items_of_file(self, file_id: str) -> list[ReviewItem]:
        """All items of one file (any threshold), by start."""
        return sorted((i for i in self._items.values() if i.file_id == file_id),
                      key=lambda i: (i.detection.start_ms, i.index))

    def next_file_after(self, key: Key | None) -> str | None:
        """The file of the first visible item after ``key`` that is in another file
        (the file a reviewer reaches next going down the queue); None when none is."""
        row = self._pos.get(key) if key is not None else None
        if row is None:
            return None
        here = self._items[self._view[row]].file_id
        for other in self._view[row + 1:]:
            file_id = self._items[other].file_id
            if file_id != here:
                return file_id
        return None

    @property
    def cursor(self) -> Key | None:
        return self._cursor

    def current(self) -> ReviewItem | None:
        return self._items[self._cursor] if self._cursor is not None else None

    def set_cursor(self, key: Key | None) -> bool:
        """Point at ``key`` (a visible item); False when it is not one."""
        if key is None or key not in self._pos:
            return False
        self._cursor = key
        return True

    def move(self, step: int) -> ReviewItem | None:
        """Step through the visible items (clamped); the new current item."""
        if not self._view:
            return None
        row = self._pos.get(self._cursor, 0) if self._cursor is not None else 0
        self._cursor = self._view[max(0, min(len(self._view) - 1, row + step))]
        return self.current()

    def next_pending(self, step: int = 1, *, wrap: bool = True) -> ReviewItem | None:
        """Move to the next (``step`` 1) or previous (-1) pending item after the cursor.

        Returns None (the cursor stays) when there is no other pending item.
        """
        n = len(self._view)
        if not n:
            return None
        row = self._pos.get(self._cursor, -1 if step > 0 else n) if self._cursor else (
            -1 if step > 0 else n)
        for i in range(1, n + 1):
            r = row + step * i
            if wrap:
                r %= n
            elif not 0 <= r < n:
                return None
            key = self._view[r]
            if self._items[key].decision == PENDING and key != self._cursor:
                self._cursor = key
                return self._items[key]
        return None

    def first_pending(self) -> ReviewItem | None:
        """Move to the first pending item in order (None when all are decided)."""
        for key in self._view:
            if self._items[key].decision == PENDING:
                self._cursor = key
                return self._items[key]
        return None

    # -- decisions ---------------------------------------------------------------------
    def _change(self, label: str, key: Key | None, **changes: Any) -> UndoStep | None:
        key = key if key is not None else self._cursor
        if key is None or key not in self._items:
            return None
        before = self._items[key]
        after = replace(before, **changes)
        if after == before:
            return None
        self._items[key] = after
        step = UndoStep(label, before, after, self._cursor)
        self._undo.append(step)
        return step

    def accept(self, key: Key | None = None, region_id: str = "") -> UndoStep | None:
        item = self._items.get(key if key is not None else self._cursor or ("", -1))
        rid = region_id or (item.region_id if item else "")
        return self._change("Accept", key, decision=ACCEPTED, region_id=rid)

    def reject(self, key: Key | None = None) -> UndoStep | None:
        return self._change("Reject", key, decision=REJECTED)

    def reset(self, key: Key | None = None) -> UndoStep | None:
        """Make the item pending again."""
        return self._change("Reset", key, decision=PENDING)

    def relabel(self, artifact_type: str, key: Key | None = None) -> UndoStep | None:
        return self._change("Relabel", key, artifact_type=str(artifact_type))

    def nudge(self, edge: str, delta_ms: int, key: Key | None = None, *,
              duration_ms: int | None = None, min_length_ms: int = 1) -> UndoStep | None:
        """Move the ``"start"`` or ``"end"`` edge by ``delta_ms`` (kept inside the file
        and at least ``min_length_ms`` long)."""
        key = key if key is not None else self._cursor
        item = self._items.get(key) if key is not None else None
        if item is None:
            return None
        hi = duration_ms if duration_ms is not None else 1 << 62
        if edge == "start":
            start = max(0, min(item.start_ms + int(delta_ms), item.end_ms - min_length_ms))
            return self._change("Nudge", key, start_ms=start)
        if edge == "end":
            end = min(hi, max(item.end_ms + int(delta_ms), item.start_ms + min_length_ms))
            return self._change("Nudge", key, end_ms=end)
        raise ValueError(f"unknown edge {edge!r}")

    def set_region_id(self, key: Key, region_id: str) -> None:
        """Record the region an accept made (not an undo step)."""
        item = self._items.get(key)
        if item is not None:
            self._items[key] = replace(item, region_id=region_id)

    def can_undo(self) -> bool:
        return bool(self._undo)

    def undo(self) -> UndoStep | None:
        """Revert the last action (the cursor goes back to where it was); the step undone.

        The item keeps its ``region_id`` so the caller can remove that region.
        """
        if not self._undo:
            return None
        step = self._undo.pop()
        current = self._items[step.after.key]
        self._items[step.after.key] = replace(step.before, region_id=current.region_id)
        if step.cursor is not None and step.cursor in self._pos:
            self._cursor = step.cursor
        elif step.after.key in self._pos:
            self._cursor = step.after.key
        return step

    # -- progress and persistence ------------------------------------------------------
    def progress(self) -> Progress:
        counts = dict.fromkeys(DECISIONS, 0)
        for key in self._view:
            counts[self._items[key].decision] += 1
        return Progress(len(self._view), counts[PENDING], counts[ACCEPTED], counts[REJECTED])

    def to_json(self) -> dict[str, Any]:
        """The decided or edited items, the cursor, order and threshold."""
        return {
            "order": self._order,
            "threshold": self._threshold,
            "cursor": list(self._cursor) if self._cursor is not None else None,
            "items": [i.to_json() for i in self._items.values()
                      if i.decision != PENDING or i.edited or i.region_id],
        }

    def restore(self, data: Mapping[str, Any] | None) -> int:
        """Apply what :meth:`to_json` wrote (unknown items are skipped); how many applied."""
        if not data:
            return 0
        applied = 0
        for raw in data.get("items") or ():
            try:
                key = (str(raw["file_id"]), int(raw["index"]))
            except (KeyError, TypeError, ValueError):
                continue
            item = self._items.get(key)
            decision = str(raw.get("decision", PENDING))
            if item is None or decision not in DECISIONS:
                continue
            self._items[key] = replace(
                item, decision=decision,
                artifact_type=str(raw.get("artifact_type") or item.artifact_type),
                start_ms=int(raw.get("start_ms", item.start_ms)),
                end_ms=int(raw.get("end_ms", item.end_ms)),
                region_id=str(raw.get("region_id") or ""))
            applied += 1
        order = data.get("order")
        if order in ORDERS:
            self._order = str(order)
        threshold = data.get("threshold")
        if isinstance(threshold, (int, float)):
            self._threshold = float(threshold)
        cursor = data.get("cursor")
        self._rebuild()
        if isinstance(cursor, list) and len(cursor) == 2:
            key = (str(cursor[0]), int(cursor[1]))
            if key in self._pos:
                self._cursor = key
        return applied
