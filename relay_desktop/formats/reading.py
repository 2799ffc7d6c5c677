"""Reading an annotation file as text: a size limit, BOMs, and a clear word on encodings."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

from relay_desktop.formats._common import FormatError

MAX_IMPORT_BYTES = 32 * 2**20
"""Largest annotation file imported (32 MB: about 500,000 CSV rows)."""

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


def check_size(size: int) -> None:
    """Raise FormatError when ``size`` bytes (or characters) is over the import limit."""
    if size > MAX_IMPORT_BYTES:
        raise FormatError(f"The file is too large to import: {size / 2**20:,.1f} MB, over the "
                          f"limit of {MAX_IMPORT_BYTES // 2**20} MB for annotation files.")


def read_import_file(path: str | os.PathLike[str]) -> str:
    """The file's text: UTF-8 (with or without a BOM) or UTF-16/32 with a BOM.

    Raises FormatError for a file over :data:`MAX_IMPORT_BYTES` (before reading it),
    for bytes that are not text in those encodings, and for NUL bytes.
    """
    path = Path(path)
    try:
        check_size(path.stat().st_size)
        data = path.read_bytes()
    except OSError as exc:
        raise FormatError(f"The file could not be read: {exc.strerror or exc}.") from exc
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), "utf-8")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        hint = (" It looks like UTF-16 without a byte-order mark." if b"\x00" in data[:200]
                else " Save it as UTF-8 and import it again.")
        raise FormatError(f"The file is not {encoding.upper().replace('-SIG', '')} text "
                          f"(line {line}: byte 0x{data[exc.start]:02x} cannot be read)."
                          + hint) from None
    if "\x00" in text:
        line = text[:text.index("\x00")].count("\n") + 1
        raise FormatError(f"The file is not text: it holds NUL bytes (line {line}).")
    return text
