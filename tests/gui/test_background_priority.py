"""Spectrogram tiles run on threads that give way to decoding and drawing (Linux nice)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QThreadPool

from relay_desktop.core.audio.decode import probe
from relay_desktop.core.audio.spectrogram import plan_tiles
from relay_desktop.core.audio.spectrogram_cache import TileSource
from relay_desktop.services.spectrogram_tasks import TileScheduler
from relay_desktop.services.thread_priority import (
    BACKGROUND_NICE,
    background_pool,
    lower_this_thread,
    thread_nice,
)
from relay_desktop.ui.waveform.view import WaveformView

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="threads have nice values of their own on Linux only")


def _in_thread(fn: Any) -> Any:
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(fn()))
    thread.start()
    thread.join(5)
    return out[0]


def test_lowering_a_thread_leaves_the_others_and_is_done_once() -> None:
    def lower_twice() -> tuple[bool, bool, int | None]:
        return lower_this_thread(), lower_this_thread(), thread_nice()

    start = thread_nice()
    assert start is not None
    if start >= BACKGROUND_NICE:
        pytest.skip("the tests already run at background priority")
    assert _in_thread(lower_twice) == (True, True, BACKGROUND_NICE)
    assert thread_nice() == start, "the calling thread is untouched"
    assert _in_thread(thread_nice) == start, "a new thread starts at the normal priority"


def _nice_of_the_pool_thread(pool: QThreadPool) -> int | None:
    seen: list[int | None] = []
    done = threading.Event()

    def probe_nice() -> None:
        seen.append(thread_nice())
        done.set()

    pool.start(probe_nice)
    assert done.wait(5)
    return seen[0]


def _one_tile(qtbot: Any, pool: QThreadPool, path: Path, lower: bool) -> None:
    scheduler = TileScheduler(pool, lower_priority=lower)
    info = probe(path)
    scheduler.set_source(TileSource(path, None))
    keys = plan_tiles(1024, 0, info.frames, 200, info.frames).visible[:1]
    with qtbot.waitSignal(scheduler.tile_ready, timeout=10000):
        scheduler.request_visible(keys)


@pytest.mark.parametrize("lower", [True, False])
def test_tile_jobs_lower_only_the_threads_of_their_own_pool(qtbot: Any, tmp_path: Path,
                                                           lower: bool) -> None:
    path = tmp_path / "tone.wav"
    sf.write(path, np.sin(np.arange(48000 * 2) / 10).astype(np.float32), 48000)
    pool = QThreadPool()
    pool.setMaxThreadCount(1)  # the probe below runs on the thread the tile ran on
    try:
        _one_tile(qtbot, pool, path, lower)
        nice = _nice_of_the_pool_thread(pool)
    finally:
        pool.waitForDone(5000)
    assert nice == (BACKGROUND_NICE if lower else thread_nice())


def test_the_waveform_view_computes_its_tiles_on_the_background_pool(qtbot: Any) -> None:
    view = WaveformView(QThreadPool.globalInstance())
    qtbot.addWidget(view)
    assert view.spectrogram.scheduler.pool is background_pool()
    assert view.spectrogram.scheduler.lowers_priority
