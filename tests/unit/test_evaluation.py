"""core.evaluation: the server's matching rule, scores without NaN, the threshold sweep."""

from __future__ import annotations

import math
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from relay_desktop.core.evaluation import (
    Scores,
    Span,
    SweepPoint,
    best_f1,
    default_thresholds,
    evaluate,
    match,
    match_files,
    sweep,
)
from relay_server.ml.events import event_metrics, match_events


def lab(t: str, a: int, b: int, f: str = "f") -> Span:
    return Span(f, t, a, b)


def det(t: str, a: int, b: int, c: float = 0.9, f: str = "f") -> Span:
    return Span(f, t, a, b, c)


# -- matching rule -------------------------------------------------------------------------

def test_exact_overlap_matches() -> None:
    m = match([lab("click", 100, 200)], [det("click", 100, 200)])
    assert len(m.pairs) == 1 and not m.missed and not m.false_positives


def test_touching_spans_do_not_match_until_tolerance_widens_them() -> None:
    truth, dets = [lab("click", 100, 200)], [det("click", 200, 300)]
    m = match(truth, dets)
    assert not m.pairs and m.missed == truth and m.false_positives == dets
    assert len(match(truth, [det("click", 230, 300)], tolerance_ms=20).pairs) == 0
    assert len(match(truth, [det("click", 230, 300)], tolerance_ms=30).pairs) == 0  # touching
    assert len(match(truth, [det("click", 230, 300)], tolerance_ms=31).pairs) == 1


def test_one_long_detection_over_two_labels_matches_only_one() -> None:
    truth = [lab("glitch", 0, 100), lab("glitch", 150, 400)]
    dets = [det("glitch", 0, 500)]
    m = match(truth, dets)
    assert m.pairs == [(truth[1], dets[0])]  # the larger overlap wins
    assert m.missed == [truth[0]] and not m.false_positives


def test_type_mismatch_never_matches() -> None:
    m = match([lab("click", 0, 100)], [det("glitch", 0, 100)])
    assert not m.pairs and len(m.missed) == 1 and len(m.false_positives) == 1


def test_zero_length_events_match_when_inside_or_on_the_edge() -> None:
    assert len(match([lab("click", 50, 50)], [det("click", 0, 100)]).pairs) == 1
    assert len(match([lab("click", 100, 100)], [det("click", 0, 100)]).pairs) == 1
    assert len(match([lab("click", 0, 100)], [det("click", 0, 0)]).pairs) == 1
    assert len(match([lab("click", 101, 101)], [det("click", 0, 100)]).pairs) == 0
    assert len(match([lab("click", 101, 101)], [det("click", 0, 100)],
                     tolerance_ms=1).pairs) == 1


def test_empty_inputs_score_zero_never_nan() -> None:
    for truth, dets in (([], []), ([lab("click", 0, 10)], []), ([], [det("click", 0, 10)])):
        overall, per_type = evaluate(truth, dets)
        for s in (overall, *per_type.values()):
            assert not any(math.isnan(v) for v in (s.precision, s.recall, s.f1))
            assert (s.precision, s.recall, s.f1) == (0.0, 0.0, 0.0)
    overall, per_type = evaluate([lab("click", 0, 10)], [])
    assert (overall.tp, overall.fp, overall.fn, overall.support) == (0, 0, 1, 1)
    assert list(per_type) == ["click"]
    assert sweep([], []) and all(p.f1 == 0.0 for p in sweep([], []))
    assert best_f1([]) is None


