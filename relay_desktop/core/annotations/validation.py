"""Checks of a region against the dataset's artifact types and the file's duration."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from relay_desktop.core.annotations.document import Region


@dataclass(frozen=True)
class Problem:
    """One reason a region cannot be saved as it is."""

    field: str
    message: str

    def __str__(self) -> str:
        return self.message


def validate_region(region: Region, type_names: Iterable[str],
                    duration_ms: int | None) -> list[Problem]:
    """Every problem of ``region``; an empty list means it is valid."""
    problems: list[Problem] = []
    names = list(type_names)
    if region.artifact_type not in names:
        known = ", ".join(names) or "none"
        problems.append(Problem("artifact_type",
                                f"“{region.artifact_type}” is not one of the dataset's "
                                f"artifact types ({known})."))
    if region.start_ms < 0:
        problems.append(Problem("start_ms", "The start cannot be before 0."))
    if region.end_ms <= region.start_ms:
        problems.append(Problem("end_ms", "The end must be after the start "
                                          "(a region cannot be zero-length or reversed)."))
    if duration_ms is not None and region.end_ms > duration_ms:
        problems.append(Problem("end_ms", f"The end ({region.end_ms} ms) is past the end of "
                                          f"the file ({duration_ms} ms)."))
    c = region.confidence
    if not isinstance(c, (int, float)) or math.isnan(c) or not 0.0 <= c <= 1.0:
        problems.append(Problem("confidence", "The confidence must be between 0 and 1."))
    return problems


def validate_all(regions: Iterable[Region], type_names: Iterable[str],
                 durations_ms: Mapping[str, int | None]) -> dict[str, list[Problem]]:
    """Problems keyed by local id (valid regions are left out)."""
    names = list(type_names)
    out: dict[str, list[Problem]] = {}
    for r in regions:
        problems = validate_region(r, names, durations_ms.get(r.audio_file_id))
        if problems:
            out[r.local_id] = problems
    return out


def clamp_to_file(start_ms: int, end_ms: int, duration_ms: int | None) -> tuple[int, int]:
    """Order and clip a span to ``[0, duration]``."""
    lo, hi = sorted((int(start_ms), int(end_ms)))
    lo = max(0, lo)
    if duration_ms is not None:
        hi = min(hi, duration_ms)
        lo = min(lo, duration_ms)
    return lo, hi
