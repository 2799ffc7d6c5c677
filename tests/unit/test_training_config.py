"""TrainingConfig rules, the guide's tuning advice and the pre-flight checks (Qt-free)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from relay_desktop.core.training import (
    MIN_AUDIO_MS,
    PARAMS,
    TrainingConfig,
    all_passed,
    format_duration,
    preflight,
    refusal_checks,
    tuning_advice,
)
from relay_desktop.core.training.preflight import (
    ENOUGH_AUDIO,
    FILES_READY,
    PUBLISHED,
    SERVER,
    TYPES_LABELLED,
)


@dataclass(frozen=True)
class Set:
    version: int
    status: str


@dataclass(frozen=True)
class Audio:
    filename: str
    processing_status: str
    duration_ms: int | None


def test_defaults_and_ranges_are_the_documented_ones() -> None:
    config = TrainingConfig(artifact_types=("click",))
    assert config.to_json() == {"artifact_types": ["click"], "epochs": 20,
                                "validation_split": 0.2, "learning_rate": 0.001,
                                "batch_size": 32, "chunk_size_ms": 500, "stride_ms": 250}
    ranges = {p.name: (p.default, p.minimum, p.maximum) for p in PARAMS}
    assert ranges == {"epochs": (20, 1, 100), "validation_split": (0.2, 0.1, 0.5),
                      "learning_rate": (0.001, 0.0001, 0.1), "batch_size": (32, 8, 256),
                      "chunk_size_ms": (500, 100, 5000), "stride_ms": (250, 10, 5000)}
    assert config.validate(["click", "glitch"]) == {}


@pytest.mark.parametrize(("field", "value"), [
    ("epochs", 0), ("epochs", 101), ("validation_split", 0.05), ("validation_split", 0.6),
    ("learning_rate", 0.00001), ("learning_rate", 0.2), ("batch_size", 7),
    ("batch_size", 257), ("chunk_size_ms", 99), ("chunk_size_ms", 5001), ("stride_ms", 9),
    ("epochs", 2.5), ("batch_size", True),
])
def test_out_of_range_values_get_a_message_on_their_field(field: str, value: object) -> None:
    config = TrainingConfig(artifact_types=("click",), **{field: value})  # type: ignore[arg-type]
    problems = config.validate()
    assert list(problems) == [field]
    assert problems[field].endswith(".")


def test_edges_of_the_ranges_are_accepted() -> None:
    low = TrainingConfig(("a",), 1, 0.1, 0.0001, 8, 100, 10)
    high = TrainingConfig(("a",), 100, 0.5, 0.1, 256, 5000, 5000)
    assert low.validate() == {} and high.validate() == {}


def test_types_and_stride_rules() -> None:
    assert "artifact_types" in TrainingConfig(()).validate()
    assert "artifact_types" in TrainingConfig(("a", "a")).validate()
    unknown = TrainingConfig(("a", "zap")).validate(["a", "b"])
    assert "zap" in unknown["artifact_types"]
    gap = TrainingConfig(("a",), chunk_size_ms=400, stride_ms=500).validate()
    assert list(gap) == ["stride_ms"] and "400 ms" in gap["stride_ms"]


def test_from_json_fills_defaults_and_ignores_unknown_keys() -> None:
    config = TrainingConfig.from_json({"artifact_types": ["a"], "epochs": 3, "other": 1})
    assert config == TrainingConfig(("a",), epochs=3)


@pytest.mark.parametrize(("minutes", "size", "epochs", "split"), [
    (7, "small", (10, 20), 0.3), (29.9, "small", (10, 20), 0.3),
    (30, "medium", (20, 40), 0.2), (120, "medium", (20, 40), 0.2),
    (121, "large", (30, 50), 0.1),
])
def test_tuning_advice_follows_the_guide(minutes: float, size: str, epochs: tuple[int, int],
                                         split: float) -> None:
    advice = tuning_advice(int(minutes * 60_000))
    assert (advice.size, advice.epochs) == (size, epochs)
    assert advice.suggested["validation_split"] == split
    assert epochs[0] <= advice.suggested["epochs"] <= epochs[1]
    text = advice.text()
    assert f"Epochs: {epochs[0]}-{epochs[1]}" in text
    assert "0.0001" in text and "Batch size" in text
    assert TrainingConfig(("a",), **advice.suggested).validate() == {}  # type: ignore[arg-type]
    if size == "large":
        assert "64-128" in text and "0.01" in text and advice.suggested["batch_size"] == 64


READY = [Audio(f"f{i}.wav", "ready", 60_000) for i in range(6)]


def test_every_check_passes_on_a_trainable_dataset() -> None:
    checks = preflight(Set(3, "published"), READY, {"click": 4, "glitch": 1},
                       ["click", "glitch"])
    assert [c.key for c in checks] == [PUBLISHED, FILES_READY, ENOUGH_AUDIO, TYPES_LABELLED]
    assert all_passed(checks)
    assert all(c.fix == "" for c in checks)
    assert "6 min" in checks[2].detail


def test_a_draft_fails_with_publish_as_the_fix() -> None:
    checks = preflight(Set(2, "draft"), READY, {"click": 1}, ["click"])
    assert [c.passed for c in checks] == [False, True, True, True]
    assert "v2" in checks[0].detail and "Publish" in checks[0].fix


def test_files_not_ready_are_named_and_do_not_count_as_audio() -> None:
    files = [*READY[:5], Audio("late.wav", "embedding", None), Audio("bad.wav", "failed", None)]
    checks = {c.key: c for c in preflight(Set(1, "published"), files, {"click": 1}, ["click"])}
    assert not checks[FILES_READY].passed
    assert "2 of 7" in checks[FILES_READY].detail
    assert "late.wav (embedding)" in checks[FILES_READY].detail
    assert "delete or re-upload" in checks[FILES_READY].fix
    assert checks[ENOUGH_AUDIO].passed   # exactly 5 min of ready audio


def test_too_little_audio_says_how_much_more() -> None:
    files = [Audio("a.wav", "ready", 123_000)]
    checks = {c.key: c for c in preflight(Set(1, "published"), files, {"click": 1}, ["click"])}
    assert not checks[ENOUGH_AUDIO].passed
    assert "2 min 3 s" in checks[ENOUGH_AUDIO].detail
    assert "Upload 2 min 57 s more" in checks[ENOUGH_AUDIO].fix
    assert MIN_AUDIO_MS == 300_000 and format_duration(MIN_AUDIO_MS) == "5 min"


def test_a_chosen_type_without_annotations_fails_and_none_chosen_fails() -> None:
    checks = preflight(Set(1, "published"), READY, {"click": 2, "glitch": 0},
                       ["click", "glitch"])
    assert not checks[3].passed and "glitch" in checks[3].detail
    assert "Untick glitch" in checks[3].fix
    assert preflight(Set(1, "published"), READY, {"click": 2}, ["click"])[3].passed
    assert not preflight(Set(1, "published"), READY, {"click": 2}, [])[3].passed
    no_files = preflight(Set(1, "published"), [], {"click": 2}, ["click"])
    assert not no_files[1].passed and not no_files[2].passed


def test_the_servers_refusal_becomes_one_check_per_problem() -> None:
    detail = ("Cannot train yet. Annotation set v2 is a draft; publish it first (drafts "
              "cannot be trained on). 1 audio file is not ready: x.wav (pending); wait for "
              "processing to finish, or delete the failed files. The dataset has 2 min 3 s "
              "of ready audio; training needs at least 5 min. Upload 2 min 57 s more. "
              "Annotation set v2 has no annotation of type 'click'; label at least one in a "
              "new version, or remove it from config.artifact_types.")
    checks = refusal_checks(detail)
    assert [c.key for c in checks] == [PUBLISHED, FILES_READY, ENOUGH_AUDIO, TYPES_LABELLED]
    assert not any(c.passed for c in checks)
    assert checks[2].fix.endswith("Upload 2 min 57 s more.")
    assert checks[3].fix.startswith("Annotation set v2 has no annotation")
    other = refusal_checks("Annotation set v1 belongs to another dataset")
    assert [(c.key, c.passed) for c in other] == [(SERVER, False)]
    odd = refusal_checks("Something else entirely.")
    assert [(c.key, c.fix) for c in odd] == [(SERVER, "Something else entirely.")]
