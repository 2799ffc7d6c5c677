"""Event matching and the EvalMetrics shape, on hand-made cases; training config parsing."""

from __future__ import annotations

import math
from typing import Any

import pytest

from relay_server.ml import (
    Detection,
    Region,
    TrainingConfig,
    edge_errors,
    event_metrics,
    match_events,
)

TRUTH = {"a": [Region("glitch", 1000, 1100), Region("click", 2000, 2003),
               Region("long_pause", 5000, 6500)],
         "b": [Region("glitch", 300, 400)]}
TYPES = ["glitch", "click", "long_pause"]


def test_perfect_detections_score_one_with_support() -> None:
    found = {k: [Detection(r.artifact_type, r.start_ms, r.end_ms, 0.9) for r in v]
             for k, v in TRUTH.items()}
    m = event_metrics(TRUTH, found, TYPES)
    assert m["precision"] == m["recall"] == m["f1_score"] == 1.0
    assert m["per_class"]["glitch"] == {"precision": 1.0, "recall": 1.0, "f1_score": 1.0,
                                        "support": 2}
    assert m["per_class"]["click"]["support"] == 1
    assert set(m) == {"precision", "recall", "f1_score", "per_class"}


def test_no_detections_is_zero_not_nan() -> None:
    m = event_metrics(TRUTH, {}, TYPES)
    values = [m["precision"], m["recall"], m["f1_score"]] + [
        v for c in m["per_class"].values() for k, v in c.items() if k != "support"]
    assert all(v == 0.0 and not math.isnan(v) for v in values)
    assert m["per_class"]["glitch"]["support"] == 2


def test_partial_detection() -> None:
    found = {"a": [Detection("glitch", 1050, 1300, 0.8),  # overlaps the glitch: TP
                   Detection("glitch", 8000, 8100, 0.8),  # nothing there: FP
                   Detection("click", 5200, 5203, 0.8)]}  # inside a pause, wrong type: FP
    m = event_metrics(TRUTH, found, TYPES)
    g = m["per_class"]["glitch"]
    assert (g["precision"], g["recall"], g["support"]) == (0.5, 0.5, 2)
    assert m["per_class"]["click"]["precision"] == 0.0
    assert m["per_class"]["long_pause"]["recall"] == 0.0
    # micro average: 1 TP, 2 FP, 3 FN
    assert m["precision"] == round(1 / 3, 4)
    assert m["recall"] == 0.25
    assert m["f1_score"] == round(2 * (1 / 3) * 0.25 / (1 / 3 + 0.25), 4)


def test_matching_is_one_to_one_and_by_type() -> None:
    truth = [Region("glitch", 0, 100), Region("glitch", 150, 250)]
    one_long = [Detection("glitch", 0, 250, 0.9)]
    matching = match_events(truth, one_long)
    assert len(matching.pairs) == 1 and len(matching.missed) == 1
    assert not match_events(truth, [Detection("click", 0, 100, 0.9)]).pairs


def test_tolerance_widens_matching_and_touching_is_not_overlap() -> None:
    truth = [Region("click", 1000, 1003)]
    near = [Detection("click", 1010, 1013, 0.9)]
    assert not match_events(truth, near).pairs
    assert match_events(truth, near, tolerance_ms=10).pairs
    assert not match_events(truth, [Detection("click", 1003, 1006, 0.9)]).pairs


def test_edge_errors_are_medians() -> None:
    truth = [Region("glitch", 0, 100), Region("glitch", 1000, 1100), Region("glitch", 2000, 2100)]
    dets = [Detection("glitch", 10, 100, 1), Detection("glitch", 1020, 1130, 1),
            Detection("glitch", 1990, 2100, 1)]
    assert edge_errors(match_events(truth, dets).pairs) == (10.0, 0.0)
    assert edge_errors([]) == (None, None)


def test_training_config_from_mapping() -> None:
    cfg = TrainingConfig.from_mapping({"artifact_types": ["glitch"], "epochs": 5})
    assert cfg == TrainingConfig(("glitch",), epochs=5)
    assert cfg.as_dict()["artifact_types"] == ["glitch"]
    bad: Any
    for bad in ({}, {"artifact_types": []}, {"artifact_types": ["a", "a"]},
                {"artifact_types": ["a"], "epochs": 0}, {"artifact_types": ["a"], "epochs": 1.5},
                {"artifact_types": ["a"], "validation_split": 0.9},
                {"artifact_types": ["a"], "batch_size": 4},
                {"artifact_types": ["a"], "stride_ms": 600}):
        with pytest.raises(ValueError):
            TrainingConfig.from_mapping(bad)
