"""Hostile annotation files, per import format: each is read with a clear answer.

Every file either imports (possibly with rejected rows, each with its line and a
reason) or raises ``FormatError`` with a message; never another exception, never
a hang: 200,000 rows import in seconds, and absurd sizes are refused up front.
Files are read the way the import dialog reads them (``read_import_file``), so
encodings, BOMs and binary garbage are covered as well as the text.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from relay_desktop import formats
from relay_desktop.formats import FormatError, ImportResult, import_regions, read_import_file

TYPES = {"glitch", "click"}
ROWS = 200_000

CSV_HEAD = "audio_file_id,filename,artifact_type,start_ms,end_ms,confidence,note\n"
RAVEN_HEAD = "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tAnnotation\n"


def _textgrid(body: str, xmin: str = "0", xmax: str = "10") -> str:
    return ('File type = "ooTextFile"\nObject class = "TextGrid"\n\n'
            f"xmin = {xmin}\nxmax = {xmax}\ntiers? <exists>\n" + body)


def _tier(name: str, intervals: list[tuple[str, str, str]], cls: str = "IntervalTier",
          size: int | None = None) -> str:
    rows = "".join(f"        intervals [{i}]:\n            xmin = {a}\n            xmax = {b}\n"
                   f'            text = "{t}"\n' for i, (a, b, t) in enumerate(intervals, 1))
    return (f'size = 1\nitem []:\n    item [1]:\n        class = "{cls}"\n'
            f'        name = "{name}"\n        xmin = 0\n        xmax = 10\n'
            f"        intervals: size = {len(intervals) if size is None else size}\n" + rows)


#: per format: name -> the file's bytes
HOSTILE: dict[str, dict[str, Callable[[], bytes]]] = {
    "json": {
        "deeply-nested": lambda: b"[" * 100_000 + b"]" * 100_000,
        "nested-in-a-row": lambda: json.dumps(
            [{"artifact_type": "glitch", "start_ms": 0, "end_ms": 10,
              "note": {"a": [[[[{"b": 1}]]]]}}]).encode(),
        "huge-numbers": lambda: b'[{"artifact_type": "glitch", "start_ms": 1e400, '
                                b'"end_ms": 99999999999999999999999999999999999999}]',
        "nan-inf": lambda: b'[{"artifact_type": "glitch", "start_ms": NaN, "end_ms": Infinity},'
                           b' {"artifact_type": "glitch", "start_ms": -Infinity, "end_ms": 5}]',
        "negative-and-reversed": lambda: json.dumps(
            [{"artifact_type": "glitch", "start_ms": -5, "end_ms": 10},
             {"artifact_type": "glitch", "start_ms": 900, "end_ms": 100}]).encode(),
        "wrong-types": lambda: json.dumps(
            [{"artifact_type": ["glitch"], "start_ms": "zero", "end_ms": True},
             {"artifact_type": {"x": 1}, "start_ms": None, "end_ms": []}, 5, None, "row"]
        ).encode(),
        "regions-not-a-list": lambda: b'{"regions": {"a": 1}}',
        "a-number": lambda: b"42",
        "truncated": lambda: b'{"format": "relay-regions", "regions": [{"artifact_type": "gl',
        "formula-cells": lambda: json.dumps(
            [{"artifact_type": "=cmd|' /C calc'!A0", "start_ms": 0, "end_ms": 10}]).encode(),
        "huge-string-key": lambda: b'{"' + b"k" * 10_000_000 + b'": 1}',
    },
    "csv": {
        "wrong-column-counts": lambda: (CSV_HEAD + ",,glitch,0\n,,glitch,0,10,1,a,b,c,d\n"
                                        ",,glitch,0,10\n").encode(),
        "injection-cells": lambda: (CSV_HEAD + ',,=cmd|"/C calc"!A0,0,10,1,=HYPERLINK("x")\n'
                                    ",,+glitch,@SUM(1),-2,1,\n").encode(),
        "ten-mb-line": lambda: (CSV_HEAD + ",,glitch,0,10,1," + "x" * 10_000_000 + "\n").encode(),
        "ten-mb-quoted-field": lambda: (CSV_HEAD + ',,glitch,0,10,1,"' + "y" * 10_000_000
                                        + "\n").encode(),
        "nul-bytes": lambda: (CSV_HEAD + ",,gli\x00tch,0,10,1,\n,,glitch,0\x00,10,1,\n").encode(),
        "huge-and-nan": lambda: (CSV_HEAD + ",,glitch,nan,inf,1,\n,,glitch,0,1e999999,1,\n"
                                 ",,glitch,0,10,NaN,\n,,glitch,0,10,1e308,\n").encode(),
        "no-header": lambda: b"1,2,3\n4,5,6\n",
        "header-only": lambda: CSV_HEAD.encode(),
        "unbalanced-quotes": lambda: (CSV_HEAD + ',,"glitch,0,10,1,\n').encode(),
    },
    "raven": {
        "missing-columns": lambda: b"Selection\tView\tAnnotation\n1\tSpectrogram 1\tglitch\n",
        "missing-cells": lambda: (RAVEN_HEAD + "1\tSpectrogram 1\t1\t0.5\n").encode(),
        "bad-floats": lambda: (RAVEN_HEAD + "1\tS\t1\tzero\t1.0\tglitch\n"
                               "2\tS\t1\t1e400\tnan\tglitch\n3\tS\t1\t-1\t-0.5\tglitch\n"
                               "4\tS\t1\t2.0\t1.0\tglitch\n").encode(),
        "ten-mb-line": lambda: (RAVEN_HEAD + "1\tS\t1\t0\t1\t" + "z" * 10_000_000
                                + "\n").encode(),
    },
    "audacity": {
        "bad-floats": lambda: b"zero\t1.0\tglitch\n0.5\tone\tglitch\n1e400\t2\tglitch\n"
                              b"nan\tinf\tglitch\n-1\t-2\tglitch\n3\t2\tglitch\n",
        "missing-columns": lambda: b"0.0\n0.0\t1.0\n\t\t\n",
        "spectral-lines": lambda: b"0.0\t1.0\tglitch\n\\\t100.0\t2000.0\n",
        "comma-decimals": lambda: b"0,5\t1,0\tglitch\n",
        "ten-mb-label": lambda: b"0\t1\t" + b"w" * 10_000_000 + b"\n",
    },
    "textgrid": {
        "no-header": lambda: b"xmin = 0\nxmax = 1\n",
        "not-a-textgrid": lambda: b'File type = "ooTextFile"\nObject class = "Pitch 1"\n',
        "xmin-after-xmax": lambda: _textgrid(_tier("glitch", [("5", "1", "glitch")]),
                                             xmin="10", xmax="0").encode(),
        "bad-tier-class": lambda: _textgrid(_tier("glitch", [("0", "1", "x")],
                                                  cls="NoSuchTier")).encode(),
        "size-lies": lambda: _textgrid(_tier("glitch", [("0", "1", "x")], size=10**9)).encode(),
        "huge-tier-count": lambda: _textgrid("size = 99999999999\nitem []:\n").encode(),
        "bad-numbers": lambda: _textgrid(_tier("glitch", [("nan", "inf", "x"),
                                                          ("1e400", "2", "x"),
                                                          ("abc", "2", "x")])).encode(),
        "truncated": lambda: _textgrid(_tier("glitch", [("0", "1", "x")]))[:200].encode(),
        "unterminated-string": lambda: _textgrid('size = 1\nitem []:\n    item [1]:\n'
                                                 '        class = "IntervalTier\n').encode(),
    },
}

#: every format also gets these
COMMON: dict[str, Callable[[], bytes]] = {
    "empty": lambda: b"",
    "whitespace": lambda: b" \n\t\r\n  ",
    "binary-garbage": lambda: bytes(range(256)) * 64,
    "png-named-as-text": lambda: b"\x89PNG\r\n\x1a\n" + bytes(2000),
    "utf16-bom": lambda: "artifact_type\tstart\n glitch".encode("utf-16"),
    "utf16-no-bom": lambda: "0.0\t1.0\tglitch\n".encode("utf-16-le"),
    "latin1": lambda: "0.0\t1.0\tgl\xefitch caf\xe9\n".encode("latin-1"),
    "utf8-bom": lambda: b"\xef\xbb\xbf" + b"0.0\t1.0\tglitch\n",
    "nul-bytes": lambda: b"\x00" * 10_000,
    "fifty-mb": lambda: b"0.0\t1.0\tglitch\n" * (50 * 2**20 // 15),
    "only-line-breaks": lambda: b"\r" * 100_000,
}


def _check(result: ImportResult) -> None:
    assert isinstance(result, ImportResult)
    for row in result.rejected:
        assert isinstance(row.line, int) and row.line >= 1, row
        assert row.reason and "Traceback" not in row.reason, row
    for region in result.regions:  # whatever did import is a sane region
        assert 0 <= region.start_ms < region.end_ms and region.artifact_type in TYPES


def _read_and_import(path: Path, fmt: str) -> ImportResult | FormatError:
    started = time.monotonic()
    try:
        text = read_import_file(path)
        result: ImportResult | FormatError = import_regions(text, fmt, artifact_types=TYPES)
    except FormatError as exc:
        assert str(exc) and len(str(exc)) < 400 and "Traceback" not in str(exc)
        result = exc
    assert time.monotonic() - started < 10, f"{path.name} took too long"
    return result


CASES = [(fmt, name, make) for fmt in formats.FORMATS
         for name, make in {**COMMON, **HOSTILE.get(fmt, {})}.items()]


@pytest.mark.parametrize(("fmt", "name", "make"), CASES,
                         ids=[f"{fmt}-{name}" for fmt, name, _ in CASES])
def test_a_hostile_file_gets_a_clear_answer(tmp_path: Path, fmt: str, name: str,
                                            make: Callable[[], bytes]) -> None:
    path = tmp_path / f"{name}{formats.EXTENSIONS[fmt]}"
    path.write_bytes(make())
    answer = _read_and_import(path, fmt)
    if isinstance(answer, ImportResult):
        _check(answer)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "absurd.csv"
    with open(path, "wb") as fh:  # sparse: no disk is spent on it
        fh.truncate(formats.MAX_IMPORT_BYTES + 1)
    with pytest.raises(FormatError, match="too large"):
        read_import_file(path)


def test_text_over_the_size_limit_is_refused_by_import_too() -> None:
    with pytest.raises(FormatError, match="too large"):
        import_regions("x" * (formats.MAX_IMPORT_BYTES + 1), "csv")


def test_the_wrong_encoding_is_named(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("0.0\t1.0\tcaf\xe9\n".encode("latin-1"))
    with pytest.raises(FormatError, match="UTF-8"):
        read_import_file(path)
    path.write_bytes("0.0\t1.0\tglitch\n".encode("utf-16"))  # with its BOM: read fine
    assert import_regions(read_import_file(path), "audacity",
                          artifact_types=TYPES).regions[0].end_ms == 1000


ROW_MAKERS: dict[str, Callable[[int], str]] = {
    "csv": lambda i: f",take.wav,glitch,{i * 10},{i * 10 + 5},1,\n",
    "raven": lambda i: f"{i}\tSpectrogram 1\t1\t{i / 100:.3f}\t{i / 100 + 0.005:.3f}\tglitch\n",
    "audacity": lambda i: f"{i / 100:.3f}\t{i / 100 + 0.005:.3f}\tglitch\n",
}


@pytest.mark.parametrize("fmt", ["csv", "raven", "audacity", "json"])
def test_two_hundred_thousand_rows_import_in_seconds(fmt: str) -> None:
    if fmt == "json":
        text = json.dumps([{"artifact_type": "glitch", "start_ms": i * 10,
                            "end_ms": i * 10 + 5, "filename": "take.wav"}
                           for i in range(ROWS)])
    else:
        head = {"csv": CSV_HEAD, "raven": RAVEN_HEAD, "audacity": ""}[fmt]
        text = head + "".join(ROW_MAKERS[fmt](i) for i in range(ROWS))
    started = time.monotonic()
    result = import_regions(text, fmt, artifact_types=TYPES)
    elapsed = time.monotonic() - started
    assert len(result.regions) == ROWS and not result.rejected
    assert elapsed < 8, f"{fmt}: {elapsed:.1f}s"


def test_rejected_rows_carry_their_line_numbers() -> None:
    text = CSV_HEAD + ",,glitch,0,10,1,\n,,glitch,nan,10,1,\n,,glitch,0\n,,nope,0,10,1,\n"
    result = import_regions(text, "csv", artifact_types=TYPES)
    assert [r.line for r in result.rejected] == [3, 4, 5]
    assert len(result.regions) == 1
