"""relay_desktop.formats: exact layouts, imports of real-world files, every rejection reason."""

from __future__ import annotations

import json

import pytest

from relay_desktop.formats import (
    FORMATS,
    FormatError,
    Region,
    detect_format,
    export_regions,
    import_regions,
)

REGIONS = [Region("a1", "glitch", 1200, 1450, 0.87, "take.wav"),
           Region("a1", "long_pause", 3000, 3750, 1.0, "take.wav")]
TYPES = {"glitch", "long_pause"}


def test_formats_listed() -> None:
    assert FORMATS == ("json", "csv", "audacity", "raven", "textgrid")


def test_unknown_format_is_clear() -> None:
    with pytest.raises(ValueError, match="unknown format 'xls'"):
        export_regions(REGIONS, "xls")
    with pytest.raises(ValueError, match="choose one of json"):
        import_regions("", "xls")


def test_csv_layout() -> None:
    assert export_regions(REGIONS, "csv") == (
        "audio_file_id,filename,artifact_type,start_ms,end_ms,confidence\n"
        "a1,take.wav,glitch,1200,1450,0.87\n"
        "a1,take.wav,long_pause,3000,3750,1.0\n")


def test_json_layout() -> None:
    doc = json.loads(export_regions(REGIONS, "json"))
    assert doc["format"] == "relay-regions" and doc["version"] == 1
    assert doc["regions"][0] == {"audio_file_id": "a1", "filename": "take.wav",
                                 "artifact_type": "glitch", "start_ms": 1200, "end_ms": 1450,
                                 "confidence": 0.87}


def test_audacity_layout() -> None:
    assert export_regions(REGIONS, "audacity") == (
        "1.200000\t1.450000\tglitch\n3.000000\t3.750000\tlong_pause\n")


def test_raven_layout() -> None:
    lines = export_regions(REGIONS, "raven").splitlines()
    assert lines[0].split("\t") == ["Selection", "View", "Channel", "Begin Time (s)",
                                    "End Time (s)", "Low Freq (Hz)", "High Freq (Hz)",
                                    "Annotation", "Confidence", "Begin File"]
    assert lines[1].split("\t") == ["1", "Waveform 1", "1", "1.200", "1.450", "0.000", "0.000",
                                    "glitch", "0.87", "take.wav"]


def test_textgrid_layout_has_a_tier_per_type_and_gaps() -> None:
    text = export_regions(REGIONS, "textgrid", duration_ms=5000,
                          artifact_types=["glitch", "long_pause", "click"])
    assert text.startswith('File type = "ooTextFile"\nObject class = "TextGrid"\n\nxmin = 0 \n'
                           "xmax = 5 \ntiers? <exists> \nsize = 3 \n")
    assert text.count('class = "IntervalTier"') == 3
    glitch = text.split('name = "glitch"')[1].split("item [2]")[0]
    assert "intervals: size = 3" in glitch
    assert ("xmin = 0 \n            xmax = 1.2 \n            text = \"\"" in glitch)
    assert ("xmin = 1.2 \n            xmax = 1.45 \n            text = \"glitch\"" in glitch)
    assert ("xmin = 1.45 \n            xmax = 5 \n            text = \"\"" in glitch)
    click = text.split('name = "click"')[1]
    assert "intervals: size = 1" in click


def test_textgrid_refuses_overlap_and_several_files() -> None:
    with pytest.raises(FormatError, match="overlap"):
        export_regions([Region("a", "glitch", 0, 100), Region("a", "glitch", 50, 150)],
                       "textgrid")
    with pytest.raises(FormatError, match="one audio file"):
        export_regions([Region("a", "glitch", 0, 100), Region("b", "glitch", 0, 100)],
                       "textgrid")
    with pytest.raises(FormatError, match="one audio file"):
        export_regions([Region("a", "glitch", 0, 100), Region("b", "glitch", 0, 100)],
                       "audacity")


def test_tab_formats_refuse_tabs_in_values() -> None:
    with pytest.raises(FormatError, match="tab or line break"):
        export_regions([Region("a", "gl\titch", 0, 100)], "audacity")
    with pytest.raises(FormatError, match="tab or line break"):
        export_regions([Region("a", "glitch", 0, 100, filename="x\ny.wav")], "raven")


