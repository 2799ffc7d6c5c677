"""The gui_stall benchmark's 5 ms heartbeat, judged over chosen windows of a session.

:class:`benchmarks.gui_stall.StallProbe` keeps only the longest gap between
ticks of a 5 ms QTimer on the GUI thread. :class:`WindowedStallProbe` also keeps
every late tick with its time, so a test can ask for the worst gap inside the
windows where only the app (not the test driving it) was running:

    probe = WindowedStallProbe()
    probe.start()
    with probe.window("sync under faults"):
        qtbot.waitUntil(...)            # app-only work: no HTTP from the test here
    worst_ms, where = probe.worst()
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from benchmarks.gui_stall import StallProbe

KEEP_OVER_MS = 8.0   # gaps this short are on time for a 5 ms timer; not kept
NOTE_OVER_MS = 25.0  # gaps this long note what was going on (``where``)


class WindowedStallProbe(StallProbe):
    """A 5 ms GUI-thread heartbeat that remembers its late ticks and named windows."""

    def __init__(self, where: Callable[[], object] | None = None) -> None:
        super().__init__(interval_ms=5, where=where)
        self.gaps: list[tuple[float, float]] = []      # (time the gap began, gap in ms)
        self.notes: dict[float, object] = {}           # gap start -> where() after it
        self.windows: list[tuple[str, float, float]] = []

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last:
            gap = (now - self._last) * 1000.0
            if gap > KEEP_OVER_MS:
                self.gaps.append((self._last, gap))
            if gap > NOTE_OVER_MS and self.where is not None:
                self.notes[self._last] = self.where()
        super()._tick()

    @contextmanager
    def window(self, name: str) -> Iterator[None]:
        """Judge the gaps that begin while the body runs (up to its end)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.windows.append((name, start, time.perf_counter()))

    def worst(self, name: str | None = None) -> tuple[float, str]:
        """(worst gap in ms, its window) over every window, or the windows called ``name``."""
        worst, where, _began = self._worst(name)
        return worst, where

    def worst_note(self) -> object:
        """What ``where()`` said after the worst gap of any window (None if not noted)."""
        return self.notes.get(self._worst(None)[2])

    def _worst(self, name: str | None) -> tuple[float, str, float]:
        worst, where, when = 0.0, "", 0.0
        for label, start, end in self.windows:
            if name is not None and label != name:
                continue
            for began, gap in self.gaps:
                if not start <= began < end:
                    continue
                # a gap running past the window's end is the test's own next step there
                inside = min(gap, (end - began) * 1000.0)
                if inside > worst:
                    worst, where, when = inside, label, began
        return worst, where, when

    def per_window(self) -> dict[str, float]:
        """The worst gap of each window name (ms)."""
        return {label: self.worst(label)[0] for label, _s, _e in self.windows}
