"""Local validation before upload: real files in every format, and every way a file is bad."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from relay_desktop.api.batch_upload.probe import (
    MAX_FILE_BYTES,
    Rejected,
    probe,
    sha256_file,
    sniff,
)


def encoded(fmt: str, subtype: str | None = None, seconds: float = 0.3,
            rate: int = 16_000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    buf = io.BytesIO()
    sf.write(buf, (0.2 * np.sin(2 * np.pi * 330 * t)).astype("float32"), rate, format=fmt,
             subtype=subtype)
    return buf.getvalue()


@pytest.mark.parametrize(("fmt", "subtype", "name", "ctype"), [
    ("WAV", "PCM_16", "a.wav", "audio/wav"),
    ("FLAC", None, "a.flac", "audio/flac"),
    ("OGG", "VORBIS", "a.ogg", "audio/ogg"),
    ("MP3", None, "a.mp3", "audio/mpeg"),
    ("FLAC", None, "really flac.wav", "audio/flac"),      # the extension lies
    ("WAV", "PCM_16", "no extension", "audio/wav"),
])
def test_content_type_comes_from_the_detected_format(tmp_path: Path, fmt: str,
                                                     subtype: str | None, name: str,
                                                     ctype: str) -> None:
    path = tmp_path / name
    path.write_bytes(encoded(fmt, subtype))
    info = probe(path)
    assert info.content_type == ctype
    assert info.size == path.stat().st_size and info.frames > 0 and info.channels == 1


def _rejection(path: Path) -> str:
    with pytest.raises(Rejected) as err:
        probe(path)
    return str(err.value)


def test_every_kind_of_bad_file_is_rejected_with_its_reason(tmp_path: Path) -> None:
    good = encoded("WAV", "PCM_16")
    cases = {
        "empty.wav": (b"", "The file is empty."),
        "text.wav": (b"hello there\n" * 50, "Not an audio file"),
        "header.wav": (good[:30], "The file is corrupt"),
        "cut.wav": (good[: len(good) // 2], "cut short"),
        "flac.flac": (b"fLaC" + bytes(300), "The file is corrupt"),
        "movie.m4a": (b"\x00\x00\x00\x18ftypM4A " + bytes(300), "Unsupported format: MP4/M4A"),
        "clip.webm": (b"\x1a\x45\xdf\xa3" + bytes(300), "Unsupported format: WebM"),
        "take.aiff": (encoded("AIFF", "PCM_16"), "Unsupported format: AIFF"),
        "silence.wav": (encoded("WAV", "PCM_16", seconds=0.0), "holds no audio"),
    }
    for name, (content, words) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        assert words in _rejection(path), name


def test_size_limit_is_checked_without_reading_the_file(tmp_path: Path) -> None:
    huge = tmp_path / "huge.wav"
    with open(huge, "wb") as fh:           # sparse: takes no disk
        fh.truncate(MAX_FILE_BYTES + 1)
    reason = _rejection(huge)
    assert "too large" in reason and "524,288,000" in reason
    small = tmp_path / "small.wav"
    small.write_bytes(encoded("WAV", "PCM_16"))
    with pytest.raises(Rejected, match="too large"):
        probe(small, 1000)


def test_folders_and_missing_files_are_rejected(tmp_path: Path) -> None:
    assert "Not a regular file" in _rejection(tmp_path)
    assert "Could not read" in _rejection(tmp_path / "gone.wav")


def test_sniff_and_hash() -> None:
    assert sniff(b"RIFF\x00\x00\x00\x00WAVE") == "wav"
    assert sniff(b"ID3\x04") == "mp3"
    assert sniff(b"plain") == "unknown"


def test_sha256_matches_hashlib(tmp_path: Path) -> None:
    data = np.random.default_rng(1).bytes(3 * 1024 * 1024 + 17)
    path = tmp_path / "x.bin"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
