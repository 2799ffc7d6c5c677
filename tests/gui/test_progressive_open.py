"""Progressive open: the waveform is drawn while the file decodes, opened anywhere at once.

Decoding is paced by a gate (the editor's ``decode_pacer``) so a test sees the
file part decoded: blocks pass only as the test lets them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt

from relay_desktop.core.paths import AppPaths
from relay_desktop.ui.waveform.editor import AudioEditor
from tests.support.paint_events import PaintEvents

RATE = 16000
BLOCK = 4096
RAW_MODES = ("raw-envelope", "samples", "samples-dots")
GATE_TIMEOUT_S = 15.0


def write_audio(path: Path, seconds: float = 3.0, fmt: str | None = None) -> Path:
    t = np.arange(int(seconds * RATE)) / RATE
    sig = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    sf.write(str(path), sig, RATE, format=fmt)
    return path


class Gate:
    """Lets ``allowed`` decoded blocks through; :meth:`release` lets more (or all) pass.

    It opens by itself after ``GATE_TIMEOUT_S``, so a failing test never leaves a
    decoding thread blocked behind it.
    """

    def __init__(self, allowed: int = 1) -> None:
        self.allowed = allowed
        self.passed = 0
        self._cond = threading.Condition()
        self._deadline = time.monotonic() + GATE_TIMEOUT_S

    def release(self, count: int = 1 << 30) -> None:
        with self._cond:
            self.allowed += count
            self._cond.notify_all()

    def __call__(self, blocks: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        for block in blocks:
            with self._cond:
                while self.passed >= self.allowed and time.monotonic() < self._deadline:
                    self._cond.wait(0.05)
                self.passed += 1
            yield block


@pytest.fixture
def editor(qtbot: Any, gui_paths: AppPaths) -> Iterator[AudioEditor]:
    widget = AudioEditor(paths=gui_paths)
    qtbot.addWidget(widget)
    widget.resize(1100, 560)
    widget.show()
    widget.decode_block_frames = BLOCK
    yield widget
    widget.shutdown()


def gated(editor: AudioEditor, allowed: int = 1) -> Gate:
    gate = Gate(allowed)
    editor.decode_pacer = gate
    return gate


def cached_pyramids(editor: AudioEditor) -> list[Path]:
    return [p for p in editor.peak_cache.root.glob("??/*") if (p / "meta.json").exists()]


def test_the_decoded_part_is_drawn_and_the_rest_is_pending(qtbot: Any, editor: AudioEditor,
                                                           tmp_path: Path) -> None:
    path = write_audio(tmp_path / "a.flac", seconds=30.0)  # a pixel is > 1 level-0 bucket
    gate = gated(editor)
    events: list[str] = []
    editor.file_opened.connect(lambda _info: events.append("opened"))
    editor.file_decoded.connect(lambda _info: events.append("decoded"))
    try:
        with qtbot.waitSignal(editor.file_opened, timeout=10000):
            editor.open_file(path)
        view = editor.view
        assert view.duration_s == pytest.approx(30.0) and view.view_range() == pytest.approx(
            (0.0, 30.0))
        assert editor.transport.play_button.isEnabled() and not editor.progress.isHidden()
        qtbot.waitUntil(lambda: (view.pending_span() or (0, 0))[0] > 0, timeout=5000)
        start, end = view.pending_span() or (0.0, 0.0)
        assert start <= BLOCK / RATE and end == pytest.approx(30.0)
        assert view.drawn_mode == "partial" and view.pending.isVisible()
        assert events == ["opened"] and not cached_pyramids(editor)
        assert view.spectrogram.scheduler.background_held, "no tiles ahead while decoding"
    finally:
        gate.release()
    qtbot.waitUntil(lambda: events == ["opened", "decoded"], timeout=10000)
    assert editor.view.pending_span() is None and not editor.view.pending.isVisible()
    assert not editor.view.spectrogram.scheduler.background_held
    assert editor.view.drawn_mode == "peaks" and editor.progress.isHidden()
    # stored once complete (file_decoded comes first: the copy is written after it)
    qtbot.waitUntil(lambda: len(cached_pyramids(editor)) == 1, timeout=5000)
    # the next open comes from the cache: complete at once, both signals
    editor.decode_pacer = None
    with qtbot.waitSignals([editor.file_opened, editor.file_decoded], timeout=10000):
        editor.open_file(path)
    assert editor.view.pending_span() is None


def test_open_at_a_position_draws_its_samples_before_decoding_gets_there(
        qtbot: Any, editor: AudioEditor, tmp_path: Path) -> None:
    path = write_audio(tmp_path / "a.wav", seconds=6.0)
    gate = gated(editor)
    try:
        with qtbot.waitSignal(editor.file_opened, timeout=10000):
            editor.open_file(path, at=(4.0, 4.25))
        view = editor.view
        assert view.view_range() == pytest.approx((4.0, 4.25))
        assert view.playhead() == pytest.approx(4.0)
        qtbot.waitUntil(lambda: view.drawn_mode in RAW_MODES, timeout=5000)
        pyramid = view.pyramid
        assert pyramid is not None and pyramid.decoded_until() < 4.0 * RATE
    finally:
        gate.release()
    qtbot.waitSignal(editor.file_decoded, timeout=10000).wait()


def test_a_format_that_cannot_seek_fast_streams_and_says_so(
        qtbot: Any, editor: AudioEditor, tmp_path: Path, caplog: Any) -> None:
    path = write_audio(tmp_path / "a.ogg", seconds=6.0, fmt="OGG")
    gate = gated(editor)
    try:
        with caplog.at_level(logging.INFO, logger="relay_desktop.ui.waveform.editor"), \
                qtbot.waitSignal(editor.file_opened, timeout=10000):
            editor.open_file(path, at=(4.0, 4.25))
        assert any("cannot seek fast" in r.getMessage() for r in caplog.records)
        qtbot.wait(300)
        assert editor.view.drawn_mode not in RAW_MODES, "no seek while streaming"
    finally:
        gate.release()
    qtbot.waitSignal(editor.file_decoded, timeout=10000).wait()
    qtbot.waitUntil(lambda: editor.view.drawn_mode in RAW_MODES, timeout=5000)


def test_cancel_keeps_what_is_drawn_and_stores_nothing(qtbot: Any, editor: AudioEditor,
                                                       tmp_path: Path) -> None:
    gate = gated(editor, allowed=2)
    decoded: list[object] = []
    editor.file_decoded.connect(decoded.append)
    with qtbot.waitSignal(editor.file_opened, timeout=10000):
        task = editor.open_file(write_audio(tmp_path / "a.flac"))
    qtbot.waitUntil(lambda: editor.view.pending_span() is not None, timeout=5000)
    editor.cancel_button.click()
    with qtbot.waitSignal(task.cancelled, timeout=10000):
        gate.release()
    qtbot.wait(100)
    assert not decoded and not cached_pyramids(editor)
    assert editor.progress.isHidden() and "incomplete" in editor.properties.text()
    span = editor.view.pending_span()
    assert span is not None and span[1] == pytest.approx(3.0)
    assert not editor.view.pending.decoding and not editor.view.decoding
    assert not editor.view.spectrogram.scheduler.background_held


def test_opening_another_file_mid_decode_drops_the_first(qtbot: Any, editor: AudioEditor,
                                                         tmp_path: Path) -> None:
    first, second = write_audio(tmp_path / "a.flac"), write_audio(tmp_path / "b.wav", 2.0)
    gate = gated(editor)
    opened: list[Any] = []
    editor.file_opened.connect(lambda info: opened.append(info.path))
    editor.file_decoded.connect(lambda info: opened.append(("decoded", info.path)))
    with qtbot.waitSignal(editor.file_opened, timeout=10000):
        task = editor.open_file(first)
    cancelled: list[bool] = []  # recorded from now: it may end before the gate opens
    task.cancelled.connect(lambda: cancelled.append(True))
    editor.decode_pacer = None
    with qtbot.waitSignal(editor.file_decoded, timeout=10000):
        editor.open_file(second)
    gate.release()
    qtbot.waitUntil(lambda: bool(cancelled), timeout=10000)
    qtbot.wait(100)
    assert opened == [first, second, ("decoded", second)]
    assert editor.view.path == second and editor.view.duration_s == pytest.approx(2.0)
    assert editor.view.pending_span() is None


def test_a_file_shorter_than_its_header_shrinks_to_what_it_holds(
        qtbot: Any, editor: AudioEditor, tmp_path: Path) -> None:
    whole = write_audio(tmp_path / "whole.mp3", fmt="MP3")
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    infos: list[Any] = []
    editor.file_opened.connect(infos.append)
    editor.file_decoded.connect(infos.append)
    editor.open_file(cut)
    qtbot.waitUntil(lambda: len(infos) == 2, timeout=10000)
    header, info = infos
    assert 0 < info.frames < header.frames
    assert editor.view.duration_s == pytest.approx(info.duration_s)
    assert editor.view.view_range()[1] <= info.duration_s + 1e-6
    assert editor.view.pending_span() is None


def test_a_time_typed_into_the_transport_goes_there(qtbot: Any, editor: AudioEditor,
                                                    tmp_path: Path) -> None:
    with qtbot.waitSignal(editor.file_decoded, timeout=10000):
        editor.open_file(write_audio(tmp_path / "a.wav", seconds=60.0))
    editor.view.set_view_range(0.0, 5.0)
    label, entry = editor.transport.time_label, editor.transport.time_entry
    qtbot.mouseClick(label, Qt.MouseButton.LeftButton)
    assert entry.is_editing()
    entry.edit.setText("nonsense")
    qtbot.keyClick(entry.edit, Qt.Key.Key_Return)
    assert entry.is_editing(), "a time that cannot be read keeps the field open"
    entry.edit.setText("0:42.5")
    qtbot.keyClick(entry.edit, Qt.Key.Key_Return)
    assert not entry.is_editing()
    assert editor.player.position_ms == 42500
    assert editor.view.playhead() == pytest.approx(42.5)
    a, b = editor.view.view_range()
    assert a <= 42.5 <= b and b - a == pytest.approx(5.0)
    qtbot.mouseClick(label, Qt.MouseButton.LeftButton)
    entry.edit.setText("12")
    qtbot.keyClick(entry.edit, Qt.Key.Key_Escape)
    assert not entry.is_editing() and editor.view.playhead() == pytest.approx(42.5)


def test_the_progress_bar_follows_decoding_and_stays_hidden_once_done(
        qtbot: Any, editor: AudioEditor, tmp_path: Path) -> None:
    path = write_audio(tmp_path / "a.flac", seconds=30.0)
    gate = gated(editor, allowed=2)
    decoded: list[object] = []
    editor.file_decoded.connect(decoded.append)
    try:
        with qtbot.waitSignal(editor.file_opened, timeout=10000):
            editor.open_file(path)
        qtbot.waitUntil(lambda: editor.progress.format().startswith("Decoding ")
                        and editor.progress.value() > 0, timeout=5000)
        shown = editor.progress.value()
        gate.release(40)   # many more spans within one throttle interval: one more update
        qtbot.waitUntil(lambda: editor.progress.value() > shown, timeout=5000)
        assert not editor.progress.isHidden()
    finally:
        gate.release()
    qtbot.waitUntil(lambda: bool(decoded), timeout=10000)
    qtbot.wait(250)   # past the throttle's interval: a late update must not show it again
    assert editor.progress.isHidden() and editor.cancel_button.isHidden()


def test_switching_between_cached_files_paints_no_empty_frame(
        qtbot: Any, editor: AudioEditor, tmp_path: Path) -> None:
    first, second = write_audio(tmp_path / "one.wav"), write_audio(tmp_path / "two.wav", 4.0)
    for path in (first, second):  # both decoded once: their peaks are cached
        with qtbot.waitSignal(editor.file_decoded, timeout=10000):
            editor.open_file(path)
    view = editor.view
    painted: list[str] = []  # what the view held each time its plot was painted
    viewport = view.plots()[0].scene().views()[0].viewport()
    watcher = PaintEvents(viewport, lambda: painted.append(
        "empty" if view.path is None else view.path.name))
    try:
        for path in (first, second, first):
            with qtbot.waitSignal(editor.file_opened, timeout=10000):
                editor.open_file(path)
            assert not view.picture.holding, "the new file released the hold"
            qtbot.wait(30)
    finally:
        watcher.stop()
    assert "empty" not in painted, painted
    assert painted and painted[-1] == first.name


def test_a_slow_open_shows_its_opening_state_once_the_hold_ends(
        qtbot: Any, gui_paths: AppPaths, tmp_path: Path) -> None:
    from PySide6.QtCore import QThreadPool

    pool = QThreadPool()
    pool.setMaxThreadCount(1)
    slow = AudioEditor(paths=gui_paths, pool=pool)
    qtbot.addWidget(slow)
    slow.resize(900, 400)
    slow.show()
    busy = threading.Event()
    pool.start(lambda: busy.wait(10))  # the open waits behind this for the only thread
    try:
        slow.open_file(write_audio(tmp_path / "slow.wav"))
        assert slow.view.picture.holding and not slow.view.updatesEnabled()
        qtbot.waitUntil(lambda: not slow.view.picture.holding, timeout=2000)
        assert slow.view.updatesEnabled() and "Opening slow.wav" in slow.view.message()
    finally:
        busy.set()
    with qtbot.waitSignal(slow.file_opened, timeout=10000):
        pass
    assert slow.view.message() == ""
    slow.shutdown()
    pool.waitForDone(5000)
