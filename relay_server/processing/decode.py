"""Opening uploaded audio with soundfile, and turning failures into plain words.

Files are sniffed first so the error says what is wrong: an empty file, a
format this server cannot decode (MP4/AAC/WebM), a recognised format whose
content is damaged (for WAV the RIFF chunk sizes are checked, since
libsndfile quietly accepts a cut-short file), or something that is not
audio at all.

Decoding is bounded: a file whose header promises more than
:data:`MAX_DURATION_S` of audio or more than :data:`MAX_DECODED_SAMPLES`
samples (frames x channels) is refused before a sample is decoded, and
:func:`mono_blocks` stops at the same limits if the header lied or did not
say. A megabyte of FLAC can declare hours of 8-channel silence at 192 kHz
(tens of GB decoded): such a "decompression bomb" fails in words, at once.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from relay_server.processing.errors import AudioError

BLOCK_FRAMES = 65536
UNKNOWN_LENGTH = 2**63 - 1
"""What libsndfile reports as the frame count of a stream whose header does not say."""
MAX_DURATION_S = 12 * 3600
"""Longest audio processed per file: 12 hours."""
MAX_DECODED_SAMPLES = MAX_DURATION_S * 96_000 * 2
"""Most samples (frames x channels) decoded per file: 12 h of 96 kHz stereo (about
8.3 billion samples, 16.6 GB as 16-bit PCM)."""

UNSUPPORTED = {"mp4": "MP4/M4A", "webm": "WebM", "aac": "AAC (ADTS)"}
SUPPORTED_NAMES = "WAV, FLAC, OGG (Vorbis/Opus) or MP3"


@dataclass(frozen=True)
class SourceInfo:
    """What the header of a decodable file says."""

    sample_rate: int
    channels: int
    format: str
    subtype: str


def sniff(head: bytes) -> str:
    """Guess the container from the first bytes: wav, flac, ogg, mp3, mp4, webm, aac, ..."""
    if head[:4] in (b"RIFF", b"RIFX") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] in (b"RF64", b"BW64"):
        return "rf64"
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


def check_riff(path: Path, size: int) -> None:
    """Raise AudioError when a WAV file's chunks promise more bytes than it has."""
    with open(path, "rb") as fh:
        fh.seek(12)
        pos = 12
        for _ in range(10_000):
            header = fh.read(8)
            if len(header) < 8:
                raise AudioError("The file is corrupt: the WAV file has no audio data "
                                 "('data' chunk).")
            chunk_id, chunk_size = header[:4], struct.unpack("<I", header[4:])[0]
            body = pos + 8
            if chunk_id == b"data":
                available = size - body
                if chunk_size not in (0, 0xFFFFFFFF) and chunk_size > available:
                    raise AudioError(
                        "The file is corrupt: the WAV audio data is cut short "
                        f"({available} of the {chunk_size} bytes its header declares).")
                return
            pos = body + chunk_size + (chunk_size & 1)
            if pos > size:
                raise AudioError(f"The file is corrupt: the WAV chunk "
                                 f"{chunk_id.decode('latin-1')!r} runs past the end of the "
                                 "file.")
            fh.seek(pos)
    raise AudioError("The file is corrupt: too many chunks in the WAV header.")


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    if "Error opening" in text and ":" in text:
        text = text.rsplit(":", 1)[-1].strip()
    return text.rstrip(".") or type(exc).__name__


def open_audio(path: Path) -> sf.SoundFile:
    """Open ``path`` for decoding, or raise AudioError saying why it cannot be."""
    size = path.stat().st_size
    if size == 0:
        raise AudioError("The file is empty")
    with open(path, "rb") as fh:
        kind = sniff(fh.read(64))
    if kind in UNSUPPORTED:
        raise AudioError(f"Unsupported format: {UNSUPPORTED[kind]} audio cannot be decoded "
                         f"by this server (use {SUPPORTED_NAMES}).")
    if kind == "wav":
        check_riff(path, size)
    try:
        return sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        if kind == "unknown":
            raise AudioError(f"Not an audio file (could not decode: {_reason(exc)})") from exc
        raise AudioError(f"The file is corrupt: {_reason(exc)}") from exc


def info(handle: sf.SoundFile) -> SourceInfo:
    """The header's facts; AudioError if it is unusable or promises too much audio."""
    if handle.samplerate <= 0 or handle.channels <= 0:
        raise AudioError("The file is corrupt: its header gives no sample rate or channels.")
    if handle.frames < UNKNOWN_LENGTH:  # an unknown length is counted while decoding
        check_decoded_size(handle.frames, handle.samplerate, handle.channels)
    return SourceInfo(handle.samplerate, handle.channels, handle.format, handle.subtype)


def check_decoded_size(frames: int, rate: int, channels: int) -> None:
    """Raise AudioError when ``frames`` at ``rate`` x ``channels`` is past the limits."""
    seconds = frames / rate
    if seconds > MAX_DURATION_S:
        raise AudioError(
            f"The audio is too long: {_hours(seconds)} at {rate:,} Hz; at most "
            f"{MAX_DURATION_S // 3600} hours per file can be processed.")
    if frames * channels > MAX_DECODED_SAMPLES:
        raise AudioError(
            f"The audio is too large to decode: {_hours(seconds)} of {channels} channels at "
            f"{rate:,} Hz is {frames * channels:,} samples, over the limit of "
            f"{MAX_DECODED_SAMPLES:,} per file.")


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:,.1f} hours"


def mono_blocks(handle: sf.SoundFile, block_frames: int = BLOCK_FRAMES) -> Iterator[np.ndarray]:
    """Decode in blocks, mixed down to mono float32; never the whole file at once.

    Stops with AudioError once more audio than the limits allow has been decoded
    (for a header that understated it).
    """
    decoded = 0
    while True:
        try:
            block = handle.read(block_frames, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise AudioError(f"The file is corrupt: {_reason(exc)}") from exc
        if block.shape[0] == 0:
            return
        decoded += block.shape[0]
        check_decoded_size(decoded, handle.samplerate, handle.channels)
        mono = block[:, 0] if block.shape[1] == 1 else block.mean(axis=1, dtype=np.float32)
        if not np.isfinite(mono).all():
            mono = np.nan_to_num(mono, nan=0.0, posinf=0.0, neginf=0.0)
        yield mono
