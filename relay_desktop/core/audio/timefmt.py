"""Time formatting for audio positions: ``h:mm:ss.mmm``."""

from __future__ import annotations

import math
import re

_TIME_RE = re.compile(r"^\s*(?:(\d+):)?(?:(\d+):)?(\d+(?:\.\d*)?)\s*$")


def format_time(seconds: float, decimals: int = 3) -> str:
    """Format ``seconds`` as ``h:mm:ss.mmm`` (``decimals`` digits after the point).

    Negative values get a leading minus; NaN and infinities format as ``--:--``.
    """
    if not math.isfinite(seconds):
        return "--:--"
    sign = "-" if seconds < 0 else ""
    scale = 10**decimals
    total = round(abs(seconds) * scale)
    whole, frac = divmod(total, scale)
    hours, rem = divmod(whole, 3600)
    minutes, secs = divmod(rem, 60)
    text = f"{sign}{hours}:{minutes:02d}:{secs:02d}"
    if decimals > 0:
        text += f".{frac:0{decimals}d}"
    return text


def format_ms(ms: int | float) -> str:
    """Format a millisecond count as ``h:mm:ss.mmm``."""
    return format_time(ms / 1000.0)


def parse_time(text: str) -> float:
    """Parse ``h:mm:ss.mmm``, ``mm:ss.mmm`` or plain seconds into seconds.

    Raises ValueError with a readable message for anything else.
    """
    match = _TIME_RE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a time; use h:mm:ss.mmm, mm:ss or seconds")
    first, second, secs = match.groups()
    parts = [p for p in (first, second) if p is not None]
    hours = minutes = 0
    if len(parts) == 2:
        hours, minutes = int(parts[0]), int(parts[1])
    elif len(parts) == 1:
        minutes = int(parts[0])
    value = float(secs)
    if parts and value >= 60:
        raise ValueError(f"{text!r}: seconds must be below 60")
    if len(parts) == 2 and minutes >= 60:
        raise ValueError(f"{text!r}: minutes must be below 60")
    return hours * 3600 + minutes * 60 + value


def tick_decimals(spacing_s: float) -> int:
    """Decimals needed to tell apart ticks ``spacing_s`` seconds apart (0-6).

    Milliseconds (3) down to 1 ms spacing; finer ticks, seen only when single
    samples are on screen, get as many digits as they need.
    """
    for decimals in range(7):
        if spacing_s >= 10.0 ** -decimals * 0.999:
            return decimals
    return 6
