"""Praat TextGrid, long text format: one IntervalTier per artifact type.

Labelled intervals carry the type name as text; the gaps between regions are
empty intervals, so each tier covers 0..xmax without holes. A tier cannot hold
two overlapping regions of its type; such input is refused on export. Import
reads the long or the short text format (it tokenises values, ignoring the
labels); point tiers are reported, not imported. One audio file per TextGrid;
confidence and notes are not carried (an interval's text is its type).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from relay_desktop.formats._common import (
    FormatError,
    ImportResult,
    Region,
    RejectedRow,
    RowError,
    check_region,
    parse_seconds,
    seconds_text,
    single_file,
)


def _num(ms: int) -> str:
    """Praat style: no trailing zeros (``1.2``, ``0``)."""
    text = seconds_text(ms)
    text = text.rstrip("0").rstrip(".")
    return text or "0"


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def export(regions: Sequence[Region], *, duration_ms: int | None = None,
           artifact_types: Sequence[str] | None = None) -> str:
    single_file(regions, "TextGrid")
    end = max([r.end_ms for r in regions] + [duration_ms or 0])
    types = list(artifact_types or [])
    for r in regions:
        if r.artifact_type not in types:
            types.append(r.artifact_type)
    out = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "",
           "xmin = 0 ", f"xmax = {_num(end)} ", "tiers? <exists> ", f"size = {len(types)} ",
           "item []: "]
    for tier_no, name in enumerate(types, start=1):
        spans = sorted((r for r in regions if r.artifact_type == name),
                       key=lambda r: (r.start_ms, r.end_ms))
        intervals: list[tuple[int, int, str]] = []
        cursor = 0
        for r in spans:
            if r.start_ms < cursor:
                raise FormatError(f"Two {name!r} regions overlap near {r.start_ms} ms; a "
                                  "TextGrid tier cannot hold overlapping intervals.")
            if r.start_ms > cursor:
                intervals.append((cursor, r.start_ms, ""))
            intervals.append((r.start_ms, r.end_ms, name))
            cursor = r.end_ms
        if cursor < end or not intervals:
            intervals.append((cursor, end, ""))
        out += [f"    item [{tier_no}]:", '        class = "IntervalTier" ',
                f"        name = {_quote(name)} ", "        xmin = 0 ",
                f"        xmax = {_num(end)} ", f"        intervals: size = {len(intervals)} "]
        for i, (a, b, text) in enumerate(intervals, start=1):
            out += [f"        intervals [{i}]:", f"            xmin = {_num(a)} ",
                    f"            xmax = {_num(b)} ", f"            text = {_quote(text)} "]
    return "\n".join(out) + "\n"


@dataclass
class _Token:
    kind: str  # "str", "num", "flag"
    value: str
    line: int


_TOKEN_RE = re.compile(r'"((?:[^"]|"")*)"|(<exists>|<absent>)|(-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)'
                       r'|=[ \t]*([^\s"<\d-][^\s]*)|(\[[^\]\n]*\])|([A-Za-z_?][\w?]*)', re.S)


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    for m in _TOKEN_RE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        if m.group(1) is not None:
            tokens.append(_Token("str", m.group(1).replace('""', '"'), line))
        elif m.group(2) is not None:
            tokens.append(_Token("flag", m.group(2), line))
        elif m.group(3) is not None:
            tokens.append(_Token("num", m.group(3), line))
        elif m.group(4) is not None:  # "xmin = abc": a value that is not a number
            tokens.append(_Token("bad", m.group(4), line))
        # bracketed indexes and bare labels (xmin, intervals, size ...) are ignored
    return tokens


class _Reader:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def next(self, kind: str, what: str, *, allow_bad: bool = False) -> _Token:
        if self.pos >= len(self.tokens):
            raise FormatError(f"the TextGrid ends early (expected {what})")
        tok = self.tokens[self.pos]
        self.pos += 1
        if tok.kind == "bad" and allow_bad and kind == "num":
            return tok
        if tok.kind != kind:
            raise FormatError(f"line {tok.line}: expected {what}, found {tok.value!r}")
        return tok


def parse(text: str, artifact_types: Collection[str] | None, duration_ms: int | None,
          audio_file_id: str | None) -> ImportResult:
    result = ImportResult()
    lines = text.lstrip("\ufeff").splitlines()
    reader = _Reader(_tokens(text.lstrip("\ufeff")))
    try:
        if reader.next("str", '"ooTextFile"').value != "ooTextFile":
            raise FormatError("line 1: not a Praat text file (no ooTextFile header)")
        if reader.next("str", '"TextGrid"').value != "TextGrid":
            raise FormatError("line 2: the object is not a TextGrid")
        reader.next("num", "xmin")
        reader.next("num", "xmax")
        flag = reader.next("flag", "tiers? <exists>")
        if flag.value == "<absent>":
            return result
        size = int(float(reader.next("num", "the number of tiers").value))
        for _ in range(size):
            cls = reader.next("str", "a tier class")
            name = reader.next("str", "a tier name").value
            reader.next("num", "tier xmin")
            reader.next("num", "tier xmax")
            count = int(float(reader.next("num", "the number of intervals").value))
            point_tier = cls.value != "IntervalTier"
            if point_tier:
                result.rejected.append(RejectedRow(cls.line, lines[cls.line - 1].strip(),
                                                   f"tier {name!r} is a point tier, not "
                                                   "intervals; skipped"))
            for _ in range(count):
                first = reader.next("num", "an interval start", allow_bad=True)
                if point_tier:
                    reader.next("str", "a point mark")
                    continue
                second = reader.next("num", "an interval end", allow_bad=True)
                label_tok = reader.next("str", "an interval text")
                label = label_tok.value.strip()
                if not label:
                    continue  # a gap
                kind = name
                if artifact_types is not None and name not in artifact_types \
                        and label in artifact_types:
                    kind = label
                raw = lines[first.line - 1].strip() if first.line <= len(lines) else ""
                raw = f"{name}: {raw} .. text = {label_tok.value!r}"
                try:
                    region = Region(audio_file_id=audio_file_id, artifact_type=kind,
                                    start_ms=parse_seconds(first.value, "xmin"),
                                    end_ms=parse_seconds(second.value, "xmax"),
                                    line=first.line)
                    result.regions.append(check_region(region, artifact_types, duration_ms))
                except RowError as exc:
                    result.rejected.append(RejectedRow(first.line, raw, str(exc)))
    except FormatError as exc:
        line = reader.tokens[min(reader.pos, len(reader.tokens)) - 1].line if reader.tokens \
            else 1
        result.rejected.append(RejectedRow(line, lines[line - 1] if 0 < line <= len(lines)
                                           else "", str(exc)))
    return result
