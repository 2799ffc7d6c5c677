"""The editor's spectrogram choices (window, dB range, colour map), remembered in settings.

:func:`setup_spectrogram` is what the audio editor calls once: it gives the
view its on-disk tile cache, restores the transport's choices from the
settings (which the transport then passes on to the view) and saves every new
choice. Values from the settings file are checked: anything unknown falls back
to the default.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from relay_desktop.core.audio.spectrogram import (
    COLORMAPS,
    DEFAULT_COLORMAP,
    DEFAULT_WINDOW,
    WINDOW_SIZES,
)
from relay_desktop.core.audio.spectrogram_cache import SpectrogramTileCache
from relay_desktop.core.paths import AppPaths
from relay_desktop.core.settings import Settings

if TYPE_CHECKING:
    from relay_desktop.ui.waveform.transport import TransportBar
    from relay_desktop.ui.waveform.view import WaveformView

SETTINGS_KEY = "spectrogram"
FLOOR_RANGE = (-160, -10)
CEILING_RANGE = (-100, 20)


@dataclass(frozen=True)
class SpectrogramChoices:
    """What the spectrogram settings menu shows."""

    window: int = DEFAULT_WINDOW
    floor: int = -96
    ceiling: int = -12
    colormap: str = DEFAULT_COLORMAP

    @classmethod
    def from_settings(cls, settings: Settings) -> SpectrogramChoices:
        """The stored choices; a missing or invalid value is replaced by its default."""
        stored = settings.get(SETTINGS_KEY)
        raw: dict[str, Any] = stored if isinstance(stored, dict) else {}
        default = cls()
        window = raw.get("window")
        colormap = raw.get("colormap")
        return cls(
            window=window if window in WINDOW_SIZES else default.window,
            floor=_int_in(raw.get("floor"), FLOOR_RANGE, default.floor),
            ceiling=_int_in(raw.get("ceiling"), CEILING_RANGE, default.ceiling),
            colormap=colormap if colormap in COLORMAPS else default.colormap,
        )

    def save(self, settings: Settings) -> None:
        if settings.get(SETTINGS_KEY) != asdict(self):
            settings.set(SETTINGS_KEY, asdict(self))


def _int_in(value: object, bounds: tuple[int, int], default: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return int(min(max(value, bounds[0]), bounds[1]))


def setup_spectrogram(transport: TransportBar, view: WaveformView, paths: AppPaths,
                      settings: Settings | None) -> None:
    """Give ``view`` its tile cache; restore and remember ``transport``'s choices."""
    view.spectrogram.set_disk_cache(SpectrogramTileCache(paths.spectrogram_cache))
    if settings is None:
        return
    transport.set_spectrogram_choices(SpectrogramChoices.from_settings(settings))

    def remember(*_args: object) -> None:
        transport.spectrogram_choices().save(settings)

    transport.spectrogram_params_changed.connect(remember)
    transport.spectrogram_colormap_changed.connect(remember)