def test_praat_written_textgrid_imports() -> None:
    """A TextGrid as Praat writes it (long format, a point tier, a gap, CRLF)."""
    text = (
        'File type = "ooTextFile"\r\nObject class = "TextGrid"\r\n\r\nxmin = 0\r\nxmax = 2.5\r\n'
        "tiers? <exists>\r\nsize = 2\r\nitem []:\r\n    item [1]:\r\n"
        '        class = "IntervalTier"\r\n        name = "glitch"\r\n        xmin = 0\r\n'
        "        xmax = 2.5\r\n        intervals: size = 3\r\n        intervals [1]:\r\n"
        '            xmin = 0\r\n            xmax = 0.5\r\n            text = ""\r\n'
        "        intervals [2]:\r\n            xmin = 0.5\r\n            xmax = 0.6234\r\n"
        '            text = "glitch"\r\n        intervals [3]:\r\n            xmin = 0.6234\r\n'
        '            xmax = 2.5\r\n            text = ""\r\n    item [2]:\r\n'
        '        class = "TextTier"\r\n        name = "events"\r\n        xmin = 0\r\n'
        "        xmax = 2.5\r\n        points: size = 1\r\n        points [1]:\r\n"
        '            number = 1.5\r\n            mark = "beep"\r\n')
    res = import_regions(text, "textgrid", audio_file_id="a9")
    assert res.regions == [Region("a9", "glitch", 500, 623)]
    (skipped,) = res.rejected
    assert "point tier" in skipped.reason and skipped.line == 28


def test_textgrid_short_format_and_generic_tier() -> None:
    text = ('File type = "ooTextFile"\nObject class = "TextGrid"\n\n0\n3\n<exists>\n1\n'
            '"IntervalTier"\n"labels"\n0\n3\n2\n0\n1\n"long_pause"\n1\n3\n""\n')
    res = import_regions(text, "textgrid", artifact_types=TYPES)
    assert res.regions == [Region(None, "long_pause", 0, 1000)]
    assert not res.rejected


