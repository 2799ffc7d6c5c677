"""Spectrogram tiles: visible first, background after, the disk cache, colours and windows."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
import pytest
import soundfile as sf
from PySide6.QtCore import QThreadPool

from relay_desktop.core.audio.decode import probe
from relay_desktop.core.audio.spectrogram import TILE_COLUMNS, Tile, TileKey, plan_tiles
from relay_desktop.core.audio.spectrogram_cache import SpectrogramTileCache
from relay_desktop.core.audio.spectrogram_colours import Colouring
from relay_desktop.core.paths import AppPaths
from relay_desktop.core.settings import Settings
from relay_desktop.ui.waveform import spectrogram_view
from relay_desktop.ui.waveform.editor import AudioEditor
from relay_desktop.ui.waveform.spectrogram_prefs import SpectrogramChoices
from relay_desktop.ui.waveform.spectrogram_view import (
    SpectrogramPlot,
    lookup_table,
    memory_budget,
)

RATE = 8000
PIXELS = 400


def write_tone(path: Path, seconds: float, freq: float = 1000.0) -> Path:
    t = np.arange(int(RATE * seconds)) / RATE
    sf.write(str(path), (0.4 * np.sin(2 * np.pi * freq * t)).astype(np.float32), RATE)
    return path


@pytest.fixture(scope="module")
def minute(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tone(tmp_path_factory.mktemp("spec") / "minute.wav", 60.0)


@pytest.fixture
def one_thread() -> Iterator[QThreadPool]:
    """A pool with one thread: tasks run one at a time, in the pool's order."""
    pool = QThreadPool()
    pool.setMaxThreadCount(1)
    yield pool
    pool.clear()
    pool.waitForDone(5000)


@contextmanager
def pool_held(pool: QThreadPool) -> Iterator[None]:
    """Keep ``pool``'s only thread busy, so what is submitted meanwhile waits in its queue."""
    release, started = threading.Event(), threading.Event()

    def hold() -> None:
        started.set()
        release.wait(10)

    pool.start(hold)
    started.wait(5)
    try:
        yield
    finally:
        release.set()


def plot_of(pool: QThreadPool, path: Path,
            cache: SpectrogramTileCache | None = None) -> SpectrogramPlot:
    spec = SpectrogramPlot(pool, pg.ViewBox())
    spec.set_disk_cache(cache)
    spec.set_source(path, probe(path))
    return spec


def settle(qtbot: Any, spec: SpectrogramPlot) -> None:
    qtbot.waitUntil(lambda: spec.covers_view() and spec.pending_count() == 0, timeout=10000)


def plan_of(spec: SpectrogramPlot, a: float, b: float) -> list[TileKey]:
    plan = plan_tiles(spec.window, a * RATE, b * RATE, PIXELS, 60 * RATE)
    return plan.nearby + plan.overview


def test_visible_tiles_are_computed_before_background_ones(qtbot: Any, minute: Path,
                                                           one_thread: QThreadPool) -> None:
    spec = plot_of(one_thread, minute)
    arrived: list[TileKey] = []
    spec.scheduler.tile_ready.connect(lambda tile: arrived.append(tile.key))
    with pool_held(one_thread):
        spec.update_range(20.0, 28.0, PIXELS)
        assert spec.scheduler.background_pending() > 0, "neighbours and overview are queued"
        assert spec.scheduler.in_flight() == set(spec.wanted()), "no background work yet"
        spec.update_range(36.0, 44.0, PIXELS)  # panned on before anything arrived
        visible = spec.wanted()
    settle(qtbot, spec)
    assert len(visible) >= 2
    centre = 40.0 * RATE / (visible[0].hop * TILE_COLUMNS)
    assert abs(visible[0].position + 0.5 - centre) <= 0.5, "nearest the centre first"
    # the visible tiles of the new range overtook the queued background work; the old
    # range's tiles were cancelled; then the neighbours and the whole file, once each
    assert arrived == visible + plan_of(spec, 36.0, 44.0)


