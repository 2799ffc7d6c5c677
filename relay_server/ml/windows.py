"""Windows of ``chunk_size_ms`` every ``stride_ms``: their features and their labels.

Window features are pooled from the frame signals with cumulative sums and
strided views, never another FFT. Levels are in dB relative to the file's
speech level (95th percentile of 10 ms energies), so they do not depend on
the file's gain. Silence is judged against the file's own floor, so room
tone under the speech is not taken for sound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from relay_server.ml.candidates import dropout_runs, noise_runs
from relay_server.ml.features import FINE_MS, FINE_PER_SLOT, SLOT_MS, FrameFeatures
from relay_server.ml.records import Region

DEAD_DB = -55.0  # fine frames this far below the speech level are "dead" (digital silence)
SHORT_DEAD_MS = 250  # dead runs shorter than this look like dropouts, longer like pauses
QUIET_RUN_CAP_S = 5.0


@dataclass(frozen=True)
class Grid:
    """Window positions in slots: window w covers slots [w * stride, w * stride + size)."""

    size: int
    stride: int
    count: int

    @classmethod
    def for_slots(cls, slots: int, chunk_ms: int, stride_ms: int) -> Grid:
        size = max(1, round(chunk_ms / SLOT_MS))
        stride = max(1, round(stride_ms / SLOT_MS))
        count = 1 if slots <= size else math.ceil((slots - size) / stride) + 1
        return cls(size, stride, count)

    def start_ms(self, w: int) -> int:
        return w * self.stride * SLOT_MS

    def end_ms(self, w: int) -> int:
        return (w * self.stride + self.size) * SLOT_MS

    @property
    def padded_slots(self) -> int:
        return (self.count - 1) * self.stride + self.size


@dataclass(frozen=True)
class Levels:
    """A file's reference levels (dB) and the silence masks derived from them."""

    speech_db: float
    floor_db: float
    hp_ref_db: float
    quiet: np.ndarray  # per slot
    dead: np.ndarray  # per fine frame

    @classmethod
    def of(cls, ff: FrameFeatures) -> Levels:
        slot_db = ff.slot_db
        speech = float(np.percentile(slot_db, 95)) if len(slot_db) else 0.0
        floor = float(np.percentile(slot_db, 5)) if len(slot_db) else 0.0
        hp_ref = float(np.percentile(ff.fine_hp_db, 95)) if len(ff.fine_hp_db) else 0.0
        quiet = slot_db < floor + max(6.0, 0.35 * (speech - floor))
        dead = ff.fine_db < speech + DEAD_DB
        return cls(speech, floor, hp_ref, quiet, dead)


def run_lengths(mask: np.ndarray) -> np.ndarray:
    """For each element, the length of the run of True it belongs to (0 where False)."""
    out = np.zeros(len(mask), dtype=np.float32)
    if not len(mask):
        return out
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    lengths = np.flatnonzero(edges == -1) - starts
    out[mask.astype(bool)] = np.repeat(lengths, lengths)
    return out


def _pad(x: np.ndarray, n: int) -> np.ndarray:
    if len(x) >= n:
        return x[:n]
    if not len(x):
        return np.zeros((n, *x.shape[1:]), dtype=np.float32)
    return np.concatenate([x, np.repeat(x[-1:], n - len(x), axis=0)])


def _windows(x: np.ndarray, grid: Grid, scale: int = 1) -> np.ndarray:
    """(count, size * scale) strided view of a per-slot (scale 1) or per-fine array."""
    x = _pad(x, grid.padded_slots * scale)
    return sliding_window_view(x, grid.size * scale)[::grid.stride * scale]


