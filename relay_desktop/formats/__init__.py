"""Import and export of annotation regions (Qt-free).

    text = export_regions(regions, "csv")
    result = import_regions(text, "csv", artifact_types={"glitch"}, duration_ms=60_000)
    result.regions, result.rejected

Formats: ``json`` and ``csv`` (lossless: file, type, times, confidence, note),
``raven`` (selection table; keeps notes, flattened to one line), ``audacity``
(label track) and ``textgrid`` (Praat, long text format); the last two cannot
carry notes. Times round-trip exactly to the millisecond. An imported region's
``line`` says where in the file it came from.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from types import ModuleType

from relay_desktop.formats import audacity, csv_format, json_format, raven, textgrid
from relay_desktop.formats._common import FormatError, ImportResult, Region, RejectedRow
from relay_desktop.formats.reading import MAX_IMPORT_BYTES, check_size, read_import_file

_MODULES: dict[str, ModuleType] = {
    "json": json_format, "csv": csv_format, "audacity": audacity, "raven": raven,
    "textgrid": textgrid,
}
FORMATS: tuple[str, ...] = tuple(_MODULES)
EXTENSIONS: dict[str, str] = {"json": ".json", "csv": ".csv", "audacity": ".txt",
                              "raven": ".selections.txt", "textgrid": ".TextGrid"}
#: whether a format keeps the regions' notes
KEEPS_NOTES: dict[str, bool] = {"json": True, "csv": True, "raven": True, "audacity": False,
                                "textgrid": False}
LABELS: dict[str, str] = {"json": "JSON", "csv": "CSV", "audacity": "Audacity labels",
                          "raven": "Raven selection table", "textgrid": "Praat TextGrid"}


def _module(fmt: str) -> ModuleType:
    try:
        return _MODULES[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}") from None


def export_regions(regions: Iterable[Region], fmt: str, *, duration_ms: int | None = None,
                   artifact_types: Sequence[str] | None = None) -> str:
    """The regions as text in ``fmt`` (sorted by file, start, end, type).

    ``duration_ms`` and ``artifact_types`` are used by TextGrid (the grid's end,
    and a tier for every type even when it has no region). Raises ``FormatError``
    when the format cannot hold the regions (e.g. several files in one TextGrid).
    """
    module = _module(fmt)
    ordered = sorted(regions, key=lambda r: (r.filename or "", r.audio_file_id or "",
                                             r.start_ms, r.end_ms, r.artifact_type))
    if fmt == "textgrid":
        return str(textgrid.export(ordered, duration_ms=duration_ms,
                                   artifact_types=artifact_types))
    return str(module.export(ordered))


def import_regions(text: str, fmt: str, *, artifact_types: Collection[str] | None = None,
                   duration_ms: int | None = None,
                   audio_file_id: str | None = None) -> ImportResult:
    """Parse ``text``; every row that fails validation is in ``rejected`` with its
    line and reason, every other row in ``regions``. ``audio_file_id`` fills rows
    that name no file. Raises FormatError when the text as a whole cannot be read
    (too large, or not the format at all)."""
    check_size(len(text))
    types = set(artifact_types) if artifact_types is not None else None
    result: ImportResult = _module(fmt).parse(text, types, duration_ms, audio_file_id)
    return result


def detect_format(filename: str) -> str | None:
    """Guess the format from a file name (``.TextGrid``, ``.csv``, ``.json``, Raven/Audacity)."""
    lower = filename.lower()
    if lower.endswith(".textgrid"):
        return "textgrid"
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith(".json"):
        return "json"
    if lower.endswith(".selections.txt") or "selection" in lower:
        return "raven"
    if lower.endswith(".txt"):
        return "audacity"
    return None


__all__ = ["EXTENSIONS", "FORMATS", "LABELS", "MAX_IMPORT_BYTES", "FormatError", "ImportResult",
           "Region", "RejectedRow", "detect_format", "export_regions", "import_regions",
           "read_import_file"]