def test_while_the_file_decodes_only_visible_tiles_are_computed(
        qtbot: Any, minute: Path, one_thread: QThreadPool) -> None:
    spec = plot_of(one_thread, minute)
    arrived: list[TileKey] = []
    spec.scheduler.tile_ready.connect(lambda tile: arrived.append(tile.key))
    spec.hold_background(True)   # as the waveform view does while the file decodes
    spec.update_range(20.0, 28.0, PIXELS)
    visible = spec.wanted()
    qtbot.waitUntil(lambda: spec.scheduler.visible_pending() == 0, timeout=10000)
    one_thread.waitForDone(5000)
    qtbot.wait(50)
    assert arrived == visible
    assert spec.scheduler.background_pending() > 0, "the rest waits, queued"
    spec.hold_background(False)  # decoded: the neighbours and the whole file follow
    settle(qtbot, spec)
    qtbot.waitUntil(lambda: spec.scheduler.background_pending() == 0, timeout=10000)
    assert arrived == visible + plan_of(spec, 20.0, 28.0)


def test_a_new_file_stops_the_background_work(qtbot: Any, minute: Path, tmp_path: Path,
                                              one_thread: QThreadPool) -> None:
    spec = plot_of(one_thread, minute)
    arrived: list[TileKey] = []
    spec.scheduler.tile_ready.connect(lambda tile: arrived.append(tile.key))
    other = write_tone(tmp_path / "other.wav", 3.0)
    with pool_held(one_thread):
        spec.update_range(20.0, 28.0, PIXELS)
        assert spec.pending_count() > 0
        spec.set_source(other, probe(other))
        assert spec.pending_count() == 0
    one_thread.waitForDone(5000)
    qtbot.wait(50)  # deliver whatever the old jobs sent
    assert arrived == [] and spec.tile_counts()["computed"] == 0
    spec.update_range(0.0, 3.0, PIXELS)
    settle(qtbot, spec)
    assert arrived and spec.tile_counts()["computed"] == len(arrived)


