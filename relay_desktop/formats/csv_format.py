"""CSV with a header row: ``audio_file_id,filename,artifact_type,start_ms,end_ms,confidence``.

Import needs ``artifact_type``, ``start_ms`` and ``end_ms`` columns (any order);
the others are optional. A ``note`` column follows when any region has a note.
Text values are taken verbatim (no trimming), so an export imports back unchanged.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Sequence

from relay_desktop.formats._common import (
    ImportResult,
    Region,
    RejectedRow,
    RowError,
    check_region,
    parse_confidence,
    parse_ms,
)

COLUMNS = ("audio_file_id", "filename", "artifact_type", "start_ms", "end_ms", "confidence")
REQUIRED = ("artifact_type", "start_ms", "end_ms")


def export(regions: Sequence[Region]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    # a bare carriage return is not quoted by QUOTE_MINIMAL with "\n" line ends
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    with_notes = any(r.note for r in regions)
    writer.writerow(COLUMNS + (("note",) if with_notes else ()))
    for r in regions:
        row = [r.audio_file_id or "", r.filename or "", r.artifact_type, str(r.start_ms),
               str(r.end_ms), repr(float(r.confidence))] + ([r.note] if with_notes else [])
        (quoted if any("\r" in cell for cell in row) else writer).writerow(row)
    return out.getvalue()


def _row_text(row: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(row)
    return out.getvalue()


def parse(text: str, artifact_types: Collection[str] | None, duration_ms: int | None,
          audio_file_id: str | None) -> ImportResult:
    result = ImportResult()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header: list[str] | None = None
    start_line = 1
    while True:
        line = start_line
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a field over the csv module's 128 KiB limit
            start_line = reader.line_num + 1
            result.rejected.append(RejectedRow(line, "", f"unreadable row: {exc}"))
            continue
        start_line = reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [c.strip().lower() for c in row]
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                result.rejected.append(RejectedRow(
                    line, _row_text(row), "missing column " + ", ".join(map(repr, missing))))
                return result
            continue
        values = dict(zip(header, row, strict=False))
        try:
            for name in REQUIRED:
                if name not in values or values[name] == "":
                    raise RowError(f"missing column {name!r}")
            region = Region(
                audio_file_id=values.get("audio_file_id") or audio_file_id,
                artifact_type=values["artifact_type"],
                start_ms=parse_ms(values["start_ms"], "start_ms"),
                end_ms=parse_ms(values["end_ms"], "end_ms"),
                confidence=parse_confidence(values.get("confidence")),
                filename=values.get("filename") or None,
                note=values.get("note") or "", line=line)
            result.regions.append(check_region(region, artifact_types, duration_ms))
        except RowError as exc:  # the row's text only for the rows that need it
            result.rejected.append(RejectedRow(line, _row_text(row), str(exc)))
    if header is None:
        result.rejected.append(RejectedRow(1, "", "missing column " + ", ".join(
            repr(c) for c in REQUIRED)))
    return result