def test_scores_per_type_and_overall() -> None:
    truth = [lab("click", 0, 10), lab("click", 100, 110), lab("glitch", 500, 600, f="g")]
    dets = [det("click", 2, 8), det("click", 300, 310), det("glitch", 550, 650, f="g"),
            det("glitch", 550, 650)]  # the last one is on another file: a false positive
    overall, per = evaluate(truth, dets)
    assert per["click"] == Scores.from_counts(1, 1, 1)
    assert (per["glitch"].tp, per["glitch"].fp, per["glitch"].fn) == (1, 1, 0)
    assert (overall.tp, overall.fp, overall.fn, overall.support) == (2, 2, 1, 3)
    assert overall.precision == 0.5 and math.isclose(overall.recall, 2 / 3)
    only_click, per_click = evaluate(truth, dets, types=["click"])
    assert list(per_click) == ["click"] and only_click.tp == 1
    assert set(match_files(truth, dets)) == {"f", "g"}


# -- cross-check with the server's implementation ------------------------------------------

def random_spans(rng: random.Random, files: int, n: int, detections: bool) -> list[Span]:
    out = []
    for _ in range(n):
        start = rng.randrange(0, 5000)
        length = rng.choice([0, rng.randrange(1, 50), rng.randrange(1, 600)])
        out.append(Span(f"file{rng.randrange(files)}", rng.choice(["a", "b", "c"]), start,
                        start + length, round(rng.random(), 2) if detections else 1.0))
    return out


def server_counts(truth: list[Span], dets: list[Span], types: list[str],
                  tol: int) -> dict[str, tuple[int, int, int]]:
    t_by: dict[str, list[Span]] = {}
    d_by: dict[str, list[Span]] = {}
    for s in truth:
        t_by.setdefault(s.audio_file_id, []).append(s)
    for s in dets:
        d_by.setdefault(s.audio_file_id, []).append(s)
    counts = {t: [0, 0, 0] for t in types}
    for key in set(t_by) | set(d_by):
        m = match_events(t_by.get(key, []), d_by.get(key, []), tolerance_ms=tol)
        for label, _ in m.pairs:
            counts[label.artifact_type][0] += 1
        for d in m.spurious:
            counts[d.artifact_type][1] += 1
        for label in m.missed:
            counts[label.artifact_type][2] += 1
    return {t: (c[0], c[1], c[2]) for t, c in counts.items()}


def test_counts_and_figures_equal_the_servers_on_random_data() -> None:
    rng = random.Random(16)
    for _ in range(60):
        truth = random_spans(rng, 3, rng.randrange(0, 40), False)
        dets = random_spans(rng, 3, rng.randrange(0, 40), True)
        tol = rng.choice([0, 0, 10, 100, 400])
        types = ["a", "b", "c"]
        overall, per = evaluate(truth, dets, types=types, tolerance_ms=tol)
        expected = server_counts(truth, dets, types, tol)
        for t in types:
            assert (per[t].tp, per[t].fp, per[t].fn) == expected[t]
        server = event_metrics(
            {k: [s for s in truth if s.audio_file_id == k] for k in {s.audio_file_id
                                                                      for s in truth}},
            {k: [s for s in dets if s.audio_file_id == k] for k in {s.audio_file_id
                                                                     for s in dets}},
            types, tolerance_ms=tol)
        assert round(overall.precision, 4) == server["precision"]
        assert round(overall.recall, 4) == server["recall"]
        assert round(overall.f1, 4) == server["f1_score"]
        for t in types:
            assert per[t].support == server["per_class"][t]["support"]
            assert round(per[t].f1, 4) == server["per_class"][t]["f1_score"]


def test_pairs_are_the_servers_pairs() -> None:
    rng = random.Random(7)
    for _ in range(40):
        truth = random_spans(rng, 1, rng.randrange(0, 30), False)
        dets = random_spans(rng, 1, rng.randrange(0, 30), True)
        ours = match(truth, dets, tolerance_ms=50)
        theirs = match_events(truth, dets, tolerance_ms=50)
        assert ours.pairs == theirs.pairs
        assert ours.missed == theirs.missed and ours.false_positives == theirs.spurious


# -- threshold sweep -----------------------------------------------------------------------

def brute_sweep(truth: list[Span], dets: list[Span], thresholds: list[float],
                tol: int) -> list[tuple[int, int, int]]:
    out = []
    for t in thresholds:
        overall, _ = evaluate(truth, [d for d in dets if d.confidence >= t], tolerance_ms=tol,
                              types=["a", "b", "c"])
        out.append((overall.tp, overall.fp, overall.fn))
    return out


