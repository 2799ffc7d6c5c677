"""Tight edges for a detection, found in the frame signals inside its windows.

Windows say *that* something is there; the frames say *where*. Each type is
refined with the strategy its training labels called for (chosen at training
time, see ``choose_strategy``):

- ``silence`` (long pauses): the longest quiet run touching the span, its
  edges then moved to 2 ms precision;
- ``impulse`` (clicks): the 2 ms frame whose high-pass energy stands out most
  from its surroundings, widened while it stays within 10 dB of the peak;
- ``transient`` (glitches): the longest noise burst if there is one, else
  the sharpest dropout-like run, else the group of frames with abnormal
  high-pass energy around the peak;
- ``span``: the windows' own span.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from relay_server.ml.candidates import dropout_runs, noise_runs
from relay_server.ml.features import FINE_MS, FINE_PER_SLOT, SLOT_MS, FrameFeatures
from relay_server.ml.records import Region
from relay_server.ml.windows import Levels

STRATEGIES = ("silence", "impulse", "transient", "span")


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def choose_strategy(regions: Sequence[Region], quiet: Sequence[np.ndarray]) -> str:
    """Pick a strategy from a type's labels (``quiet``: per-label quiet-slot masks)."""
    if not regions:
        return "span"
    durations = sorted(r.end_ms - r.start_ms for r in regions)
    median = durations[len(durations) // 2]
    quiet_share = float(np.mean([m.mean() if len(m) else 0.0 for m in quiet]))
    if quiet_share >= 0.6 and median >= 300:
        return "silence"
    if median <= 15:
        return "impulse"
    if median <= 400:
        return "transient"
    return "span"


class Refiner:
    """Refines spans of one file's detections."""

    def __init__(self, ff: FrameFeatures, levels: Levels) -> None:
        self.ff = ff
        self.levels = levels
        self._quiet_runs = _runs(levels.quiet)
        self._quiet_fine = ff.fine_db < levels.floor_db + max(
            6.0, 0.35 * (levels.speech_db - levels.floor_db))
        self._dropouts = dropout_runs(ff.fine_db, levels.speech_db, levels.floor_db)
        self._bursts = noise_runs(ff, levels.speech_db)

    def refine(self, strategy: str, start_ms: int, end_ms: int,
               focus: tuple[int, int] | None = None) -> tuple[int, int]:
        """Edges for a detection spanning ``start_ms``-``end_ms``.

        ``focus`` is the span of its highest-scoring window: short artifacts
        are looked for there first, then in the whole span.
        """
        if strategy == "silence":
            return self._silence(start_ms, end_ms)
        focus = focus or (start_ms, end_ms)
        found: tuple[int, int] | None = None
        if strategy == "impulse":
            found = self._impulse(*focus) or self._impulse(start_ms, end_ms)
        elif strategy == "transient":
            found = (self._event(*focus) or self._event(start_ms, end_ms)
                     or self._hp_group(*focus))
        return found or (start_ms, end_ms)

    def _fine_span(self, start_ms: int, end_ms: int) -> tuple[int, int]:
        n = len(self.ff.fine_db)
        return (min(n, max(0, start_ms // FINE_MS)),
                min(n, max(0, math.ceil(end_ms / FINE_MS))))

    def _silence(self, start_ms: int, end_ms: int) -> tuple[int, int]:
        starts, ends = self._quiet_runs
        a, b = start_ms // SLOT_MS, math.ceil(end_ms / SLOT_MS)
        touching = np.flatnonzero((starts < b) & (ends > a))
        if not len(touching):
            return start_ms, end_ms
        best = touching[np.argmax(ends[touching] - starts[touching])]
        lo, hi = int(starts[best]) * FINE_PER_SLOT, int(ends[best]) * FINE_PER_SLOT
        quiet = self._quiet_fine
        for _ in range(FINE_PER_SLOT):
            if lo > 0 and quiet[lo - 1]:
                lo -= 1
            if hi < len(quiet) and quiet[hi]:
                hi += 1
        for _ in range(FINE_PER_SLOT):
            if lo < hi - 1 and not quiet[lo]:
                lo += 1
            if hi > lo + 1 and not quiet[hi - 1]:
                hi -= 1
        return lo * FINE_MS, min(hi * FINE_MS, self.ff.duration_ms)

    def _hp_score(self, j0: int, j1: int) -> np.ndarray:
        hp = self.ff.fine_hp_db[j0:j1]
        return hp - float(np.median(hp))

    def _impulse(self, start_ms: int, end_ms: int) -> tuple[int, int] | None:
        j0, j1 = self._fine_span(start_ms, end_ms)
        if j1 - j0 < 2:
            return None
        score = self._hp_score(j0, j1)
        k = int(np.argmax(score))
        peak = score[k]
        lo = hi = k
        while lo > 0 and k - lo < 5 and score[lo - 1] > peak - 10:
            lo -= 1
        while hi < len(score) - 1 and hi - k < 5 and score[hi + 1] > peak - 10:
            hi += 1
        return (j0 + lo) * FINE_MS, (j0 + hi + 1) * FINE_MS

    def _event(self, start_ms: int, end_ms: int) -> tuple[int, int] | None:
        """The longest noise burst touching the span, else its sharpest dropout-like run."""
        j0, j1 = self._fine_span(start_ms, end_ms)
        starts, ends = self._bursts
        inside = np.flatnonzero((starts < j1) & (ends > j0))
        if len(inside):
            best = inside[np.argmax(ends[inside] - starts[inside])]
            return int(starts[best]) * FINE_MS, int(ends[best]) * FINE_MS
        starts, ends = self._dropouts
        inside = np.flatnonzero((starts < j1) & (ends > j0))
        if len(inside):
            x = self.ff.fine_db
            sharpness = [float(x[max(0, a - 3):a + 1].max() - x[a:b].mean()
                               + x[b - 1:b + 3].max() - x[a:b].mean())
                         for a, b in zip(starts[inside], ends[inside], strict=True)]
            best = inside[int(np.argmax(sharpness))]
            return int(starts[best]) * FINE_MS, int(ends[best]) * FINE_MS
        return None

    def _hp_group(self, start_ms: int, end_ms: int) -> tuple[int, int] | None:
        """The frames of abnormal high-pass energy around the span's peak."""
        j0, j1 = self._fine_span(start_ms, end_ms)
        if j1 - j0 < 2:
            return None
        score = self._hp_score(j0, j1)
        k = int(np.argmax(score))
        peak = float(score[k])
        hot = score > max(6.0, peak - 12.0)
        lo = hi = k
        gap = 0
        while lo > 0 and k - lo < 150 and gap <= 5:
            lo -= 1
            gap = 0 if hot[lo] else gap + 1
        lo += gap
        gap = 0
        while hi < len(score) - 1 and hi - k < 150 and gap <= 5:
            hi += 1
            gap = 0 if hot[hi] else gap + 1
        hi -= gap
        if hi - lo + 1 < 5:
            mid = (lo + hi) // 2
            lo, hi = max(0, mid - 2), min(len(score) - 1, mid + 2)
        return (j0 + lo) * FINE_MS, (j0 + hi + 1) * FINE_MS
