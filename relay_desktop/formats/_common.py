"""What every format shares: the Region record, import results, time text and row checks."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation


@dataclass(frozen=True)
class Region:
    """One labelled time span of one audio file (times in integer milliseconds).

    ``note`` is the region's free-text note ("" for none); ``line`` is where an
    imported region came from (1-based; 0 when not read from a file) and does not
    take part in comparisons.
    """

    audio_file_id: str | None
    artifact_type: str
    start_ms: int
    end_ms: int
    confidence: float = 1.0
    filename: str | None = None
    note: str = ""
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class RejectedRow:
    """An input row that was not imported: its 1-based line, its text and why."""

    line: int
    text: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportResult:
    """The regions that passed validation and every row that did not."""

    regions: list[Region] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected


class RowError(ValueError):
    """Raised while reading one row; becomes a ``RejectedRow``."""


class FormatError(ValueError):
    """The regions cannot be written in the requested format (the message says why)."""


MAX_MS = 2**53 - 1
"""Latest time a region may have (the server's limit too: exact in a JSON number)."""


def _in_range(ms: Decimal | int, column: str, raw: object) -> None:
    if not -MAX_MS <= ms <= MAX_MS:
        raise RowError(f"{column} {raw!s:.40} is out of range (at most {MAX_MS} ms)")


def seconds_text(ms: int, places: int = 3) -> str:
    """Exact decimal seconds for ``ms`` (e.g. 1200 -> ``1.200``), never float-rounded."""
    sign = "-" if ms < 0 else ""
    ms = abs(int(ms))
    text = f"{sign}{ms // 1000}.{ms % 1000:03d}"
    return text + "0" * max(0, places - 3)


def parse_seconds(text: str, column: str) -> int:
    """Decimal seconds -> integer ms (rounded half-even to the millisecond)."""
    raw = text.strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise RowError(f"unparsable number {raw!r} in {column}") from None
    if not value.is_finite():
        raise RowError(f"unparsable number {raw!r} in {column}")
    _in_range(value * 1000, column, raw)  # before quantize: 1e400 s would not fit
    return int((value * 1000).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def parse_ms(value: object, column: str) -> int:
    """An integer millisecond value from text or a JSON number."""
    if isinstance(value, bool):
        raise RowError(f"unparsable number {value!r} in {column}")
    if isinstance(value, int):
        _in_range(value, column, value)
        return value
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise RowError(f"{column} must be a whole number of milliseconds, got {value!r}")
        _in_range(int(value), column, value)
        return int(value)
    raw = str(value).strip()
    try:
        dec = Decimal(raw)
    except InvalidOperation:
        raise RowError(f"unparsable number {raw!r} in {column}") from None
    if not dec.is_finite():
        raise RowError(f"{column} must be a whole number of milliseconds, got {raw!r}")
    _in_range(dec, column, raw)  # before int(): 1e999999 would take minutes
    if dec != dec.to_integral_value():
        raise RowError(f"{column} must be a whole number of milliseconds, got {raw!r}")
    return int(dec)


def parse_confidence(value: object, column: str = "confidence") -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        return 1.0
    if isinstance(value, bool):
        raise RowError(f"unparsable number {value!r} in {column}")
    try:
        conf = float(value) if isinstance(value, (int, float)) else float(str(value).strip())
    except ValueError:
        raise RowError(f"unparsable number {str(value).strip()!r} in {column}") from None
    if not math.isfinite(conf):
        raise RowError(f"unparsable number {value!r} in {column}")
    return conf


def check_region(region: Region, artifact_types: Collection[str] | None,
                 duration_ms: int | None) -> Region:
    """Validate one region; raise ``RowError`` with the first problem found."""
    if not region.artifact_type:
        raise RowError("missing artifact type")
    if artifact_types is not None and region.artifact_type not in artifact_types:
        known = ", ".join(sorted(artifact_types)) or "none"
        raise RowError(f"unknown artifact type {region.artifact_type!r} (known: {known})")
    if region.start_ms < 0 or region.end_ms < 0:
        raise RowError(f"negative time ({region.start_ms}..{region.end_ms} ms)")
    if region.start_ms >= region.end_ms:
        raise RowError(f"start ({region.start_ms} ms) must be before end ({region.end_ms} ms)")
    if duration_ms is not None and region.end_ms > duration_ms:
        raise RowError(f"ends at {region.end_ms} ms, beyond the file's duration of "
                       f"{duration_ms} ms")
    if not 0.0 <= region.confidence <= 1.0:
        raise RowError(f"confidence {region.confidence!r} is not between 0 and 1")
    return region


def single_file(regions: Sequence[Region], fmt: str) -> None:
    """Formats without a file column hold one audio file only."""
    files = {r.audio_file_id or r.filename for r in regions}
    if len(files) > 1:
        raise FormatError(f"A {fmt} file holds the regions of one audio file; these regions "
                          f"belong to {len(files)} files. Export them one file at a time.")


def no_control_chars(values: Iterable[str | None], fmt: str) -> None:
    """Tab-separated formats cannot hold tabs or line breaks inside a value."""
    for value in values:
        if value is not None and any(c in value for c in "\t\r\n"):
            raise FormatError(f"{value!r} contains a tab or line break, which a {fmt} "
                              "file cannot hold.")
