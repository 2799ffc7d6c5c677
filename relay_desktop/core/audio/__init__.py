"""Qt-free audio core: block decoding, peak pyramid, spectrogram tiles, cache, time format."""

from relay_desktop.core.audio.decode import AudioDecodeError, AudioInfo, iter_blocks, probe
from relay_desktop.core.audio.peaks import PeakCache, PeakPyramid
from relay_desktop.core.audio.timefmt import format_ms, format_time, parse_time

__all__ = ["AudioDecodeError", "AudioInfo", "PeakCache", "PeakPyramid", "format_ms",
           "format_time", "iter_blocks", "parse_time", "probe"]