def _pooled_mean_std(x: np.ndarray, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    x = _pad(x, grid.padded_slots).astype(np.float64)
    zero = np.zeros((1, x.shape[1]))
    s1 = np.concatenate([zero, np.cumsum(x, axis=0)])
    s2 = np.concatenate([zero, np.cumsum(x * x, axis=0)])
    starts = np.arange(grid.count) * grid.stride
    ends = starts + grid.size
    mean = (s1[ends] - s1[starts]) / grid.size
    var = np.maximum((s2[ends] - s2[starts]) / grid.size - mean ** 2, 0.0)
    return mean, np.sqrt(var)


FEATURE_NAMES: tuple[str, ...] = (
    *(f"mel{i}_mean" for i in range(32)), *(f"mel{i}_std" for i in range(32)),
    "db_min", "db_p10", "db_p50", "db_p90", "db_max",
    "fine_db_min", "hp_crest", "hp_max", "fine_jump_max",
    "flux_max", "flux_mean", "zcr_mean", "zcr_max", "flat_max", "flat_mean",
    "quiet_fraction", "quiet_run_s", "quiet_run_log", "dead_run_log", "short_dead_run_ms",
    *(f"dropout_{n}" for n in ("fall", "rise", "before_db", "after_db", "ms", "depth")),
    "burst_ms",
)
DROPOUT_FEATURES = FEATURE_NAMES[-7:-1]


def window_features(ff: FrameFeatures, grid: Grid, levels: Levels | None = None) -> np.ndarray:
    """(windows, len(FEATURE_NAMES)) float32 features of one file."""
    levels = levels or Levels.of(ff)
    ref = levels.speech_db
    mel_mean, mel_std = _pooled_mean_std(ff.logmel - ref, grid)
    db = _windows(ff.slot_db - ref, grid)
    db_stats = np.concatenate([db.min(axis=1, keepdims=True),
                               np.percentile(db, [10, 50, 90], axis=1).T,
                               db.max(axis=1, keepdims=True)], axis=1)
    fine = _windows(ff.fine_db - ref, grid, FINE_PER_SLOT)
    hp = _windows(ff.fine_hp_db, grid, FINE_PER_SLOT)
    jump = _windows(np.abs(np.diff(ff.fine_db, prepend=ff.fine_db[:1])), grid, FINE_PER_SLOT)
    hp_max = hp.max(axis=1)
    fine_stats = np.stack([fine.min(axis=1), hp_max - np.median(hp, axis=1),
                           hp_max - levels.hp_ref_db, jump.max(axis=1)], axis=1)
    flux_slot = np.maximum(np.diff(ff.logmel, axis=0, prepend=ff.logmel[:1]), 0).mean(axis=1)
    flux = _windows(flux_slot, grid)
    zcr = _windows(ff.zcr, grid)
    flat = _windows(ff.flatness, grid)
    spectral = np.stack([flux.max(axis=1), flux.mean(axis=1), zcr.mean(axis=1),
                         zcr.max(axis=1), flat.max(axis=1), flat.mean(axis=1)], axis=1)
    quiet_run = _windows(run_lengths(levels.quiet) * (SLOT_MS / 1000), grid).max(axis=1)
    quiet_run = np.minimum(quiet_run, QUIET_RUN_CAP_S)
    dead_len = run_lengths(levels.dead) * FINE_MS
    short_dead = np.where(dead_len < SHORT_DEAD_MS, dead_len, 0.0)
    silence = np.stack([
        _windows(levels.quiet.astype(np.float32), grid).mean(axis=1),
        quiet_run, np.log1p(quiet_run * 10),
        np.log1p(_windows(dead_len, grid, FINE_PER_SLOT).max(axis=1)),
        _windows(short_dead, grid, FINE_PER_SLOT).max(axis=1)], axis=1)
    bursts = np.zeros(len(ff.fine_db), dtype=np.float32)
    for a, b in zip(*noise_runs(ff, levels.speech_db), strict=True):
        bursts[a:b] = (b - a) * FINE_MS
    out = np.concatenate([mel_mean, mel_std, db_stats, fine_stats, spectral, silence,
                          _dropout_features(ff, levels, grid),
                          _windows(bursts, grid, FINE_PER_SLOT).max(axis=1)[:, None]], axis=1)
    return np.nan_to_num(out.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)


def _dropout_features(ff: FrameFeatures, levels: Levels, grid: Grid) -> np.ndarray:
    """Per window, of the sharpest dropout-like run touching it: how it looks.

    Sharpness is the steepest fall into the run plus the steepest rise out of
    it (dB per 2 ms); a cut in the waveform is steeper than the way speech
    fades into a closure. Also its length, depth, and the levels just before
    and after (a dropout interrupts loud speech).
    """
    starts, ends = dropout_runs(ff.fine_db, levels.speech_db, levels.floor_db)
    x, ref = ff.fine_db, levels.speech_db
    n = len(x)
    values = np.zeros((n, len(DROPOUT_FEATURES)), dtype=np.float32)
    sharp = np.full(n, -1.0, dtype=np.float32)
    for a, b in zip(starts, ends, strict=True):
        pre, post = x[max(0, a - 8):a + 2], x[b - 2:min(n, b + 8)]
        fall = float(-np.diff(pre).min()) if len(pre) > 1 else 0.0
        rise = float(np.diff(post).max()) if len(post) > 1 else 0.0
        values[a:b] = (fall, rise, pre.max() - ref, post.max() - ref, (b - a) * FINE_MS,
                       ref - x[a:b].mean())
        sharp[a:b] = fall + rise
    view = _windows(sharp, grid, FINE_PER_SLOT)
    pick = np.argmax(view, axis=1) + np.arange(grid.count) * grid.stride * FINE_PER_SLOT
    pick = np.minimum(pick, n - 1) if n else pick
    out = values[pick] if n else np.zeros((grid.count, len(DROPOUT_FEATURES)), np.float32)
    out[view.max(axis=1) < 0] = 0.0
    return out


def window_labels(regions: Sequence[Region], grid: Grid, types: Sequence[str],
                  chunk_ms: int) -> tuple[np.ndarray, np.ndarray]:
    """Per window and type: label (1 = has the artifact) and whether the label is certain.

    A window is positive when it overlaps a region by at least half the
    region or a fifth of the window, whichever is less (so a 3 ms click
    inside a 500 ms window counts); a smaller, partial overlap is ambiguous
    and left out of training and loss.
    """
    starts = np.arange(grid.count) * grid.stride * SLOT_MS
    ends = starts + grid.size * SLOT_MS
    y = np.zeros((grid.count, len(types)), dtype=np.int8)
    certain = np.ones((grid.count, len(types)), dtype=bool)
    index = {t: k for k, t in enumerate(types)}
    for region in regions:
        k = index.get(region.artifact_type)
        if k is None:
            continue
        length = max(1, region.end_ms - region.start_ms)
        need = min(0.5 * length, 0.2 * chunk_ms)
        overlap = np.minimum(ends, region.end_ms) - np.maximum(starts, region.start_ms)
        overlap = np.maximum(overlap, 0 if region.end_ms > region.start_ms else -1)
        hit = overlap >= max(need, 1e-9) if region.end_ms > region.start_ms else (
            (starts <= region.start_ms) & (region.start_ms < ends))
        y[hit, k] = 1
        partial = (overlap > 0) & ~hit
        certain[partial, k] = False
    certain[y.astype(bool)] = True
    return y, certain