def test_sweep_equals_filtering_then_evaluating() -> None:
    rng = random.Random(3)
    for _ in range(40):
        truth = random_spans(rng, 2, rng.randrange(0, 40), False)
        dets = random_spans(rng, 2, rng.randrange(0, 60), True)
        tol = rng.choice([0, 50, 300])
        points = sweep(truth, dets, tolerance_ms=tol, types=["a", "b", "c"])
        thresholds = [p.threshold for p in points]
        assert thresholds == sorted(thresholds) and thresholds[0] == 0.0
        assert thresholds[-1] == 1.0
        assert [(p.tp, p.fp, p.fn) for p in points] == brute_sweep(truth, dets, thresholds,
                                                                     tol)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 300), st.sampled_from("ab")),
                max_size=25),
       st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 300), st.sampled_from("ab"),
                          st.floats(0, 1)), max_size=25),
       st.sampled_from([0, 25, 200]))
def test_sweep_property(labels: list[tuple[int, int, str]],
                        detections: list[tuple[int, int, str, float]], tol: int) -> None:
    truth = [Span("f", t, a, a + n) for a, n, t in labels]
    dets = [Span("f", t, a, a + n, c) for a, n, t, c in detections]
    points = sweep(truth, dets, tolerance_ms=tol)
    thresholds = [p.threshold for p in points]
    types = sorted({s.artifact_type for s in truth + dets})
    for p, t in zip(points, thresholds, strict=True):
        overall, _ = evaluate(truth, [d for d in dets if d.confidence >= t], types=types,
                              tolerance_ms=tol)
        assert (p.tp, p.fp, p.fn) == (overall.tp, overall.fp, overall.fn)
        assert not any(math.isnan(v) for v in (p.precision, p.recall, p.f1))


def test_recall_never_falls_as_the_threshold_drops() -> None:
    rng = random.Random(11)
    truth = random_spans(rng, 4, 200, False)
    dets = random_spans(rng, 4, 400, True)
    points = sweep(truth, dets, tolerance_ms=20)
    kept = [p.tp + p.fp for p in points]
    assert kept == sorted(kept, reverse=True)  # fewer detections kept at higher thresholds
    # a detection kept in addition can take a label from another one, never leave a
    # matched label unmatched: recall only grows as the threshold drops
    recalls = [p.recall for p in points]
    assert recalls == sorted(recalls, reverse=True)


def test_default_thresholds_are_capped() -> None:
    dets = [det("a", i, i + 5, c=i / 5000) for i in range(5000)]
    levels = default_thresholds(dets)
    assert len(levels) <= 101 and levels[0] == 0.0 and levels[-1] == 1.0
    assert levels == sorted(set(levels))
    few = default_thresholds([det("a", 0, 1, c=0.3), det("a", 0, 1, c=0.7)])
    assert few == [0.0, 0.3, 0.7, 1.0]
    assert len(sweep([lab("a", i, i + 5) for i in range(0, 5000, 3)], dets)) == len(levels)


def test_best_f1_takes_the_highest_and_prefers_the_higher_threshold_on_ties() -> None:
    points = [SweepPoint(0.1, 0.5, 1.0, 0.6), SweepPoint(0.5, 0.8, 0.8, 0.8),
              SweepPoint(0.7, 1.0, 2 / 3, 0.8), SweepPoint(0.9, 1.0, 0.2, 0.33)]
    best = best_f1(points)
    assert best is not None and best.threshold == 0.7
    truth = [lab("a", 0, 10), lab("a", 100, 110)]
    dets = [det("a", 0, 10, 0.9), det("a", 100, 110, 0.6), det("a", 500, 510, 0.4)]
    top = best_f1(sweep(truth, dets))
    assert top is not None and top.threshold == 0.6 and top.f1 == 1.0
