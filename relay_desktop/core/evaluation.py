"""Event-level evaluation of detections against ground-truth labels (Qt-free).

The matching rule is the server's (``relay_server/ml/events.py``), so figures
computed here equal a model's ``eval_metrics`` for the same events: within one
file, a label and a detection of the same type are a candidate pair when they
overlap once each side is widened by ``tolerance_ms`` (a zero-length event
overlaps when it lies inside or on the edge of the other); candidates are taken
greedily by largest overlap (ties: earlier label, then earlier detection, in
the order given), one-to-one. Ratios with a zero denominator are 0.0, never NaN.

:func:`sweep` scores the detections kept at each confidence threshold. It finds
candidate pairs once, splits them into independent groups (labels and
detections linked by candidates), and re-runs the greedy step only for groups
whose outcome can depend on the threshold, only at their own confidences.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MAX_SWEEP_POINTS = 101


@dataclass(frozen=True)
class Span:
    """A label or a detection of one file, in milliseconds."""

    audio_file_id: str
    artifact_type: str
    start_ms: int
    end_ms: int
    confidence: float = 1.0


@dataclass(frozen=True)
class Matching:
    """One file's outcome: matched (label, detection) pairs, missed labels, false positives."""

    pairs: list[tuple[Span, Span]]
    missed: list[Span]
    false_positives: list[Span]


@dataclass(frozen=True)
class Scores:
    """Precision, recall and F1 with their counts; ``support`` is the number of labels."""

    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    fn: int
    support: int

    @classmethod
    def from_counts(cls, tp: int, fp: int, fn: int) -> Scores:
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return cls(precision, recall, f1, tp, fp, fn, tp + fn)


@dataclass(frozen=True)
class SweepPoint:
    """The overall figures when only detections with confidence >= ``threshold`` are kept."""

    threshold: float
    precision: float
    recall: float
    f1: float
    tp: int = 0
    fp: int = 0
    fn: int = 0


# -- matching -------------------------------------------------------------------------------

def _overlap(label: Span, det: Span, tolerance_ms: int) -> int | None:
    """The widened overlap of a candidate pair, or None when they do not overlap."""
    overlap = (min(label.end_ms, det.end_ms + tolerance_ms)
               - max(label.start_ms, det.start_ms - tolerance_ms))
    if overlap > 0 or (overlap == 0 and (label.start_ms == label.end_ms
                                         or det.start_ms == det.end_ms)):
        return overlap
    return None


def _candidates(truth: Sequence[Span], detections: Sequence[Span],
                tolerance_ms: int) -> list[tuple[int, int, int]]:
    """(overlap, label index, detection index) of every candidate pair of one file."""
    by_type: dict[str, list[int]] = defaultdict(list)
    for j, det in enumerate(detections):
        by_type[det.artifact_type].append(j)
    index: dict[str, tuple[list[int], list[int], int]] = {}
    for kind, js in by_type.items():
        js.sort(key=lambda j: detections[j].start_ms)
        starts = [detections[j].start_ms for j in js]
        longest = max(max(detections[j].end_ms - detections[j].start_ms, 0) for j in js)
        index[kind] = (js, starts, longest)
    out: list[tuple[int, int, int]] = []
    for i, label in enumerate(truth):
        entry = index.get(label.artifact_type)
        if entry is None:
            continue
        js, starts, longest = entry
        # det.start - tol <= label.end  and  det.end + tol >= label.start
        lo = bisect.bisect_left(starts, label.start_ms - tolerance_ms - longest)
        hi = bisect.bisect_right(starts, label.end_ms + tolerance_ms)
        for k in range(lo, hi):
            j = js[k]
            overlap = _overlap(label, detections[j], tolerance_ms)
            if overlap is not None:
                out.append((overlap, i, j))
    return out


