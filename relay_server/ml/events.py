"""Event-level matching and metrics: a detection finds a label of its type that it overlaps.

Matching is one-to-one per type: candidate pairs (same type, overlapping
once each side is widened by ``tolerance_ms``) are taken greedily by largest
overlap, so one long detection covering two labels matches only one of them.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class Event(Protocol):
    @property
    def artifact_type(self) -> str: ...
    @property
    def start_ms(self) -> int: ...
    @property
    def end_ms(self) -> int: ...


@dataclass(frozen=True)
class Matching:
    """Which labels and detections matched, and which are left over."""

    pairs: list[tuple[Event, Event]]  # (label, detection)
    missed: list[Event]  # labels without a detection (false negatives)
    spurious: list[Event]  # detections without a label (false positives)


def match_events(truth: Sequence[Event], detections: Sequence[Event], *,
                 tolerance_ms: int = 0) -> Matching:
    """Pair labels with detections of the same type that overlap (one-to-one)."""
    candidates: list[tuple[int, int, int]] = []
    for i, label in enumerate(truth):
        for j, det in enumerate(detections):
            if det.artifact_type != label.artifact_type:
                continue
            overlap = (min(label.end_ms, det.end_ms + tolerance_ms)
                       - max(label.start_ms, det.start_ms - tolerance_ms))
            # A zero-length event overlaps when it lies inside the other.
            if overlap > 0 or (overlap == 0 and (label.start_ms == label.end_ms
                                                 or det.start_ms == det.end_ms)):
                candidates.append((overlap, i, j))
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    used_t: set[int] = set()
    used_d: set[int] = set()
    pairs: list[tuple[Event, Event]] = []
    for _, i, j in candidates:
        if i in used_t or j in used_d:
            continue
        used_t.add(i)
        used_d.add(j)
        pairs.append((truth[i], detections[j]))
    pairs.sort(key=lambda p: (p[0].start_ms, p[0].artifact_type))
    return Matching(pairs=pairs,
                    missed=[t for i, t in enumerate(truth) if i not in used_t],
                    spurious=[d for j, d in enumerate(detections) if j not in used_d])


def _scores(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def event_metrics(truth_by_file: Mapping[str, Sequence[Event]],
                  detections_by_file: Mapping[str, Sequence[Event]],
                  types: Iterable[str], tolerance_ms: int = 0) -> dict[str, Any]:
    """Event-level precision, recall and F1, overall and per type (the EvalMetrics shape).

    ``support`` is the number of labels of that type. The overall figures are
    micro-averaged (counts pooled over the listed types). A ratio with a zero
    denominator is 0.0: with no detections precision is 0.0, with no labels
    recall is 0.0; never NaN. Labels and detections of other types are ignored.
    """
    types = list(types)
    wanted = set(types)
    counts = {t: [0, 0, 0] for t in types}  # tp, fp, fn
    for key in set(truth_by_file) | set(detections_by_file):
        truth = [e for e in truth_by_file.get(key, ()) if e.artifact_type in wanted]
        dets = [e for e in detections_by_file.get(key, ()) if e.artifact_type in wanted]
        matching = match_events(truth, dets, tolerance_ms=tolerance_ms)
        for label, _ in matching.pairs:
            counts[label.artifact_type][0] += 1
        for det in matching.spurious:
            counts[det.artifact_type][1] += 1
        for label in matching.missed:
            counts[label.artifact_type][2] += 1
    per_class: dict[str, dict[str, Any]] = {}
    for t in types:
        tp, fp, fn = counts[t]
        p, r, f = _scores(tp, fp, fn)
        per_class[t] = {"precision": round(p, 4), "recall": round(r, 4),
                        "f1_score": round(f, 4), "support": tp + fn}
    tp, fp, fn = (sum(c[k] for c in counts.values()) for k in range(3))
    p, r, f = _scores(tp, fp, fn)
    return {"precision": round(p, 4), "recall": round(r, 4), "f1_score": round(f, 4),
            "per_class": per_class}


def edge_errors(pairs: Iterable[tuple[Event, Event]]) -> tuple[float | None, float | None]:
    """Median absolute start and end error (ms) over matched pairs; None when none matched."""
    starts = [abs(d.start_ms - t.start_ms) for t, d in pairs]
    ends = [abs(d.end_ms - t.end_ms) for t, d in pairs]
    if not starts:
        return None, None
    return float(statistics.median(starts)), float(statistics.median(ends))