def test_textgrid_truncated_is_reported() -> None:
    text = export_regions(REGIONS[:1], "textgrid")
    res = import_regions(text[: len(text) // 2], "textgrid")
    assert res.rejected and "ends early" in res.rejected[-1].reason
    bad = import_regions("hello", "textgrid")
    assert bad.regions == [] and bad.rejected


def test_raven_import_skips_second_view_and_reads_files() -> None:
    text = ("Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\t"
            "High Freq (Hz)\tLabel\n"
            "1\tWaveform 1\t1\t0.5\t0.75\t0\t0\tglitch\n"
            "1\tSpectrogram 1\t1\t0.5\t0.75\t100\t8000\tglitch\n"
            "2\tSpectrogram 1\t1\t1.0000001\t2.4999999\t100\t8000\tlong_pause\n")
    res = import_regions(text, "raven", artifact_types=TYPES)
    assert res.regions == [Region(None, "glitch", 500, 750),
                           Region(None, "long_pause", 1000, 2500)]
    assert not res.rejected


def test_audacity_import_skips_spectral_lines() -> None:
    text = "0.100000\t0.200000\tglitch\n\\\t100.0\t8000.0\n1.5\t2\tlong_pause\n\n"
    res = import_regions(text, "audacity", artifact_types=TYPES, audio_file_id="a")
    assert res.regions == [Region("a", "glitch", 100, 200), Region("a", "long_pause", 1500, 2000)]


def test_csv_import_any_column_order_and_defaults() -> None:
    text = "end_ms,start_ms,artifact_type\n200,100,glitch\n"
    res = import_regions(text, "csv", audio_file_id="a")
    assert res.regions == [Region("a", "glitch", 100, 200, 1.0)]


def test_json_import_accepts_list_and_annotation_set() -> None:
    items = [{"audio_file_id": "x", "artifact_type": "glitch", "start_ms": 1, "end_ms": 2,
              "confidence": 0.5, "id": "ignored"}]
    assert import_regions(json.dumps(items), "json").regions == [
        Region("x", "glitch", 1, 2, 0.5)]
    assert import_regions(json.dumps({"annotations": items}), "json").regions == [
        Region("x", "glitch", 1, 2, 0.5)]


# -- every rejection reason, in every format that can express it ---------------

BAD_ROWS = {
    "unknown type": ("pop", "1", "2", "unknown artifact type 'pop'"),
    "start >= end": ("glitch", "2", "1", "must be before end"),
    "zero length": ("glitch", "2", "2", "must be before end"),
    "negative": ("glitch", "-1", "2", "negative time"),
    "beyond duration": ("glitch", "1", "11", "beyond the file's duration of 10000 ms"),
    "unparsable": ("glitch", "abc", "2", "unparsable number 'abc'"),
}


def _row(fmt: str, kind: str, start: str, end: str, sel: int = 9) -> tuple[str, str]:
    """(header, row) with times in seconds (x1000 for the ms formats)."""
    def ms(v: str) -> str:
        try:
            return str(int(v) * 1000)
        except ValueError:
            return v
    if fmt == "csv":
        return "artifact_type,start_ms,end_ms\n", f"{kind},{ms(start)},{ms(end)}\n"
    if fmt == "audacity":
        return "", f"{start}\t{end}\t{kind}\n"
    if fmt == "raven":
        return ("Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tAnnotation\n",
                f"{sel}\tWaveform 1\t1\t{start}\t{end}\t{kind}\n")
    raise AssertionError(fmt)


@pytest.mark.parametrize("fmt", ["csv", "audacity", "raven"])
@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_rejections_name_line_and_reason(fmt: str, case: str) -> None:
    kind, start, end, reason = BAD_ROWS[case]
    header, bad = _row(fmt, kind, start, end)
    _, good = _row(fmt, "glitch", "3", "4", sel=1)
    _, good2 = _row(fmt, "glitch", "3", "4", sel=3)
    text = header + good + bad + good2
    res = import_regions(text, fmt, artifact_types=TYPES, duration_ms=10_000)
    assert len(res.regions) == 2  # the good rows are kept
    (rej,) = res.rejected
    assert reason in rej.reason
    assert rej.line == (3 if header else 2)
    assert rej.text == bad.rstrip("\n")
    assert str(rej).startswith(f"line {rej.line}: ")


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_json_rejections(case: str) -> None:
    kind, start, end, reason = BAD_ROWS[case]

    def num(v: str) -> object:
        try:
            return int(v) * 1000
        except ValueError:
            return v
    items = [{"artifact_type": "glitch", "start_ms": 0, "end_ms": 5},
             {"artifact_type": kind, "start_ms": num(start), "end_ms": num(end)}]
    res = import_regions(json.dumps(items), "json", artifact_types=TYPES, duration_ms=10_000)
    assert len(res.regions) == 1
    (rej,) = res.rejected
    assert rej.line == 2 and reason in rej.reason


@pytest.mark.parametrize("case", ["unknown type", "start >= end", "beyond duration",
                                  "unparsable"])
def test_textgrid_rejections(case: str) -> None:
    kind, start, end, reason = BAD_ROWS[case]
    text = ('File type = "ooTextFile"\nObject class = "TextGrid"\n\nxmin = 0\nxmax = 20\n'
            "tiers? <exists>\nsize = 1\nitem []:\n    item [1]:\n"
            f'        class = "IntervalTier"\n        name = "{kind}"\n        xmin = 0\n'
            "        xmax = 20\n        intervals: size = 1\n        intervals [1]:\n"
            f'            xmin = {start}\n            xmax = {end}\n'
            f'            text = "{kind}"\n')
    res = import_regions(text, "textgrid", artifact_types=TYPES, duration_ms=10_000)
    assert res.regions == []
    assert res.rejected and reason.split("'")[0] in " ".join(r.reason for r in res.rejected)


@pytest.mark.parametrize(("fmt", "text", "missing"), [
    ("csv", "artifact_type,start_ms\nglitch,1\n", "'end_ms'"),
    ("csv", "", "'artifact_type'"),
    ("raven", "Selection\tBegin Time (s)\tAnnotation\n1\t0.1\tglitch\n", "'End Time (s)'"),
    ("json", '{"something": []}', "'regions'"),
])
def test_missing_column_in_header(fmt: str, text: str, missing: str) -> None:
    res = import_regions(text, fmt)
    assert res.regions == []
    assert res.rejected[0].line == 1 and f"missing column {missing}" in res.rejected[0].reason


@pytest.mark.parametrize(("fmt", "text"), [
    ("csv", "artifact_type,start_ms,end_ms\nglitch,1\n"),
    ("audacity", "0.1\t0.2\n"),
    ("audacity", "0.1\n"),
    ("raven", "Selection\tBegin Time (s)\tEnd Time (s)\tAnnotation\n1\t0.1\t0.2\n"),
    ("json", '[{"artifact_type": "glitch", "start_ms": 1}]'),
])
def test_missing_column_in_row(fmt: str, text: str) -> None:
    res = import_regions(text, fmt)
    assert res.regions == []
    assert "missing column" in res.rejected[0].reason


def test_other_rejections() -> None:
    res = import_regions("artifact_type,start_ms,end_ms,confidence\nglitch,1,2,1.5\n"
                         "glitch,1.5,3,1\nglitch,1,3,x\n", "csv")
    reasons = [r.reason for r in res.rejected]
    assert "not between 0 and 1" in reasons[0]
    assert "whole number of milliseconds" in reasons[1]
    assert "unparsable number 'x' in confidence" in reasons[2]
    bad_json = import_regions('{"regions": [1,', "json")
    assert bad_json.rejected[0].reason.startswith("not valid JSON")
    assert import_regions("[1]", "json").rejected[0].reason == "not a JSON object"


def test_detect_format() -> None:
    assert detect_format("a.TextGrid") == "textgrid"
    assert detect_format("x.Table.1.selections.txt") == "raven"
    assert detect_format("labels.txt") == "audacity"
    assert detect_format("a.CSV") == "csv" and detect_format("a.json") == "json"
    assert detect_format("a.wav") is None
