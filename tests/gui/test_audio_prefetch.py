"""Files got ready ahead of their opening: peaks built on a background thread, once."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from relay_desktop.core.audio.cache import AudioCache
from relay_desktop.core.audio.peaks import PeakCache
from relay_desktop.core.paths import AppPaths
from relay_desktop.services.audio_prefetch import AudioPrefetcher


def prefetcher(paths: AppPaths) -> AudioPrefetcher:
    return AudioPrefetcher(None, PeakCache(paths.peak_cache), AudioCache(paths.audio_cache))


def test_a_file_is_prepared_once_and_its_peaks_are_cached(qtbot: Any, gui_paths: AppPaths,
                                                          tmp_path: Path) -> None:
    path = tmp_path / "next.wav"
    sf.write(str(path), np.sin(np.arange(48_000) / 7).astype(np.float32) * 0.5, 16000)
    ahead = prefetcher(gui_paths)
    assert PeakCache(gui_paths.peak_cache).open(path) is None
    with qtbot.waitSignal(ahead.prepared, timeout=10_000) as got:
        assert ahead.prepare_path(path)
    assert got.args == [path]
    cached = PeakCache(gui_paths.peak_cache).open(path)
    assert cached is not None and cached.frames == 48_000
    assert not ahead.prepare_path(path)   # asked once


def test_a_file_that_cannot_be_prepared_is_only_logged(qtbot: Any, gui_paths: AppPaths,
                                                       tmp_path: Path, caplog: Any) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("not audio at all")
    ahead = prefetcher(gui_paths)
    prepared: list[object] = []
    ahead.prepared.connect(prepared.append)
    with caplog.at_level(logging.DEBUG, logger="relay_desktop.services.audio_prefetch"):
        assert ahead.prepare_path(path)
        qtbot.waitUntil(lambda: any("notes.wav" in r.getMessage() for r in caplog.records),
                        timeout=10_000)
    assert not prepared and not list(Path(gui_paths.peak_cache).glob("??/*/meta.json"))


def test_dataset_audio_needs_a_connection(gui_paths: AppPaths) -> None:
    class AudioFile:
        id = "a1"

    assert not prefetcher(gui_paths).prepare_audio("ds", AudioFile())
