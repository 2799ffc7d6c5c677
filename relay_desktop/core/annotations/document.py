"""The annotation document: the regions of one annotation set, keyed by a local id.

A region keeps its local id for life; the server id is learned when the sync
has created it and is kept by the journal, not by the region (an undone delete
re-creates a region that the server may already have forgotten).
"""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

REGION_FIELDS = ("audio_file_id", "artifact_type", "start_ms", "end_ms", "confidence", "note")
#: synced fields an older journal or server row may lack, with the value they then have
FIELD_DEFAULTS: dict[str, Any] = {"confidence": 1.0, "note": ""}


def new_local_id() -> str:
    """A fresh client-generated id (also sent to the server as ``extra_data.client_id``)."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Region:
    """One labelled span of one audio file, in integer milliseconds, with an optional note.

    The note is stored on the server in the annotation's ``extra_data.note``.
    """

    local_id: str
    audio_file_id: str
    artifact_type: str
    start_ms: int
    end_ms: int
    confidence: float = 1.0
    note: str = ""

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms

    def fields(self) -> dict[str, Any]:
        """The synced fields (everything but the local id)."""
        return {name: getattr(self, name) for name in REGION_FIELDS}

    def with_fields(self, **changes: Any) -> Region:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Region:
        return cls(
            local_id=str(data["local_id"]),
            audio_file_id=str(data["audio_file_id"]),
            artifact_type=str(data["artifact_type"]),
            start_ms=int(data["start_ms"]),
            end_ms=int(data["end_ms"]),
            confidence=float(data.get("confidence", 1.0)),
            note=str(data.get("note") or ""),
        )


@dataclass(frozen=True)
class DocumentChange:
    """What one edit did: ids added, removed and changed (with the old regions)."""

    added: tuple[str, ...] = ()
    removed: tuple[Region, ...] = ()
    changed: tuple[tuple[Region, Region], ...] = ()

    @property
    def touched_ids(self) -> set[str]:
        ids = set(self.added) | {r.local_id for r in self.removed}
        return ids | {new.local_id for _, new in self.changed}


@dataclass
class ArtifactTypeInfo:
    """A dataset's artifact type as the editor needs it."""

    name: str
    color: str = "#FF0000"
    description: str | None = None


@dataclass
class AnnotationDocument:
    """All regions of one annotation set, with change listeners.

    ``durations_ms`` maps audio file ids to their duration (when known) and
    ``artifact_types`` lists the dataset's types in display order.
    """

    dataset_id: str
    set_id: str
    artifact_types: list[ArtifactTypeInfo] = field(default_factory=list)
    durations_ms: dict[str, int | None] = field(default_factory=dict)
    filenames: dict[str, str] = field(default_factory=dict)
    read_only: bool = False
    _regions: dict[str, Region] = field(default_factory=dict)
    _by_file: dict[str, list[tuple[int, str]]] | None = None
    _longest_ms: dict[str, int] = field(default_factory=dict)  # per file, with _by_file
    _listeners: list[Callable[[DocumentChange], None]] = field(default_factory=list)

    # -- queries -------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._regions)

    def __contains__(self, local_id: object) -> bool:
        return local_id in self._regions

    def __iter__(self) -> Iterator[Region]:
        return iter(list(self._regions.values()))

    def get(self, local_id: str) -> Region | None:
        return self._regions.get(local_id)

    def region(self, local_id: str) -> Region:
        try:
            return self._regions[local_id]
        except KeyError:
            raise KeyError(f"no region {local_id!r} in this set") from None

    def type_names(self) -> list[str]:
        return [t.name for t in self.artifact_types]

    def color_of(self, artifact_type: str) -> str:
        for t in self.artifact_types:
            if t.name == artifact_type:
                return t.color
        return "#808080"

    def _index(self) -> dict[str, list[tuple[int, str]]]:
        if self._by_file is None:
            index: dict[str, list[tuple[int, str]]] = {}
            for r in self._regions.values():
                index.setdefault(r.audio_file_id, []).append((r.start_ms, r.local_id))
            for entries in index.values():
                entries.sort()
            self._by_file = index
        return self._by_file

    def regions_of_file(self, audio_file_id: str) -> list[Region]:
        """The file's regions sorted by start (then id)."""
        return [self._regions[i] for _, i in self._index().get(audio_file_id, [])]

    def regions_in_range(self, audio_file_id: str, start_ms: float,
                         end_ms: float) -> list[Region]:
        """Regions of a file that overlap ``[start_ms, end_ms]``."""
        entries = self._index().get(audio_file_id, [])
        if not entries:
            return []
        longest = self._longest(audio_file_id)
        lo = bisect.bisect_left(entries, (int(start_ms) - longest - 1, ""))
        hi = bisect.bisect_right(entries, (int(end_ms) + 1, "\uffff"))
        out = []
        for _, local_id in entries[lo:hi]:
            r = self._regions[local_id]
            if r.end_ms >= start_ms and r.start_ms <= end_ms:
                out.append(r)
        return out

    def _longest(self, audio_file_id: str) -> int:
        """The file's longest region (cached until the next change: every draw asks)."""
        self._index()  # a change drops both caches
        longest = self._longest_ms.get(audio_file_id)
        if longest is None:
            longest = max((r.duration_ms for r in self.regions_of_file(audio_file_id)),
                          default=0)
            self._longest_ms[audio_file_id] = longest
        return longest

    def regions_at(self, audio_file_id: str, ms: float) -> list[Region]:
        """The stack of regions under a position, in start order."""
        return [r for r in self.regions_in_range(audio_file_id, ms, ms)
                if r.start_ms <= ms <= r.end_ms]

    def files_with_regions(self) -> set[str]:
        return {r.audio_file_id for r in self._regions.values()}

    # -- listeners -----------------------------------------------------------
    def subscribe(self, listener: Callable[[DocumentChange], None]) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[DocumentChange], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _notify(self, change: DocumentChange) -> None:
        self._by_file = None
        self._longest_ms.clear()
        for listener in list(self._listeners):
            listener(change)

    # -- mutations (used by commands and by loading) ---------------------------
    def load(self, regions: Iterable[Region]) -> None:
        """Replace every region (no undo step)."""
        removed = tuple(self._regions.values())
        self._regions = {r.local_id: r for r in regions}
        self._notify(DocumentChange(added=tuple(self._regions), removed=removed))

    def insert(self, regions: Iterable[Region]) -> DocumentChange:
        regions = list(regions)
        for r in regions:
            if r.local_id in self._regions:
                raise ValueError(f"region {r.local_id!r} already exists")
        for r in regions:
            self._regions[r.local_id] = r
        change = DocumentChange(added=tuple(r.local_id for r in regions))
        self._notify(change)
        return change

    def remove(self, local_ids: Iterable[str]) -> DocumentChange:
        removed = tuple(self._regions.pop(i) for i in list(local_ids) if i in self._regions)
        change = DocumentChange(removed=removed)
        self._notify(change)
        return change

    def replace(self, regions: Iterable[Region]) -> DocumentChange:
        pairs = []
        for new in regions:
            old = self.region(new.local_id)
            self._regions[new.local_id] = new
            pairs.append((old, new))
        change = DocumentChange(changed=tuple(pairs))
        self._notify(change)
        return change
