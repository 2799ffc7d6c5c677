"""How audio file values are written in the list."""

from __future__ import annotations


def format_duration(ms: int | None) -> str:
    """``h:mm:ss.mmm`` ('' when unknown)."""
    if ms is None:
        return ""
    ms = max(0, int(ms))
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def format_size(n: int | None) -> str:
    """Bytes in B / KB / MB / GB / TB (decimal, one decimal place above bytes)."""
    if n is None:
        return ""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000:
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


def format_rate(hz: int | None) -> str:
    if not hz:
        return ""
    return f"{hz / 1000:g} kHz"
