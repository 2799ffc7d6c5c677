"""JSON: ``{"format": "relay-regions", "version": 1, "regions": [...]}``, times in ms.

A region with a note has a ``"note"`` key. Import also accepts a bare list of
regions or an annotation set (``annotations``, the note in ``extra_data.note``).
For JSON the "line" of a rejected row is the item's 1-based position in the list.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

from relay_desktop.formats._common import (
    ImportResult,
    Region,
    RejectedRow,
    RowError,
    check_region,
    parse_confidence,
    parse_ms,
)


def export(regions: Sequence[Region]) -> str:
    items = [{"audio_file_id": r.audio_file_id, "filename": r.filename,
              "artifact_type": r.artifact_type, "start_ms": r.start_ms, "end_ms": r.end_ms,
              "confidence": r.confidence, **({"note": r.note} if r.note else {})}
             for r in regions]
    lines = [json.dumps(item, ensure_ascii=False) for item in items]
    body = ",\n    ".join(lines)
    return ('{\n  "format": "relay-regions",\n  "version": 1,\n  "regions": [\n    '
            + body + "\n  ]\n}\n") if lines else (
        '{\n  "format": "relay-regions",\n  "version": 1,\n  "regions": []\n}\n')


def _note(item: dict[str, Any]) -> str:
    note = item.get("note")
    extra = item.get("extra_data")
    if note is None and isinstance(extra, dict):
        note = extra.get("note")
    return note if isinstance(note, str) else ""


def _region(item: Any, audio_file_id: str | None, line: int) -> Region:
    if not isinstance(item, dict):
        raise RowError("not a JSON object")
    for name in ("artifact_type", "start_ms", "end_ms"):
        if item.get(name) is None:
            raise RowError(f"missing column {name!r}")
    afid = item.get("audio_file_id")
    fname = item.get("filename")
    return Region(audio_file_id=str(afid) if afid is not None else audio_file_id,
                  artifact_type=str(item["artifact_type"]),
                  start_ms=parse_ms(item["start_ms"], "start_ms"),
                  end_ms=parse_ms(item["end_ms"], "end_ms"),
                  confidence=parse_confidence(item.get("confidence")),
                  filename=str(fname) if fname is not None else None,
                  note=_note(item), line=line)


def parse(text: str, artifact_types: Collection[str] | None, duration_ms: int | None,
          audio_file_id: str | None) -> ImportResult:
    result = ImportResult()
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        result.rejected.append(RejectedRow(exc.lineno, text.splitlines()[exc.lineno - 1]
                                           if text.splitlines() else "",
                                           f"not valid JSON: {exc.msg}"))
        return result
    except RecursionError:
        result.rejected.append(RejectedRow(1, text[:200], "not valid JSON: nested too deeply"))
        return result
    if isinstance(doc, dict):
        items = doc.get("regions", doc.get("annotations"))
        if not isinstance(items, list):
            result.rejected.append(RejectedRow(1, text[:200], "missing column 'regions'"))
            return result
    elif isinstance(doc, list):
        items = doc
    else:
        result.rejected.append(RejectedRow(1, text[:200], "expected a list of regions"))
        return result
    for index, item in enumerate(items, start=1):
        try:
            result.regions.append(check_region(_region(item, audio_file_id, index),
                                               artifact_types,
                                               duration_ms))
        except RowError as exc:
            result.rejected.append(RejectedRow(index, json.dumps(item, ensure_ascii=False),
                                               str(exc)))
    return result
