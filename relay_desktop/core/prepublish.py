"""The pre-publish check of an annotation set (Qt-free).

Blocking: zero-length or reversed regions, regions outside their file, unknown
artifact types, invalid confidences, unsynced or rejected edits. Advisory:
files of the dataset with no labels that nobody has marked "reviewed, no
artifacts" (that mark lives in the local journal, since the API has no
file-level labels).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from relay_desktop.core.annotations.document import Region
from relay_desktop.core.annotations.validation import validate_region


@dataclass(frozen=True)
class RegionIssue:
    region: Region
    category: str  # zero_length | out_of_range | unknown_type | confidence
    message: str


@dataclass(frozen=True)
class FileInfo:
    audio_file_id: str
    filename: str
    duration_ms: int | None = None


@dataclass
class PrepublishReport:
    """The outcome of :func:`check`."""

    region_issues: list[RegionIssue] = field(default_factory=list)
    unlabeled_files: list[FileInfo] = field(default_factory=list)
    reviewed_files: list[FileInfo] = field(default_factory=list)
    unsynced: int = 0
    total_regions: int = 0

    @property
    def blocking(self) -> bool:
        """Problems that must be fixed first (unsynced edits are synced by publishing)."""
        return bool(self.region_issues)

    @property
    def needs_review(self) -> list[FileInfo]:
        return self.unlabeled_files

    def summary(self) -> str:
        def n(count: int, word: str) -> str:
            return f"{count} {word}" + ("" if count == 1 else "s")

        parts = [n(self.total_regions, "region")]
        if self.region_issues:
            parts.append(f"{len(self.region_issues)} with problems (fix them before publishing)")
        if self.unsynced:
            parts.append(f"{n(self.unsynced, 'edit')} not yet on the server (synced first)")
        if self.unlabeled_files:
            parts.append(f"{n(len(self.unlabeled_files), 'file')} with no labels, "
                         "not marked reviewed")
        if self.reviewed_files:
            parts.append(f"{n(len(self.reviewed_files), 'file')} reviewed, no artifacts")
        return "; ".join(parts) + "."


def _category(field_name: str, message: str) -> str:
    if field_name == "artifact_type":
        return "unknown_type"
    if field_name == "confidence":
        return "confidence"
    if "zero-length" in message:
        return "zero_length"
    return "out_of_range"


def check(regions: Iterable[Region], type_names: Iterable[str], files: Iterable[FileInfo],
          reviewed: Iterable[str] = (), unsynced: int = 0,
          durations_ms: Mapping[str, int | None] | None = None) -> PrepublishReport:
    """Check a set before publishing; ``files`` is every audio file of the dataset."""
    names = list(type_names)
    files = list(files)
    durations = dict(durations_ms or {})
    for f in files:
        durations.setdefault(f.audio_file_id, f.duration_ms)
    reviewed_ids = set(reviewed)
    report = PrepublishReport(unsynced=unsynced)
    labelled: set[str] = set()
    for region in regions:
        report.total_regions += 1
        labelled.add(region.audio_file_id)
        for problem in validate_region(region, names, durations.get(region.audio_file_id)):
            report.region_issues.append(
                RegionIssue(region, _category(problem.field, problem.message), problem.message))
    for f in files:
        if f.audio_file_id in labelled:
            continue
        (report.reviewed_files if f.audio_file_id in reviewed_ids
         else report.unlabeled_files).append(f)
    return report
