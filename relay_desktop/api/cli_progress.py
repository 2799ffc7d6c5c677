"""The CLI's upload progress: a line per finished file, and a status line redrawn on a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from relay_desktop.api.batch_upload.engine import Changes
from relay_desktop.api.batch_upload.rows import UploadRow, UploadState, UploadTotals


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover


_REPORTED = frozenset({UploadState.PROCESSING, UploadState.READY, UploadState.FAILED,
                       UploadState.SKIPPED, UploadState.CANCELLED})


class UploadReport:
    """The CLI's view of an upload queue.

    One line per file as it finishes (``[i/n] name: ok``, ``FAILED - reason``,
    ``skipped - reason``) on stderr, the uploaded ``audio_id<TAB>path`` on stdout,
    and on a terminal a status line (files, bytes, speed, time left) redrawn at
    most 10 times a second.
    """

    def __init__(self, out: TextIO, stream: TextIO | None = None) -> None:
        self.out = out
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.rows: dict[str, UploadRow] = {}
        self.reported: dict[str, UploadState] = {}
        self._last_draw = 0.0
        self._drawn = False

    def update(self, changes: Changes, totals: UploadTotals) -> None:
        for row in [*changes.added, *changes.changed, *changes.confirmed]:
            self.rows[row.id] = row
        for row in list(self.rows.values()):
            if row.state in _REPORTED and row.id not in self.reported:
                self._finish(row)
        now = time.monotonic()
        if self.tty and now - self._last_draw >= 0.1:
            self._last_draw = now
            self.stream.write("\r" + self._status(totals) + "\x1b[K")
            self.stream.flush()
            self._drawn = True

    def _status(self, totals: UploadTotals) -> str:
        eta = "" if totals.eta_s is None else f", {totals.eta_s:.0f} s left"
        return (f"{totals.files_done}/{totals.files_total} files, "
                f"{human_bytes(totals.bytes_sent)} of {human_bytes(totals.bytes_total)}, "
                f"{human_bytes(totals.speed_bps)}/s{eta}")

    def _finish(self, row: UploadRow) -> None:
        self.reported[row.id] = row.state
        index = len(self.reported)
        if row.state.is_done:
            note = "ok"
            self.out.write(f"{row.remote_id}\t{row.path}\n")
            self.out.flush()
        elif row.state is UploadState.FAILED:
            note = f"FAILED - {row.reason}"
        elif row.state is UploadState.SKIPPED:
            note = f"skipped - {row.reason}"
        else:
            note = "cancelled"
        prefix = "\r" if self._drawn else ""
        suffix = "\x1b[K" if self._drawn else ""
        self.stream.write(f"{prefix}[{index}/{len(self.rows)}] {row.path.name}: {note}"
                          f"{suffix}\n")
        self.stream.flush()

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False

    def summary(self, problems: int = 0) -> int:
        """Write the closing line; return the exit status (1 when anything went wrong)."""
        states = list(self.reported.values())
        rows = list(self.rows.values())
        duplicates = sum(1 for r in rows if r.state is UploadState.SKIPPED and r.duplicate_of)
        rejected = sum(1 for r in rows if r.state is UploadState.SKIPPED and not r.duplicate_of)
        done = sum(1 for s in states if s.is_done)
        failed = sum(1 for s in states if s is UploadState.FAILED)
        cancelled = sum(1 for s in states if s is UploadState.CANCELLED)
        unfinished = len(rows) - len(states)
        total = len(rows) - duplicates - rejected
        skipped = problems + rejected
        self.stream.write(
            f"uploaded {done} of {total} file(s)"
            + (f", {failed} failed" if failed else "")
            + (f", {skipped} skipped" if skipped else "")
            + (f", {duplicates} duplicate(s) skipped" if duplicates else "")
            + (f", {cancelled} cancelled" if cancelled else "")
            + (f", {unfinished} not finished (run again with --resume)" if unfinished else "")
            + "\n")
        return 1 if failed or skipped or cancelled or unfinished else 0
