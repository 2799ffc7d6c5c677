"""Audacity label track: ``start<TAB>end<TAB>label`` in seconds (six decimals), label = type.

One audio file per track; confidence and notes are not carried (the label is the
type; confidence imports as 1.0). Spectral
lines (starting with a backslash) are skipped on import.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from relay_desktop.formats._common import (
    ImportResult,
    Region,
    RejectedRow,
    RowError,
    check_region,
    no_control_chars,
    parse_seconds,
    seconds_text,
    single_file,
)


def export(regions: Sequence[Region]) -> str:
    single_file(regions, "Audacity label track")
    no_control_chars((r.artifact_type for r in regions), "Audacity label track")
    return "".join(f"{seconds_text(r.start_ms, 6)}\t{seconds_text(r.end_ms, 6)}\t"
                   f"{r.artifact_type}\n" for r in regions)


def parse(text: str, artifact_types: Collection[str] | None, duration_ms: int | None,
          audio_file_id: str | None) -> ImportResult:
    result = ImportResult()
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        if not raw.strip() or raw.startswith("\\"):
            continue
        cells = raw.split("\t")
        try:
            if len(cells) < 2:
                raise RowError("missing column 'end'")
            if len(cells) < 3 or not cells[2].strip():
                raise RowError("missing column 'label'")
            region = Region(audio_file_id=audio_file_id, artifact_type=cells[2].strip(),
                            start_ms=parse_seconds(cells[0], "start"),
                            end_ms=parse_seconds(cells[1], "end"), line=number)
            result.regions.append(check_region(region, artifact_types, duration_ms))
        except RowError as exc:
            result.rejected.append(RejectedRow(number, raw, str(exc)))
    return result