def test_colour_map_and_db_range_recolour_without_recomputing(qtbot: Any, minute: Path) -> None:
    spec = plot_of(QThreadPool.globalInstance(), minute)
    spec.update_range(20.0, 28.0, PIXELS)
    settle(qtbot, spec)
    before = spec.tile_counts()
    images = {key: spec.image_of(key) for key in spec.wanted()}
    spec.set_params(colormap="viridis", db_range=(-80.0, -20.0))
    assert spec.pending_count() == 0
    qtbot.wait(30)
    assert spec.tile_counts() == before
    viridis = lookup_table("viridis")
    for key, image in images.items():
        assert spec.image_of(key) is image, "the same images, re-coloured"
        assert image is not None and image.colouring.levels == (-80.0, -20.0)
        picture = image.image()
        db = spec.db_of(key)
        assert db is not None and (picture.width(), picture.height()) == db.shape
        for column, bin_ in ((0, 0), (db.shape[0] // 2, db.shape[1] // 3)):
            entry = int(np.clip((db[column, bin_] + 80.0) * 256 / 60.0, 0, 255))
            r, g, b = (int(v) for v in viridis[entry][:3])
            assert picture.pixel(column, bin_) == 0xFF000000 | r << 16 | g << 8 | b
    assert spec.colormap == "viridis"
    with pytest.raises(ValueError, match="colour map"):
        spec.set_params(colormap="rainbow")


def test_tiles_are_coloured_on_the_workers_and_drawn_as_they_came(
        qtbot: Any, minute: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    colouring_threads: list[int] = []
    colour = Colouring.pixels

    def recorded(self: Colouring, db: np.ndarray) -> np.ndarray:
        colouring_threads.append(threading.get_ident())
        return colour(self, db)

    monkeypatch.setattr(Colouring, "pixels", recorded)
    spec = plot_of(QThreadPool.globalInstance(), minute)
    arrived: list[Tile] = []
    spec.scheduler.tile_ready.connect(arrived.append)
    spec.update_range(20.0, 28.0, PIXELS)
    settle(qtbot, spec)
    gui = threading.get_ident()
    assert arrived and colouring_threads and gui not in colouring_threads
    for tile in arrived:
        assert tile.pixels is not None and tile.colouring is spec.colouring
    for key in spec.wanted():
        image = spec.image_of(key)
        tile = next(t for t in arrived if t.key == key)
        assert image is not None and tile.pixels is not None
        assert image.image().constBits() == tile.pixels.tobytes(), "drawn as it came"
    spec.set_params(db_range=(-70.0, -10.0))  # the user's change: shown images now
    assert gui in colouring_threads
    assert all(image.colouring is spec.colouring
               for image in map(spec.image_of, spec.wanted()) if image is not None)


def test_a_window_change_computes_only_missing_tiles_and_never_blanks(
        qtbot: Any, minute: Path) -> None:
    spec = plot_of(QThreadPool.globalInstance(), minute)
    spec.update_range(20.0, 28.0, PIXELS)
    settle(qtbot, spec)
    spec.update_range(0.0, 60.0, PIXELS)  # "fit": computed in the background meanwhile
    assert spec.covers_view() and spec.pending_count() == 0
    spec.update_range(20.0, 28.0, PIXELS)
    old_shown = set(spec.shown_keys())
    computed = spec.tile_counts()["computed"]
    spec.set_params(window=512)
    assert old_shown <= set(spec.shown_keys()), "the old images stay until covered"
    assert not spec.covers_view()
    settle(qtbot, spec)
    assert not old_shown & set(spec.shown_keys()), "the old window's images are hidden now"
    new_tiles = set(spec.wanted()) | set(plan_of(spec, 20.0, 28.0))
    assert spec.tile_counts()["computed"] == computed + len(new_tiles)
    computed = spec.tile_counts()["computed"]
    spec.set_params(window=1024)  # back: all in memory, shown at once with its old images
    assert spec.covers_view() and spec.pending_count() == 0
    assert set(spec.shown_keys()) == old_shown
    spec.update_range(28.0, 36.0, PIXELS)  # a pan onto the neighbours computed meanwhile
    assert spec.covers_view()
    counts = spec.tile_counts()
    assert counts["computed"] == computed
    for a in (20.0, 24.0, 28.0, 20.0):
        spec.update_range(a, a + 8.0, PIXELS)
    assert spec.tile_counts() == counts, "nothing recomputed, no image made twice"


def _overlap(a: TileKey, b: TileKey) -> bool:
    (a0, a1), (b0, b1) = a.column_span_frames(), b.column_span_frames()
    return a0 < b1 and b0 < a1


def test_old_images_stay_only_over_the_new_level_s_holes(
        qtbot: Any, minute: Path, one_thread: QThreadPool) -> None:
    spec = plot_of(one_thread, minute)
    spec.update_range(16.0, 32.0, PIXELS)
    settle(qtbot, spec)
    coarse = set(spec.shown_keys())
    steps: list[tuple[int, int]] = []  # (holes, old images shown) after each arrival
    wrong: list[str] = []

    def check(_tile: object) -> None:
        wanted, shown = set(spec.wanted()), set(spec.shown_keys())
        holes = wanted - shown
        old = shown - wanted
        wrong.extend(f"{k} shown over no hole" for k in old if not any(
            _overlap(k, h) for h in holes))
        wrong.extend(f"hole {h} left blank" for h in holes
                     if any(_overlap(h, k) for k in coarse) and not any(
                         _overlap(h, k) for k in old))
        steps.append((len(holes), len(old)))

    with pool_held(one_thread):
        spec.update_range(20.0, 28.0, PIXELS)  # a finer level: none of it made yet
        under = {k for k in coarse if any(_overlap(k, w) for w in spec.wanted())}
        assert under and set(spec.shown_keys()) == under, "the old level stays under the view"
        spec.scheduler.tile_ready.connect(check)
    settle(qtbot, spec)
    assert not wrong, wrong
    assert any(holes and old < len(under) for holes, old in steps), (
        f"an old image leaves once what it covered has arrived: {steps}")
    assert not set(spec.shown_keys()) & coarse


def test_the_memory_budget_is_ten_screens_of_the_view_within_bounds() -> None:
    screen_4k = 3840 * (1024 // 2 + 1) * 8  # a dB value and a pixel per bin and column
    assert memory_budget(3840, 1024) == 10 * screen_4k  # about 158 MB: three zoom levels
    assert memory_budget(1600, 1024) == spectrogram_view.MIN_MEMORY_BYTES
    assert memory_budget(3840, 4096) == spectrogram_view.MAX_MEMORY_BYTES
    assert memory_budget(0, 1024) == spectrogram_view.MIN_MEMORY_BYTES


def test_tiles_kept_in_memory_follow_the_view_s_width(
        qtbot: Any, minute: Path, one_thread: QThreadPool,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spectrogram_view, "MIN_MEMORY_BYTES", 0)
    monkeypatch.setattr(spectrogram_view, "SCREENS_IN_MEMORY", 3)
    spec = plot_of(one_thread, minute)
    for start in (0.0, 15.0, 30.0, 45.0):
        spec.update_range(start, start + 4.0, PIXELS)
        settle(qtbot, spec)
    held, budget = spec.memory_use()
    tile_bytes = 2 * TILE_COLUMNS * (spec.window // 2 + 1) * 4
    assert budget == 3 * PIXELS * (spec.window // 2 + 1) * 8
    assert spec.tile_counts()["computed"] * tile_bytes > budget, "some had to be dropped"
    assert held <= budget
    spec.update_range(0.0, 16.0, 4 * PIXELS)  # a view four times wider keeps four times more
    settle(qtbot, spec)
    wide_held, wide_budget = spec.memory_use()
    assert wide_budget == 4 * budget
    assert budget < wide_held <= wide_budget


def test_reopening_a_file_draws_its_spectrogram_from_the_tile_cache(
        qtbot: Any, gui_paths: AppPaths, tmp_path: Path) -> None:
    path = write_tone(tmp_path / "take.wav", 12.0)
    editor = AudioEditor(paths=gui_paths)
    qtbot.addWidget(editor)
    editor.resize(900, 500)
    editor.show()
    spec = editor.view.spectrogram
    try:
        with qtbot.waitSignal(editor.file_opened, timeout=10000):
            editor.open_file(path)
        settle(qtbot, spec)
        first = spec.tile_counts()
        assert first["computed"] > 0 and first["from_disk"] == 0
        stored = list(gui_paths.spectrogram_cache.rglob("*.npy"))
        assert len(stored) == first["computed"]
        with qtbot.waitSignal(editor.file_opened, timeout=10000):
            editor.open_file(path)
        settle(qtbot, spec)
        again = spec.tile_counts()
        assert again["computed"] == first["computed"], "nothing computed on reopening"
        assert again["from_disk"] >= len(spec.wanted())
        for entry in stored:  # damaged entries are computed again, and shown
            entry.write_bytes(b"not a tile")
        with qtbot.waitSignal(editor.file_opened, timeout=10000):
            editor.open_file(path)
        settle(qtbot, spec)
        assert spec.tile_counts()["computed"] > again["computed"]
        assert editor.view.message() == ""
    finally:
        editor.shutdown()


def test_spectrogram_choices_are_remembered(qtbot: Any, app_context: Any) -> None:
    editor = AudioEditor(app_context)
    qtbot.addWidget(editor)
    t = editor.transport
    t.window_box.setCurrentIndex(t.window_box.findData(512))
    t.db_floor.setValue(-80)
    t.colormap_box.setCurrentIndex(t.colormap_box.findData("magma"))
    spec = editor.view.spectrogram
    assert (spec.colormap, spec.window, spec.db_range) == ("magma", 512, (-80.0, -12.0))
    stored = json.loads(app_context.settings.path.read_text())["spectrogram"]
    assert stored == {"window": 512, "floor": -80, "ceiling": -12, "colormap": "magma"}
    editor.shutdown()

    reread = replace(app_context, settings=Settings(app_context.settings.path))
    again = AudioEditor(reread)
    qtbot.addWidget(again)
    assert again.transport.spectrogram_choices() == SpectrogramChoices(512, -80, -12, "magma")
    spec = again.view.spectrogram
    assert (spec.colormap, spec.window, spec.db_range) == ("magma", 512, (-80.0, -12.0))
    again.shutdown()


def test_unusable_stored_choices_fall_back_to_the_defaults(tmp_path: Path) -> None:
    settings = Settings(tmp_path / "settings.json")
    settings.set("spectrogram", {"window": 7, "floor": "low", "ceiling": 99,
                                 "colormap": "rainbow"})
    assert SpectrogramChoices.from_settings(settings) == SpectrogramChoices(ceiling=20)
    settings.set("spectrogram", "nonsense")
    assert SpectrogramChoices.from_settings(settings) == SpectrogramChoices()
