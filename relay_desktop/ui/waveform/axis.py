"""Time axis labelled ``h:mm:ss.mmm`` with as many decimals as the tick spacing needs."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg

from relay_desktop.core.audio.timefmt import format_time, tick_decimals


class TimeAxisItem(pg.AxisItem):
    """A pyqtgraph axis for seconds that prints ``h:mm:ss.mmm`` (hours shown when needed)."""

    def __init__(self, orientation: str = "bottom", **kwargs: Any) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values: list[float], scale: float,
                    spacing: float) -> list[str]:
        decimals = tick_decimals(spacing * scale)
        return [label(v * scale, decimals) for v in values]


def label(seconds: float, decimals: int) -> str:
    """``h:mm:ss.d`` for ticks: the hour is dropped when zero (``mm:ss.ddd``)."""
    text = format_time(seconds, decimals)
    if text.startswith("0:"):
        return text[2:]
    if text.startswith("-0:"):
        return "-" + text[3:]
    return text


class FrequencyAxisItem(pg.AxisItem):
    """Hz on a spectrogram's y axis, printed as ``500`` / ``2k`` / ``12.5k``."""

    def __init__(self, orientation: str = "left", **kwargs: Any) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values: list[float], scale: float,
                    spacing: float) -> list[str]:
        out = []
        for v in values:
            hz = v * scale
            out.append(f"{hz / 1000:g}k" if abs(hz) >= 1000 else f"{hz:g}")
        return out
