"""A one-line progress bar for the CLI (stderr, redrawn in place on a terminal)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover


class ProgressBar:
    """Draws ``[i/n] name  42% 12.0 MB/s`` for the current file.

    On a terminal the line is redrawn at most 10 times a second; otherwise one
    line is written when each file finishes.
    """

    def __init__(self, total_files: int, stream: TextIO | None = None) -> None:
        self.total_files = total_files
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.index = 0
        self.name = ""
        self._started = 0.0
        self._last_draw = 0.0

    def start_file(self, index: int, name: str) -> None:
        self.index, self.name = index, name
        self._started = time.monotonic()
        self._last_draw = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.tty or (now - self._last_draw < 0.1 and done < total):
            return
        self._last_draw = now
        self.stream.write("\r" + self._line(done, total) + "\x1b[K")
        self.stream.flush()

    def _line(self, done: int, total: int) -> str:
        pct = 100 * done // total if total else 100
        width = 24
        filled = width * pct // 100
        rate = done / max(time.monotonic() - self._started, 1e-6)
        return (f"[{self.index}/{self.total_files}] {self.name[:40]:<40} "
                f"|{'#' * filled}{'.' * (width - filled)}| {pct:3d}% "
                f"{human_bytes(rate)}/s")

    def finish_file(self, ok: bool, note: str = "") -> None:
        status = "ok" if ok else "FAILED"
        prefix = "\r" if self.tty else ""
        suffix = "\x1b[K" if self.tty else ""
        self.stream.write(f"{prefix}[{self.index}/{self.total_files}] {self.name}: {status}"
                          f"{' - ' + note if note else ''}{suffix}\n")
        self.stream.flush()
