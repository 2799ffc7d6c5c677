"""Local validation of a file before any network call: size, format, and content hash.

The format is what soundfile detects in the bytes (a ``.wav`` that holds FLAC
is FLAC), and decides the content type sent to the server. The words of each
rejection follow the ones Relay Local's processing uses for the same problem.
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import soundfile as sf

#: the documented limit for dataset audio and inference files alike (500 MiB)
MAX_FILE_BYTES = 524_288_000
SUPPORTED_NAMES = "WAV, FLAC, OGG (Vorbis/Opus) or MP3"

#: soundfile's major format -> the content type the Relay API accepts for it
CONTENT_TYPES: dict[str, str] = {
    "WAV": "audio/wav", "WAVEX": "audio/wav", "FLAC": "audio/flac", "OGG": "audio/ogg",
    "MP3": "audio/mpeg",
}
_UNSUPPORTED_CONTAINERS = {"mp4": "MP4/M4A", "webm": "WebM", "aac": "AAC (ADTS)"}
_HASH_BLOCK = 1 << 20


class Rejected(Exception):
    """The file cannot be uploaded; ``str()`` says why in words a person reads."""


@dataclass(frozen=True)
class AudioProbe:
    """What local validation learned about a file the server will accept."""

    size: int
    format: str          # soundfile's major format, e.g. "FLAC"
    content_type: str    # e.g. "audio/flac"
    sample_rate: int
    channels: int
    frames: int


def sniff(head: bytes) -> str:
    """Guess the container from its first bytes (same rules as the server)."""
    if head[:4] in (b"RIFF", b"RIFX") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if head[:3] == b"ID3":
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xF6) == 0xF0:
        return "aac"
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        return "mp3"
    return "unknown"


def _check_riff(fh: BinaryIO, size: int) -> None:
    """Reject a WAV whose chunks promise more bytes than the file has (libsndfile accepts it)."""
    fh.seek(12)
    pos = 12
    for _ in range(10_000):
        header = fh.read(8)
        if len(header) < 8:
            raise Rejected("The file is corrupt: the WAV file has no audio data.")
        chunk_id, chunk_size = header[:4], struct.unpack("<I", header[4:])[0]
        body = pos + 8
        if chunk_id == b"data":
            available = size - body
            if chunk_size not in (0, 0xFFFFFFFF) and chunk_size > available:
                raise Rejected(f"The file is corrupt: the WAV audio data is cut short "
                               f"({available} of the {chunk_size} bytes its header declares).")
            return
        pos = body + chunk_size + (chunk_size & 1)
        if pos > size:
            raise Rejected(f"The file is corrupt: the WAV chunk "
                           f"{chunk_id.decode('latin-1')!r} runs past the end of the file.")
        fh.seek(pos)
    raise Rejected("The file is corrupt: too many chunks in the WAV header.")


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    if "Error opening" in text and ":" in text:
        text = text.rsplit(":", 1)[-1].strip()
    return text.rstrip(".") or type(exc).__name__


def probe(path: str | os.PathLike[str], max_bytes: int = MAX_FILE_BYTES) -> AudioProbe:
    """Validate ``path`` locally; raise :class:`Rejected` with the reason when it cannot go."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise Rejected("Not a regular file.")
        if size == 0:
            raise Rejected("The file is empty.")
        if size > max_bytes:
            raise Rejected(f"The file is too large: {size:,} bytes, over the limit of "
                           f"{max_bytes:,} bytes ({max_bytes / 1024**2:.0f} MiB).")
        with open(path, "rb") as fh:
            kind = sniff(fh.read(64))
            if kind in _UNSUPPORTED_CONTAINERS:
                raise Rejected(f"Unsupported format: {_UNSUPPORTED_CONTAINERS[kind]} "
                               f"(use {SUPPORTED_NAMES}).")
            if kind == "wav":
                _check_riff(fh, size)
        try:
            with sf.SoundFile(str(path)) as snd:
                fmt, rate, channels, frames = snd.format, snd.samplerate, snd.channels, snd.frames
                if frames > 0:  # a damaged stream often fails on its first block
                    snd.read(min(frames, 4096), dtype="float32")
        except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
            if kind == "unknown":
                raise Rejected(f"Not an audio file (could not decode: {_reason(exc)}).") from exc
            raise Rejected(f"The file is corrupt: {_reason(exc)}.") from exc
    except OSError as exc:
        raise Rejected(f"Could not read the file: {exc.strerror or exc}.") from exc
    if fmt not in CONTENT_TYPES:
        raise Rejected(f"Unsupported format: {fmt} (use {SUPPORTED_NAMES}).")
    if rate <= 0 or channels <= 0:
        raise Rejected("The file is corrupt: its header gives no sample rate or channels.")
    if frames == 0:
        raise Rejected("The file holds no audio (zero samples).")
    return AudioProbe(size=size, format=fmt, content_type=CONTENT_TYPES[fmt],
                      sample_rate=rate, channels=channels, frames=frames)


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def check_file(path: str, max_bytes: int = MAX_FILE_BYTES) -> tuple[AudioProbe | None, str, str]:
    """``(probe, sha256, "")`` for a good file, ``(None, "", reason)`` for a rejected one."""
    try:
        info = probe(path, max_bytes)
        return info, sha256_file(path), ""
    except Rejected as exc:
        return None, "", str(exc)
    except OSError as exc:
        return None, "", f"Could not read the file: {exc.strerror or exc}."


def check_files(paths: list[str], max_bytes: int = MAX_FILE_BYTES,
                ) -> list[tuple[AudioProbe | None, str, str]]:
    """:func:`check_file` for each path."""
    return [check_file(p, max_bytes) for p in paths]
