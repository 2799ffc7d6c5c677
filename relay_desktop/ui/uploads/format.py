"""How upload rows and queue totals are written for a person."""

from __future__ import annotations

from relay_desktop.core.uploads.state import UploadRow, UploadState, UploadTotals
from relay_desktop.ui.audio_list.format import format_size

STATE_WORDS = {
    UploadState.SCANNING: "Checking",
    UploadState.WAITING: "Waiting",
    UploadState.DUPLICATE: "Duplicate",
    UploadState.UPLOADING: "Uploading",
    UploadState.CONFIRMING: "Confirming",
    UploadState.PROCESSING: "Processing",
    UploadState.READY: "Ready",
    UploadState.FAILED: "Failed",
    UploadState.SKIPPED: "Skipped",
    UploadState.CANCELLED: "Cancelled",
    UploadState.PAUSED: "Paused",
}


def format_speed(bps: float) -> str:
    """Bytes per second as ``42.0 MB/s`` ('' when nothing moves)."""
    return f"{format_size(int(bps))}/s" if bps > 0 else ""


def format_eta(seconds: float | None) -> str:
    """``20 s left``, ``3 min left``, ``1 h 5 min left`` ('' when unknown)."""
    if seconds is None or seconds < 0:
        return ""
    s = round(seconds)
    if s < 60:
        return f"{s} s left"
    if s < 3600:
        return f"{(s + 30) // 60} min left"
    hours, rest = divmod(s, 3600)
    return f"{hours} h {rest // 60} min left"


def state_text(row: UploadRow) -> str:
    """The State column: the state, with % and speed while the bytes are moving."""
    words = STATE_WORDS.get(row.state, row.state.value.capitalize())
    if row.state is UploadState.UPLOADING:
        parts = [f"{words} {int(row.fraction * 100)}%"]
        speed = format_speed(row.speed_bps)
        if speed:
            parts.append(speed)
        return " · ".join(parts)
    return words


def totals_text(totals: UploadTotals) -> str:
    """The status bar line, e.g. ``Uploading 37/200 · 180.0 MB of 1.0 GB · 42.0 MB/s · 20 s left``.

    '' when the queue is empty.
    """
    if totals.files_total <= 0:
        return ""
    count = f"{totals.files_done:,}/{totals.files_total:,}"
    failed = f"{totals.files_failed:,} failed" if totals.files_failed else ""
    finished = totals.files_done + totals.files_failed >= totals.files_total
    if finished and totals.active == 0:
        return " · ".join(x for x in (f"Uploaded {count}", failed) if x)
    verb = "Uploads paused" if totals.paused else "Uploading"
    parts = [f"{verb} {count}",
             f"{format_size(totals.bytes_sent)} of {format_size(totals.bytes_total)}"]
    if not totals.paused:
        parts += [format_speed(totals.speed_bps), format_eta(totals.eta_s)]
    parts.append(failed)
    return " · ".join(x for x in parts if x)
