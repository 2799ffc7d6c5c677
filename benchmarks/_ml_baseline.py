"""The signal-processing baseline ``detection_quality`` compares the model with.

Rules on the same frame signals the model sees (relay_server.ml.features),
each with thresholds tuned by grid search for the best event F1 on the
TRAINING files only:

- long_pause: runs of 10 ms slots quieter than ``pause_db`` under the file's
  speech level, at least ``pause_ms`` long;
- click: runs of 2 ms frames whose high-pass energy exceeds its local median
  (over 100 ms) by ``spike_db``, at most ``click_ms`` long;
- glitch: noise bursts (runs of such high-pass excess, ``burst_db``, of
  16-150 ms, gaps under 10 ms closed) or loud white-noise runs (the model's
  own burst finder, ``candidates.noise_runs``), and/or dropouts (abrupt runs of
  frames ``drop_db`` under the speech level inside loud sound, 10-200 ms);
  which rules to combine is tuned too.

Events are merged like the model's (200 ms same-type window).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.ndimage import median_filter

from relay_server.ml import Detection, InferenceConfig, event_metrics, postprocess
from relay_server.ml.candidates import noise_runs
from relay_server.ml.features import FINE_MS, SLOT_MS, FrameFeatures
from relay_server.ml.windows import Levels

MERGE = InferenceConfig(threshold=0.0, merge_window_ms=200, min_duration_ms=0)


@dataclass(frozen=True)
class Rules:
    pause_db: float = -40.0
    pause_ms: int = 900
    spike_db: float = 25.0
    click_ms: int = 8
    burst_db: float = 15.0
    drop_db: float = 35.0
    glitch_rules: str = "both"  # "burst", "dropout", "both", "white" or "white+dropout"


@dataclass(frozen=True)
class Signals:
    """What the rules need from one file, computed once."""

    frames: FrameFeatures
    levels: Levels
    hp_excess: np.ndarray

    @classmethod
    def of(cls, frames: FrameFeatures) -> Signals:
        hp = frames.fine_hp_db
        return cls(frames, Levels.of(frames), hp - median_filter(hp, size=51, mode="nearest"))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(),
                    strict=True))


def _close_gaps(mask: np.ndarray, frames: int) -> np.ndarray:
    out = mask.copy()
    runs = _runs(~mask)
    for a, b in runs:
        if a > 0 and b < len(mask) and b - a < frames:
            out[a:b] = True
    return out


def detect_rules(s: Signals, rules: Rules, types: Iterable[str]) -> list[Detection]:
    found: list[Detection] = []
    types = set(types)
    if "long_pause" in types:
        quiet = s.frames.slot_db < s.levels.speech_db + rules.pause_db
        found += [Detection("long_pause", a * SLOT_MS, b * SLOT_MS, 1.0)
                  for a, b in _runs(quiet) if (b - a) * SLOT_MS >= rules.pause_ms]
    if "click" in types:
        found += [Detection("click", a * FINE_MS, b * FINE_MS, 1.0)
                  for a, b in _runs(s.hp_excess > rules.spike_db)
                  if (b - a) * FINE_MS <= rules.click_ms]
    if "glitch" in types:
        if rules.glitch_rules in ("burst", "both"):
            hot = _close_gaps(s.hp_excess > rules.burst_db, 5)
            found += [Detection("glitch", a * FINE_MS, b * FINE_MS, 1.0)
                      for a, b in _runs(hot) if 16 <= (b - a) * FINE_MS <= 150]
        if "white" in rules.glitch_rules:
            starts, ends = noise_runs(s.frames, s.levels.speech_db)
            found += [Detection("glitch", int(a) * FINE_MS, int(b) * FINE_MS, 1.0)
                      for a, b in zip(starts, ends, strict=True)]
        if rules.glitch_rules in ("dropout", "both", "white+dropout"):
            x, ref = s.frames.fine_db, s.levels.speech_db
            low = x < ref - rules.drop_db
            loud = x >= ref - 20.0
            for a, b in _runs(low):
                if (10 <= (b - a) * FINE_MS <= 200 and loud[max(0, a - 6):a].any()
                        and loud[b:b + 6].any()):
                    found.append(Detection("glitch", a * FINE_MS, b * FINE_MS, 1.0))
    return postprocess(found, MERGE)


GRID: dict[str, dict[str, Sequence[object]]] = {
    "long_pause": {"pause_db": [-70, -60, -50, -45, -40, -35, -30, -25, -20],
                   "pause_ms": [500, 600, 700, 800, 900, 1000, 1100, 1200]},
    "click": {"spike_db": [10, 15, 20, 25, 30, 35, 40, 45], "click_ms": [2, 4, 6, 8, 12, 16]},
    "glitch": {"burst_db": [6, 9, 12, 15, 18, 21, 25, 30],
               "drop_db": [30, 35, 40, 45, 50, 55, 60, 70],
               "glitch_rules": ["burst", "dropout", "both", "white", "white+dropout"]},
}


def tune(signals: Mapping[str, Signals], truth: Mapping[str, Sequence[Detection]],
         types: Sequence[str]) -> Rules:
    """Grid-search each type's thresholds for the best event F1 on the given files."""
    rules = Rules()
    for kind in types:
        grid = GRID[kind]
        best, best_f1 = rules, -1.0
        for values in itertools.product(*grid.values()):
            candidate = replace(rules, **dict(zip(grid, values, strict=True)))  # type: ignore[arg-type]
            found = {k: detect_rules(s, candidate, [kind]) for k, s in signals.items()}
            f1 = event_metrics(truth, found, [kind])["f1_score"]
            if f1 > best_f1:
                best, best_f1 = candidate, f1
        rules = best
    return rules
