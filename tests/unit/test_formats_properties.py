"""Property tests: every format round-trips regions exactly to the millisecond."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from relay_desktop.formats import FORMATS, Region, export_regions, import_regions

TYPES = ["glitch", "long_pause", "click", "hallucination"]
text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1,
               max_size=20)


@st.composite
def span(draw: st.DrawFn) -> tuple[int, int]:
    start = draw(st.integers(0, 36_000_000))
    return start, start + draw(st.integers(1, 600_000))


@st.composite
def rich_regions(draw: st.DrawFn) -> list[Region]:
    """Several files, free text names and any confidence: for JSON and CSV."""
    out = []
    for _ in range(draw(st.integers(0, 12))):
        start, end = draw(span())
        out.append(Region(draw(st.sampled_from(["a1", "b2", "c3"])), draw(text), start, end,
                          draw(st.floats(0.0, 1.0)), draw(st.none() | text)))
    return out


@st.composite
def one_file_regions(draw: st.DrawFn, overlap: bool = True) -> list[Region]:
    """One file, known types, confidence 1: what every format can hold."""
    out: list[Region] = []
    ends: dict[str, int] = {}
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(TYPES))
        start, end = draw(span())
        if not overlap:
            start += ends.get(kind, 0)
            end += ends.get(kind, 0)
            ends[kind] = end + draw(st.integers(0, 5))
        out.append(Region("f1", kind, start, end))
    return out


def key(r: Region) -> tuple[object, ...]:
    return (r.audio_file_id or "", r.filename or "", r.artifact_type, r.start_ms, r.end_ms,
            r.confidence)


@settings(max_examples=60, deadline=None)
@given(rich_regions())
def test_json_and_csv_are_lossless(regions: list[Region]) -> None:
    for fmt in ("json", "csv"):
        res = import_regions(export_regions(regions, fmt), fmt)
        assert res.rejected == []
        assert sorted(map(key, res.regions)) == sorted(map(key, regions)), fmt


@settings(max_examples=60, deadline=None)
@given(one_file_regions(overlap=False))
def test_every_format_round_trips_times_exactly(regions: list[Region]) -> None:
    for fmt in FORMATS:
        res = import_regions(export_regions(regions, fmt), fmt, artifact_types=TYPES,
                             audio_file_id="f1")
        assert res.rejected == [], (fmt, res.rejected)
        assert sorted(map(key, res.regions)) == sorted(map(key, regions)), fmt


@settings(max_examples=40, deadline=None)
@given(one_file_regions(overlap=True), st.sampled_from(["audacity", "raven"]))
def test_overlapping_regions_survive_tab_formats(regions: list[Region], fmt: str) -> None:
    res = import_regions(export_regions(regions, fmt), fmt, audio_file_id="f1")
    assert sorted(map(key, res.regions)) == sorted(map(key, regions))


@settings(max_examples=40, deadline=None)
@given(one_file_regions(overlap=False), st.integers(1, 10_000_000))
def test_duration_check_matches_region_ends(regions: list[Region], duration: int) -> None:
    res = import_regions(export_regions(regions, "csv"), "csv", duration_ms=duration)
    assert len(res.regions) == sum(r.end_ms <= duration for r in regions)
    assert len(res.rejected) == sum(r.end_ms > duration for r in regions)
