"""Raven selection table: tab-separated, one row per selection.

Columns written: ``Selection, View, Channel, Begin Time (s), End Time (s),
Low Freq (Hz), High Freq (Hz), Annotation, Confidence``, ``Begin File``
when the regions carry file names and ``Note`` when any has a note (its tabs and
line breaks become spaces: a cell cannot hold them). On import the header names are matched
case-insensitively, ``Annotation`` may also be ``Label``/``Type``, and the
repeated rows Raven writes for a second view of the same selection (same
number, same times) are skipped.
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
    parse_confidence,
    parse_seconds,
    seconds_text,
)

BASE_COLUMNS = ("Selection", "View", "Channel", "Begin Time (s)", "End Time (s)",
                "Low Freq (Hz)", "High Freq (Hz)", "Annotation", "Confidence")
_LABEL_COLUMNS = ("annotation", "label", "type", "artifact_type")


def export(regions: Sequence[Region]) -> str:
    with_files = any(r.filename for r in regions)
    no_control_chars((r.artifact_type for r in regions), "Raven selection table")
    no_control_chars((r.filename for r in regions), "Raven selection table")
    with_notes = any(r.note for r in regions)
    header = (list(BASE_COLUMNS) + (["Begin File"] if with_files else [])
              + (["Note"] if with_notes else []))
    lines = ["\t".join(header)]
    for number, r in enumerate(regions, start=1):
        cells = [str(number), "Waveform 1", "1", seconds_text(r.start_ms),
                 seconds_text(r.end_ms), "0.000", "0.000", r.artifact_type,
                 repr(float(r.confidence))]
        if with_files:
            cells.append(r.filename or "")
        if with_notes:
            cells.append(" ".join(r.note.split()))
        lines.append("\t".join(cells))
    return "\n".join(lines) + "\n"


def parse(text: str, artifact_types: Collection[str] | None, duration_ms: int | None,
          audio_file_id: str | None) -> ImportResult:
    result = ImportResult()
    header: list[str] | None = None
    seen: set[str] = set()
    label_col = ""
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        if not raw.strip():
            continue
        cells = [c.strip() for c in raw.split("\t")]
        if header is None:
            header = [c.lower() for c in cells]
            label_col = next((c for c in _LABEL_COLUMNS if c in header), "")
            missing = [name for name, present in (("Begin Time (s)", "begin time (s)" in header),
                                                  ("End Time (s)", "end time (s)" in header),
                                                  ("Annotation", bool(label_col)))
                       if not present]
            if missing:
                result.rejected.append(RejectedRow(number, raw, "missing column " + ", ".join(
                    repr(m) for m in missing)))
                return result
            continue
        values = dict(zip(header, cells, strict=False))
        selection = values.get("selection", "")
        view_key = "\t".join((selection, values.get("begin time (s)", ""),
                              values.get("end time (s)", "")))
        if selection and view_key in seen:
            continue  # the same selection shown in another view
        try:
            for col in ("begin time (s)", "end time (s)", label_col):
                if not values.get(col):
                    raise RowError(f"missing column {col!r}")
            region = Region(
                audio_file_id=audio_file_id, artifact_type=values[label_col],
                start_ms=parse_seconds(values["begin time (s)"], "Begin Time (s)"),
                end_ms=parse_seconds(values["end time (s)"], "End Time (s)"),
                confidence=parse_confidence(values.get("confidence"), "Confidence"),
                filename=values.get("begin file") or None,
                note=values.get("note") or "", line=number)
            result.regions.append(check_region(region, artifact_types, duration_ms))
        except RowError as exc:
            result.rejected.append(RejectedRow(number, raw, str(exc)))
        if selection:
            seen.add(view_key)
    if header is None:
        result.rejected.append(RejectedRow(1, "", "missing column 'Begin Time (s)'"))
    return result
