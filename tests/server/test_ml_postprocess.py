"""relay_server.ml.postprocess: threshold, same-type merge, minimum duration, as documented."""

from __future__ import annotations

import pytest

from relay_server.ml import Detection, InferenceConfig, postprocess


def det(start: int, end: int, confidence: float = 0.9, kind: str = "glitch") -> Detection:
    return Detection(kind, start, end, confidence)


def test_guide_example_merges_three_glitches_into_one() -> None:
    events = [det(1000, 1100, 0.6), det(1150, 1250, 0.9), det(1280, 1380, 0.7)]
    out = postprocess(events, InferenceConfig(threshold=0.5, merge_window_ms=200))
    assert out == [Detection("glitch", 1000, 1380, 0.9)]  # merged confidence: the max


def test_threshold_keeps_equal_and_drops_below() -> None:
    events = [det(0, 100, 0.5), det(1000, 1100, 0.4999), det(2000, 2100, 0.51)]
    out = postprocess(events, InferenceConfig(threshold=0.5, merge_window_ms=0,
                                              min_duration_ms=0))
    assert [e.start_ms for e in out] == [0, 2000]


def test_threshold_applies_before_merging() -> None:
    # the weak middle event must not bridge the two strong ones
    events = [det(0, 100, 0.9), det(150, 250, 0.2), det(400, 500, 0.9)]
    out = postprocess(events, InferenceConfig(threshold=0.5, merge_window_ms=200,
                                              min_duration_ms=0))
    assert [(e.start_ms, e.end_ms) for e in out] == [(0, 100), (400, 500)]


def test_min_duration_drops_shorter_keeps_equal() -> None:
    events = [det(0, 49), det(1000, 1050), det(2000, 2003, kind="click")]
    out = postprocess(events, InferenceConfig(threshold=0.0, merge_window_ms=0,
                                              min_duration_ms=50))
    assert [(e.start_ms, e.end_ms) for e in out] == [(1000, 1050)]


def test_min_duration_applies_after_merging() -> None:
    events = [det(0, 30), det(40, 70)]
    out = postprocess(events, InferenceConfig(threshold=0.0, merge_window_ms=20,
                                              min_duration_ms=50))
    assert out == [Detection("glitch", 0, 70, 0.9)]


def test_types_are_never_merged_together() -> None:
    events = [det(1000, 1100, kind="glitch"), det(1120, 1200, kind="click"),
              det(1150, 1250, kind="glitch")]
    out = postprocess(events, InferenceConfig(threshold=0.0, merge_window_ms=200,
                                              min_duration_ms=0))
    assert [(e.artifact_type, e.start_ms, e.end_ms) for e in out] == [
        ("glitch", 1000, 1250), ("click", 1120, 1200)]


def test_gap_equal_to_window_is_not_merged_but_overlap_always_is() -> None:
    apart = postprocess([det(0, 100), det(300, 400)],
                        InferenceConfig(threshold=0.0, merge_window_ms=200, min_duration_ms=0))
    assert len(apart) == 2
    overlapping = postprocess([det(0, 100), det(50, 400)],
                              InferenceConfig(threshold=0.0, merge_window_ms=0,
                                              min_duration_ms=0))
    assert overlapping == [Detection("glitch", 0, 400, 0.9)]


def test_unsorted_input_gives_sorted_output() -> None:
    events = [det(5000, 5100), det(0, 100, kind="click"), det(2000, 2100)]
    out = postprocess(events, InferenceConfig(threshold=0.0, merge_window_ms=0,
                                              min_duration_ms=0))
    assert [e.start_ms for e in out] == [0, 2000, 5000]


def test_inference_config_defaults_and_validation() -> None:
    assert InferenceConfig.from_mapping(None) == InferenceConfig(0.5, 200, 50)
    assert InferenceConfig.from_mapping({"threshold": 0.7}).threshold == 0.7
    for bad in ({"threshold": 1.5}, {"merge_window_ms": -1}, {"min_duration_ms": "x"},
                {"min_duration_ms": 2.5}, {"threshold": True}):
        with pytest.raises(ValueError):
            InferenceConfig.from_mapping(bad)