def _greedy(candidates: Sequence[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """Take sorted candidates one-to-one; the (label, detection) index pairs."""
    used_t: set[int] = set()
    used_d: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for _, i, j in candidates:
        if i in used_t or j in used_d:
            continue
        used_t.add(i)
        used_d.add(j)
        pairs.append((i, j))
    return pairs


def match(truth: Sequence[Span], detections: Sequence[Span],
          tolerance_ms: int = 0) -> Matching:
    """Match one file's labels and detections (one-to-one per type, largest overlap first)."""
    truth, detections = list(truth), list(detections)
    candidates = _candidates(truth, detections, tolerance_ms)
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    index_pairs = _greedy(candidates)
    used_t = {i for i, _ in index_pairs}
    used_d = {j for _, j in index_pairs}
    pairs = [(truth[i], detections[j]) for i, j in index_pairs]
    pairs.sort(key=lambda p: (p[0].start_ms, p[0].artifact_type))
    return Matching(pairs=pairs,
                    missed=[t for i, t in enumerate(truth) if i not in used_t],
                    false_positives=[d for j, d in enumerate(detections) if j not in used_d])


def by_file(spans: Iterable[Span]) -> dict[str, list[Span]]:
    """Spans grouped by ``audio_file_id`` (order kept)."""
    out: dict[str, list[Span]] = defaultdict(list)
    for s in spans:
        out[s.audio_file_id].append(s)
    return dict(out)


def all_types(truth: Iterable[Span], detections: Iterable[Span]) -> list[str]:
    """Every artifact type of labels and detections, sorted."""
    return sorted({s.artifact_type for s in truth} | {s.artifact_type for s in detections})


def match_files(truth: Iterable[Span], detections: Iterable[Span],
                types: Iterable[str] | None = None,
                tolerance_ms: int = 0) -> dict[str, Matching]:
    """:func:`match` per file (of labels or detections); other types are left out."""
    truth, detections = list(truth), list(detections)
    wanted = set(all_types(truth, detections) if types is None else types)
    t_files = by_file(s for s in truth if s.artifact_type in wanted)
    d_files = by_file(s for s in detections if s.artifact_type in wanted)
    return {key: match(t_files.get(key, ()), d_files.get(key, ()), tolerance_ms)
            for key in sorted(set(t_files) | set(d_files))}


def scores_of(matchings: Iterable[Matching], types: Iterable[str]
              ) -> tuple[Scores, dict[str, Scores]]:
    """Overall (micro-averaged over ``types``) and per-type scores of matchings."""
    types = list(types)
    counts = {t: [0, 0, 0] for t in types}
    for m in matchings:
        for label, _ in m.pairs:
            if label.artifact_type in counts:
                counts[label.artifact_type][0] += 1
        for det in m.false_positives:
            if det.artifact_type in counts:
                counts[det.artifact_type][1] += 1
        for label in m.missed:
            if label.artifact_type in counts:
                counts[label.artifact_type][2] += 1
    per_type = {t: Scores.from_counts(*counts[t]) for t in types}
    tp, fp, fn = (sum(c[k] for c in counts.values()) for k in range(3))
    return Scores.from_counts(tp, fp, fn), per_type


def evaluate(truth: Iterable[Span], detections: Iterable[Span],
             types: Iterable[str] | None = None,
             tolerance_ms: int = 0) -> tuple[Scores, dict[str, Scores]]:
    """Overall and per-type scores over many files (``types`` None: every type seen)."""
    truth, detections = list(truth), list(detections)
    kinds = all_types(truth, detections) if types is None else list(types)
    return scores_of(match_files(truth, detections, kinds, tolerance_ms).values(), kinds)


# -- threshold sweep ------------------------------------------------------------------------

def default_thresholds(detections: Iterable[Span],
                       max_points: int = MAX_SWEEP_POINTS) -> list[float]:
    """0, 1 and every distinct confidence (evenly chosen among them past ``max_points``)."""
    distinct = sorted({float(d.confidence) for d in detections} - {0.0, 1.0})
    room = max(max_points - 2, 0)
    if len(distinct) > room:
        n = len(distinct)
        distinct = [distinct[round(k * (n - 1) / (room - 1))] for k in range(room)] \
            if room > 1 else distinct[:room]
    return sorted({0.0, 1.0, *distinct})


class _Groups:
    """Union-find over one file's labels (0..n-1) and detections (n..n+m-1)."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, a: int) -> int:
        parent = self.parent
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


def sweep(truth: Iterable[Span], detections: Iterable[Span],
          thresholds: Iterable[float] | None = None, tolerance_ms: int = 0,
          types: Iterable[str] | None = None) -> list[SweepPoint]:
    """Overall precision/recall/F1 at each threshold (ascending), keeping detections with
    ``confidence >= threshold``; ``thresholds`` None: :func:`default_thresholds`."""
    truth, detections = list(truth), list(detections)
    kinds = set(all_types(truth, detections) if types is None else types)
    truth = [s for s in truth if s.artifact_type in kinds]
    detections = [s for s in detections if s.artifact_type in kinds]
    levels = sorted(set(default_thresholds(detections) if thresholds is None
                        else (float(t) for t in thresholds)))
    if not levels:
        return []
    n_levels = len(levels)
    tp = [0] * n_levels

    def add_tp(conf_needed: float, count: int = 1) -> None:
        """Count ``count`` true positives at every threshold <= ``conf_needed``."""
        k = bisect.bisect_right(levels, conf_needed)
        for idx in range(k):
            tp[idx] += count

    single: list[float] = []  # confidences of pairs alone in their group
    t_files = by_file(truth)
    d_files = by_file(detections)
    for key in set(t_files) & set(d_files):
        labels, dets = t_files[key], d_files[key]
        candidates = _candidates(labels, dets, tolerance_ms)
        if not candidates:
            continue
        n = len(labels)
        groups = _Groups(n + len(dets))
        for _, i, j in candidates:
            groups.union(i, n + j)
        grouped: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        for c in candidates:
            grouped[groups.find(c[1])].append(c)
        for members in grouped.values():
            if len(members) == 1:
                single.append(float(dets[members[0][2]].confidence))
                continue
            members.sort(key=lambda c: (-c[0], c[1], c[2]))
            confs = sorted({float(dets[j].confidence) for _, _, j in members})
            # the group's outcome changes only at its own confidences: evaluate at each
            # level that some threshold maps onto
            wanted_levels = sorted({confs[k] for t in levels
                                    if (k := bisect.bisect_left(confs, t)) < len(confs)})
            previous = 0
            for level in reversed(wanted_levels):  # highest first: counts at t <= level
                kept = [c for c in members if dets[c[2]].confidence >= level]
                count = len(_greedy(kept))
                if count != previous:
                    # thresholds <= level (and above the next lower level) see ``count``;
                    # add the difference to every threshold <= level
                    add_tp(level, count - previous)
                    previous = count
    single.sort()
    for idx, t in enumerate(levels):
        tp[idx] += len(single) - bisect.bisect_left(single, t)
    confs_all = sorted(float(d.confidence) for d in detections)
    total_truth = len(truth)
    points = []
    for idx, t in enumerate(levels):
        n_kept = len(confs_all) - bisect.bisect_left(confs_all, t)
        s = Scores.from_counts(tp[idx], n_kept - tp[idx], total_truth - tp[idx])
        points.append(SweepPoint(t, s.precision, s.recall, s.f1, s.tp, s.fp, s.fn))
    return points


def best_f1(points: Iterable[SweepPoint]) -> SweepPoint | None:
    """The point with the highest F1 (ties: the higher threshold); None when empty."""
    best: SweepPoint | None = None
    for p in points:
        if best is None or (p.f1, p.threshold) > (best.f1, best.threshold):
            best = p
    return best
