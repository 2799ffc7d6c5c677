"""Whether a file's format seeks fast enough to decode a window first, before the rest.

Decided by format (libsndfile's major format name): PCM containers and FLAC
(which has seek tables or frame headers to bisect) jump to any frame in
milliseconds; compressed streams such as MP3, Ogg Vorbis and Opus decode from
a page or frame boundary found by scanning, which on a long file costs about
as much as decoding up to that point.
"""

from __future__ import annotations

from relay_desktop.core.audio.decode import AudioInfo

FAST_SEEK_FORMATS = frozenset({"WAV", "WAVEX", "AIFF", "AIFC", "W64", "RF64", "CAF", "FLAC",
                               "AU", "RAW", "IRCAM", "NIST", "VOC", "SD2"})


#: the most frames a raw window holds (the visible samples plus margins)
RAW_MAX_FRAMES = 1 << 21


def raw_window_span(f0: float, f1: float, frames: int,
                    max_frames: int = RAW_MAX_FRAMES) -> tuple[int, int] | None:
    """Frames to read for a view of ``[f0, f1]``: it plus its span either side (for panning).

    None when ``max_frames`` could not cover ``[f0, f1]`` (such a window is not read).
    """
    span = f1 - f0
    start = int(max(0, f0 - span))
    stop = int(min(frames, f1 + span + 2))
    stop = min(stop, start + max_frames)
    if stop < min(frames, f1 + 1):
        return None
    return start, stop


def seeks_fast(info: AudioInfo) -> bool:
    """Whether reading a window of ``info``'s file costs about as much as the window."""
    return info.format.upper() in FAST_SEEK_FORMATS


__all__ = ["FAST_SEEK_FORMATS", "RAW_MAX_FRAMES", "raw_window_span", "seeks_fast"]
