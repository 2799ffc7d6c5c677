"""Detections of an inference job exported through the formats package, and read back."""

from __future__ import annotations

from pathlib import Path

import pytest

from relay_desktop import formats
from relay_desktop.api.models import Detection, InferenceFile, InferenceJob
from relay_desktop.core.detections_export import (
    EXPORT_FORMATS,
    detection_regions,
    export_detections,
    must_split,
    per_file_names,
    render,
)


def _file(file_id: str, name: str, status: str = "completed",
          dets: tuple[Detection, ...] = (), source: str | None = None) -> InferenceFile:
    return InferenceFile(id=file_id, inference_job_id="job", original_filename=name,
                         s3_key=None, duration_ms=60_000, status=status, error_message=None,
                         detections=dets if status == "completed" else None,
                         detection_count=len(dets), processed_at=None, source_audio_id=source)


DETS_A = (Detection("glitch", 1200, 1450, 0.87), Detection("click", 3000, 3004, 0.51))
DETS_B = (Detection("long_pause", 10, 900, 0.93),)
JOB = InferenceJob(id="job", model_id="m", status="completed", files=(
    _file("f1", "take1.wav", dets=DETS_A),
    _file("f2", "take2.flac", dets=DETS_B, source="audio-2"),
    _file("f3", "broken.wav", status="failed"),
    _file("f4", "quiet.wav"),                     # completed, nothing found
    _file("f5", "take1.wav", dets=DETS_B),        # the same name twice
))


def test_regions_carry_file_names_times_and_confidence() -> None:
    regions = detection_regions(JOB)
    assert len(regions) == 4
    first = regions[0]
    assert (first.audio_file_id, first.filename, first.artifact_type, first.start_ms,
            first.end_ms, first.confidence) == ("f1", "take1.wav", "glitch", 1200, 1450, 0.87)
    # a file added from a dataset is named by its dataset audio, so it imports back there
    assert {r.audio_file_id for r in regions if r.filename == "take2.flac"} == {"audio-2"}
    assert detection_regions(JOB, ["f2"]) == [r for r in regions if r.audio_file_id == "audio-2"]


@pytest.mark.parametrize("fmt", ["json", "csv", "raven"])
def test_combined_formats_round_trip(fmt: str, tmp_path: Path) -> None:
    dest = tmp_path / f"out{formats.EXTENSIONS[fmt]}"
    result = export_detections(JOB, fmt, dest)
    assert result.paths == (dest,)
    assert (result.detections, result.audio_files) == (4, 4)
    back = formats.import_regions(dest.read_text(encoding="utf-8"), fmt)
    assert back.ok, back.rejected
    got = sorted((r.filename, r.artifact_type, r.start_ms, r.end_ms, r.confidence)
                 for r in back.regions)
    want = sorted((r.filename, r.artifact_type, r.start_ms, r.end_ms, r.confidence)
                  for r in detection_regions(JOB))
    assert got == want
    assert "4 detections of 4 audio files" in result.summary(fmt)


@pytest.mark.parametrize("fmt", ["audacity", "raven"])
def test_per_file_exports_one_file_per_completed_audio(fmt: str, tmp_path: Path) -> None:
    result = export_detections(JOB, fmt, tmp_path / "out", per_file=True)
    ext = formats.EXTENSIONS[fmt]
    assert sorted(p.name for p in result.paths) == sorted(
        [f"take1{ext}", f"take2{ext}", f"quiet{ext}", f"take1-2{ext}"])
    by_name = {p.name: formats.import_regions(p.read_text(encoding="utf-8"), fmt)
               for p in result.paths}
    assert [(r.artifact_type, r.start_ms, r.end_ms) for r in by_name[f"take1{ext}"].regions] \
        == [("glitch", 1200, 1450), ("click", 3000, 3004)]
    assert by_name[f"quiet{ext}"].regions == []
    assert [(r.artifact_type, r.start_ms, r.end_ms) for r in by_name[f"take1-2{ext}"].regions] \
        == [("long_pause", 10, 900)]


def test_audacity_is_always_split() -> None:
    assert must_split("audacity") and not must_split("json")
    assert set(render(JOB, "audacity")) == set(per_file_names(JOB.files[:2] + JOB.files[3:],
                                                              "audacity").values())
    assert set(EXPORT_FORMATS) <= set(formats.FORMATS)


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="textgrid"):
        export_detections(JOB, "textgrid", tmp_path / "x.TextGrid")


def test_odd_names_become_safe_file_names() -> None:
    files = [_file("a", "dir/sub\\na:me?.wav"), _file("b", "")]
    names = per_file_names(files, "audacity")
    assert "/" not in names["a"] and "\\" not in names["a"] and "?" not in names["a"]
    assert names["b"] == "b.txt"
