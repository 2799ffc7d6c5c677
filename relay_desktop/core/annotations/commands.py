"""Reversible edit commands as plain data.

Each command applies itself to an :class:`AnnotationDocument` and knows its
inverse; the ui wraps them in ``QUndoCommand`` objects. ``merge_key`` lets
consecutive small edits of one region (keyboard nudges) merge into one undo
step.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from relay_desktop.core.annotations.document import AnnotationDocument, DocumentChange, Region
from relay_desktop.core.text import plural


class Command:
    """Base of all edit commands."""

    text: str = "Edit"

    def apply(self, doc: AnnotationDocument) -> list[DocumentChange]:
        raise NotImplementedError

    def inverted(self) -> Command:
        raise NotImplementedError

    @property
    def merge_key(self) -> tuple[Any, ...] | None:
        """Commands with equal non-None keys may merge (the later absorbs the earlier)."""
        return None

    def merged_with(self, later: Command) -> Command | None:
        """This command followed by ``later`` as one command, or None."""
        return None


def describe_regions(verb: str, regions: tuple[Region, ...]) -> str:
    """The undo-history text of adding or deleting ``regions``."""
    if len(regions) == 1:
        r = regions[0]
        return f"{verb} {r.artifact_type} {fmt_ms(r.start_ms)} to {fmt_ms(r.end_ms)}"
    return f"{verb} {plural(len(regions), 'region')}"


@dataclass(frozen=True)
class AddRegions(Command):
    regions: tuple[Region, ...]
    label: str = ""

    @property
    def text(self) -> str:  # type: ignore[override]
        return self.label or describe_regions("Add", self.regions)

    def apply(self, doc: AnnotationDocument) -> list[DocumentChange]:
        return [doc.insert(self.regions)]

    def inverted(self) -> Command:
        return DeleteRegions(self.regions, label=f"Undo: {self.text}")


@dataclass(frozen=True)
class DeleteRegions(Command):
    regions: tuple[Region, ...]
    label: str = ""

    @property
    def text(self) -> str:  # type: ignore[override]
        return self.label or describe_regions("Delete", self.regions)

    def apply(self, doc: AnnotationDocument) -> list[DocumentChange]:
        return [doc.remove(r.local_id for r in self.regions)]

    def inverted(self) -> Command:
        return AddRegions(self.regions, label=f"Undo: {self.text}")


@dataclass(frozen=True)
class UpdateRegion(Command):
    """Move, resize, relabel or change the confidence of one region."""

    before: Region
    after: Region
    kind: str = "edit"  # move | resize | relabel | confidence | nudge | note | edit

    @property
    def text(self) -> str:  # type: ignore[override]
        a = self.after
        if self.kind == "relabel":
            return f"Relabel {self.before.artifact_type} → {a.artifact_type}"
        if self.kind == "confidence":
            return f"Confidence {self.before.confidence:g} → {a.confidence:g}"
        if self.kind == "note":
            return f"Note on {a.artifact_type} at {fmt_ms(a.start_ms)}"
        verb = {"move": "Move", "resize": "Resize", "nudge": "Nudge"}.get(self.kind, "Edit")
        return f"{verb} {a.artifact_type} to {fmt_ms(a.start_ms)}-{fmt_ms(a.end_ms)}"

    def apply(self, doc: AnnotationDocument) -> list[DocumentChange]:
        return [doc.replace([self.after])]

    def inverted(self) -> Command:
        return UpdateRegion(self.after, self.before, self.kind)

    @property
    def merge_key(self) -> tuple[Any, ...] | None:
        if self.kind != "nudge":
            return None
        edge = "start" if self.before.start_ms != self.after.start_ms else "end"
        return ("nudge", self.after.local_id, edge)

    def merged_with(self, later: Command) -> Command | None:
        if (isinstance(later, UpdateRegion) and self.merge_key is not None
                and later.merge_key == self.merge_key):
            return UpdateRegion(self.before, later.after, self.kind)
        return None


@dataclass(frozen=True)
class Batch(Command):
    """Several commands as one undo step (applied in order, undone in reverse)."""

    commands: tuple[Command, ...]
    label: str = "Edit regions"

    @property
    def text(self) -> str:  # type: ignore[override]
        return self.label

    def apply(self, doc: AnnotationDocument) -> list[DocumentChange]:
        changes: list[DocumentChange] = []
        for command in self.commands:
            changes.extend(command.apply(doc))
        return changes

    def inverted(self) -> Command:
        return Batch(tuple(c.inverted() for c in reversed(self.commands)),
                     label=f"Undo: {self.label}")


def update(doc: AnnotationDocument, local_id: str, kind: str = "edit",
           **changes: Any) -> UpdateRegion:
    """An :class:`UpdateRegion` for the current state of ``local_id``."""
    before = doc.region(local_id)
    return UpdateRegion(before, before.with_fields(**changes), kind)


def relabel_many(doc: AnnotationDocument, local_ids: Iterable[str], artifact_type: str) -> Command:
    cmds = tuple(update(doc, i, "relabel", artifact_type=artifact_type) for i in local_ids)
    return cmds[0] if len(cmds) == 1 else Batch(cmds, f"Relabel {len(cmds)} → {artifact_type}")


def fmt_ms(ms: int) -> str:
    """``83456`` -> ``1:23.456``."""
    sign = "-" if ms < 0 else ""
    ms = abs(int(ms))
    minutes, rest = divmod(ms, 60_000)
    hours, minutes = divmod(minutes, 60)
    sec = f"{rest // 1000:02d}.{rest % 1000:03d}"
    return f"{sign}{hours}:{minutes:02d}:{sec}" if hours else f"{sign}{minutes}:{sec}"
