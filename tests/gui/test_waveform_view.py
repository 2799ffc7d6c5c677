"""WaveformView: ranges after zoom/pan/selection, mouse and keys, raw samples, lanes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
import soundfile as sf
from PySide6.QtCore import QPoint, QPointF, Qt, QThreadPool
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QGraphicsScene

from relay_desktop.core.audio import decode
from relay_desktop.core.audio.decode import probe
from relay_desktop.core.audio.peaks import PeakPyramid
from relay_desktop.ui.waveform.view import WaveformView
from tests.support.paint_events import PaintEvents

RATE = 8000
DURATION = 10.0


@pytest.fixture(scope="module")
def stereo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    t = np.arange(int(RATE * DURATION)) / RATE
    left = 0.5 * np.sin(2 * np.pi * 50 * t)
    right = 0.25 * np.sin(2 * np.pi * 3 * t)
    path = tmp_path_factory.mktemp("wave") / "stereo.wav"
    sf.write(str(path), np.stack([left, right], axis=1).astype(np.float32), RATE,
             subtype="FLOAT")
    return path


def open_view(qtbot, path: Path) -> WaveformView:
    """A shown 1000x420 view of ``path``."""
    widget = WaveformView(QThreadPool.globalInstance())
    qtbot.addWidget(widget)
    widget.resize(1000, 420)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_audio(path, probe(path), PeakPyramid.from_file(path))
    return widget


@pytest.fixture
def view(qtbot, stereo_file: Path) -> WaveformView:
    return open_view(qtbot, stereo_file)


def approx_range(view: WaveformView, a: float, b: float, tol: float = 1e-6) -> None:
    got = view.view_range()
    assert got[0] == pytest.approx(a, abs=tol) and got[1] == pytest.approx(b, abs=tol), got


def test_public_properties_and_plots(view: WaveformView) -> None:
    assert view.duration_s == pytest.approx(DURATION)
    assert view.sample_rate == RATE and view.channels == 2
    plots = view.plots()
    assert len(plots) == 2
    assert plots[1].getViewBox().linkedView(0) is plots[0].getViewBox(), "x-linked"
    # every zoom moves every item: no BSP index to rebuild per frame
    assert plots[0].scene().itemIndexMethod() == QGraphicsScene.ItemIndexMethod.NoIndex
    approx_range(view, 0.0, DURATION)
    assert view.drawn_mode == "peaks"


def test_zoom_pan_and_clamping(qtbot, view: WaveformView) -> None:
    with qtbot.waitSignal(view.view_range_changed) as sig:
        view.set_view_range(2.0, 6.0)
    assert sig.args[0] == pytest.approx(2.0) and sig.args[1] == pytest.approx(6.0)
    view.zoom_by(0.5, 3.0)
    approx_range(view, 2.5, 4.5)
    view.pan_by(1.0)
    approx_range(view, 3.5, 5.5)
    view.pan_by(100.0)
    approx_range(view, 8.0, 10.0)
    view.pan_by(-100.0)
    approx_range(view, 0.0, 2.0)
    view.zoom_by(100.0)
    approx_range(view, 0.0, DURATION)
    view.set_view_range(5.0, 5.0)  # never narrower than a few samples
    a, b = view.view_range()
    assert b - a == pytest.approx(16 / RATE)
    view.zoom_fit()
    approx_range(view, 0.0, DURATION)


def test_selection_and_zoom_to_selection(qtbot, view: WaveformView) -> None:
    assert view.zoom_to_selection() is False
    with qtbot.waitSignal(view.selection_changed) as sig:
        view.set_selection(4.0, 3.0)
    assert sig.args == [3.0, 4.0]
    assert view.zoom_to_selection() is True
    approx_range(view, 2.95, 4.05)
    with qtbot.waitSignal(view.selection_changed) as cleared:
        view.clear_selection()
    assert cleared.args == [0.0, 0.0] and view.selection() is None


def test_keyboard_zoom_and_pan(qtbot, view: WaveformView) -> None:
    view.set_view_range(2.0, 4.0)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Right)
    approx_range(view, 2.2, 4.2)
    qtbot.keyClick(view, Qt.Key.Key_Left)
    approx_range(view, 2.0, 4.0)
    qtbot.keyClick(view, Qt.Key.Key_Plus)
    a, b = view.view_range()
    assert b - a == pytest.approx(2.0 * 0.64) and (a + b) / 2 == pytest.approx(3.0)
    qtbot.keyClick(view, Qt.Key.Key_F)
    approx_range(view, 0.0, DURATION)
    view.set_selection(1.0, 2.0)
    qtbot.keyClick(view, Qt.Key.Key_Z)
    approx_range(view, 0.95, 2.05)
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert view.selection() is None


def _viewport_pos(view: WaveformView, t_s: float) -> QPoint:
    vb = view.detail.getViewBox()
    scene = vb.mapViewToScene(QPointF(t_s, 0.0))
    return view._glw.mapFromScene(scene)


def test_wheel_zooms_around_the_cursor(qtbot, view: WaveformView) -> None:
    view.set_view_range(2.0, 6.0)
    pos = _viewport_pos(view, 3.0)
    before = view.detail.getViewBox().mapSceneToView(view._glw.mapToScene(pos)).x()
    event = QWheelEvent(QPointF(pos), QPointF(view._glw.mapToGlobal(pos)), QPoint(0, 0),
                        QPoint(0, 240), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view._glw.viewport(), event)
    a, b = view.view_range()
    assert b - a == pytest.approx(4.0 * 0.64, rel=1e-3)
    after = view.detail.getViewBox().mapSceneToView(view._glw.mapToScene(pos)).x()
    assert after == pytest.approx(before, abs=0.01), "the time under the cursor stays put"


def _drag(view: WaveformView, t0: float, t1: float, button: Qt.MouseButton,
          mods: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    viewport = view._glw.viewport()
    p0, p1 = _viewport_pos(view, t0), _viewport_pos(view, t1)
    p0.setY(150)
    p1.setY(150)

    def send(kind: QMouseEvent.Type, pos: QPoint, buttons: Qt.MouseButton) -> None:
        ev = QMouseEvent(kind, QPointF(pos), QPointF(viewport.mapToGlobal(pos)), button,
                         buttons, mods)
        QApplication.sendEvent(viewport, ev)

    send(QMouseEvent.Type.MouseButtonPress, p0, button)
    for k in range(1, 6):
        QTest.qWait(12)  # pyqtgraph drops moves closer than 10 ms apart
        mid = p0 + (p1 - p0) * (k / 5)
        send(QMouseEvent.Type.MouseMove, mid, button)
    send(QMouseEvent.Type.MouseButtonRelease, p1, Qt.MouseButton.NoButton)


def test_shift_drag_selects_and_plain_drag_is_left_to_others(qtbot, view: WaveformView) -> None:
    view.set_view_range(0.0, 8.0)
    with qtbot.waitSignal(view.selection_changed):
        _drag(view, 2.0, 5.0, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier)
    a, b = view.selection() or (0.0, 0.0)
    assert a == pytest.approx(2.0, abs=0.05) and b == pytest.approx(5.0, abs=0.05)
    phases: list[str] = []
    view.empty_drag.connect(lambda s, e, phase: phases.append(phase))
    _drag(view, 1.0, 3.0, Qt.MouseButton.LeftButton)
    assert phases[0] == "start" and phases[-1] == "finish"
    approx_range(view, 0.0, 8.0)  # a plain drag does not pan


def test_middle_drag_pans(qtbot, view: WaveformView) -> None:
    view.set_view_range(4.0, 8.0)
    _drag(view, 6.0, 5.0, Qt.MouseButton.MiddleButton)
    a, b = view.view_range()
    assert a == pytest.approx(5.0, abs=0.05) and b - a == pytest.approx(4.0)


def test_click_emits_time(qtbot, view: WaveformView) -> None:
    view.set_view_range(0.0, 8.0)
    pos = _viewport_pos(view, 3.0)
    pos.setY(150)
    with qtbot.waitSignal(view.clicked_at) as sig:
        qtbot.mouseClick(view._glw.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert sig.args[0] == pytest.approx(3.0, abs=0.02)


def test_raw_samples_and_dots_at_high_zoom(qtbot, view: WaveformView) -> None:
    view.set_view_range(1.0, 1.5)  # 4000 samples on ~950 px: envelope from raw samples
    qtbot.waitUntil(lambda: view.drawn_mode == "raw-envelope", timeout=5000)
    view.set_view_range(1.0, 1.01)  # 80 samples: line with dots
    qtbot.waitUntil(lambda: view.drawn_mode == "samples-dots", timeout=5000)
    view.set_view_range(1.0, 1.05)  # 400 samples: a line, no dots (still inside the read window)
    assert view.drawn_mode == "samples"
    view.zoom_fit()
    assert view.drawn_mode == "peaks"


def test_panning_through_samples_never_waits_for_a_read(qtbot, view: WaveformView) -> None:
    """The window of samples is read ahead while the view pans, and a window read ahead
    (or one read only for snapping) does not redraw the view when it arrives."""
    view.set_view_range(1.0, 1.5)
    qtbot.waitUntil(lambda: view.drawn_mode == "raw-envelope", timeout=5000)
    qtbot.wait(100)  # the layout settles first (a resize redraws, after 30 ms)
    panning = [False]
    redraws_on_arrival: list[float] = []
    refresh = view.refresh

    def counted_refresh(*args: object) -> None:
        if not panning[0]:
            redraws_on_arrival.append(view.view_range()[0])
        refresh(*args)

    view.refresh = counted_refresh  # type: ignore[method-assign]
    start = 1.0
    for _ in range(40):  # 40 pans of 1/10 of the view: 4 views, well past the first window
        start += 0.05
        panning[0] = True
        view.set_view_range(start, start + 0.5)
        panning[0] = False
        assert view.drawn_mode == "raw-envelope", f"waited for samples at {start:.2f} s"
        qtbot.wait(30)  # a window read ahead arrives meanwhile
    assert not redraws_on_arrival, "a window read ahead redrew the view when it arrived"


def test_a_zoom_step_paints_once_with_lines_on_the_plots(qtbot, view: WaveformView) -> None:
    """Lines that follow the view (region edges) take their new geometry before the paint:
    taken during it, Qt paints the whole scene a second time in the same frame."""
    for plot in view.plots():
        for t in (1.2, 1.3):
            plot.addItem(pg.InfiniteLine(t, pen="#ffffff"), ignoreBounds=True)
    view.set_view_range(1.0, 1.5)
    qtbot.waitUntil(lambda: view.drawn_mode == "raw-envelope", timeout=5000)
    qtbot.wait(100)
    viewport = view.plots()[0].scene().views()[0].viewport()
    paints = PaintEvents(viewport)
    for step in range(6):
        before = paints.count
        view.zoom_by(0.8, 1.25)
        qtbot.waitUntil(lambda before=before: paints.count > before, timeout=2000)
        qtbot.wait(50)  # a second paint, if one was asked for, comes now
        assert paints.count == before + 1, f"zoom step {step} painted {paints.count - before}x"


def test_channel_lanes(view: WaveformView) -> None:
    view.set_channel_mode("channels")
    y0, y1 = view.detail.getViewBox().viewRange()[1]
    assert y0 < -3 and y1 > 1, "two lanes stacked"
    view.set_channel_mode("mix")
    y0, _ = view.detail.getViewBox().viewRange()[1]
    assert y0 == pytest.approx(-1.08)
    with pytest.raises(ValueError):
        view.set_channel_mode("surround")


def test_zero_crossing_snaps_to_the_signal(qtbot, view: WaveformView) -> None:
    # the mix of 50 Hz (0.5) and 3 Hz (0.25) sines crosses zero near 0 s and every ~10 ms
    view.set_view_range(0.0, 0.2)  # samples: read in the background, then held in memory
    qtbot.waitUntil(lambda: view.drawn_mode.startswith("samples"), timeout=5000)
    snapped = view.zero_crossing_near(0.0013, window_ms=3)
    assert snapped == pytest.approx(0.0, abs=2 / RATE)
    assert view.path is not None
    exact = decode.nearest_zero_crossing(decode.read_window(view.path, 39_900, 40_100),
                                         39_900, RATE, 5.0013, window_ms=3)
    view.set_view_range(4.99, 5.01)
    qtbot.waitUntil(lambda: view.drawn_mode == "samples-dots", timeout=5000)
    assert view.zero_crossing_near(5.0013, window_ms=3) == exact == pytest.approx(5.0, abs=1 / RATE)


@pytest.fixture
def view_48k(qtbot, tmp_path: Path) -> WaveformView:
    """A 48 kHz file: a pixel can be <= 5 ms while peaks are still drawn."""
    rate = 48_000
    t = np.arange(rate * 20) / rate
    path = tmp_path / "tone.wav"
    sf.write(str(path), (0.5 * np.sin(2 * np.pi * 110 * t)).astype(np.float32), rate)
    return open_view(qtbot, path)


def test_zero_crossings_come_from_memory_never_the_disk(
        qtbot, view_48k: WaveformView, monkeypatch: pytest.MonkeyPatch) -> None:
    view = view_48k

    def no_reads(*_args: object) -> None:
        raise AssertionError("the GUI thread read the file")

    monkeypatch.setattr(decode, "read_window", no_reads)
    view.zoom_fit()  # a pixel is ~20 ms: nothing held, the edge stays where it was dropped
    assert view.drawn_mode == "peaks"
    assert view.zero_crossing_near(2.0013, window_ms=3) == 2.0013
    monkeypatch.undo()
    # 4 s on ~950 px (a pixel ~4 ms, ~200 frames): peaks are drawn, samples read for snaps
    view.set_view_range(2.0, 6.0)
    assert view.drawn_mode == "peaks"
    # a 110 Hz sine crosses zero every 1/220 s: 2.0 s is one, the next is 2.004545 s
    qtbot.waitUntil(lambda: view.zero_crossing_near(2.0013, window_ms=3) != 2.0013,
                    timeout=5000)
    monkeypatch.setattr(decode, "read_window", no_reads)
    assert view.zero_crossing_near(2.0013, window_ms=3) == pytest.approx(2.0, abs=1 / 48_000)
    assert view.zero_crossing_near(2.0039, window_ms=3) == pytest.approx(2.0 + 1 / 220,
                                                                         abs=1 / 48_000)
    assert view.drawn_mode == "peaks"


def test_playhead_and_follow(view: WaveformView) -> None:
    view.set_view_range(0.0, 2.0)
    view.set_playhead(1.5)
    assert view.playhead() == pytest.approx(1.5)
    view.ensure_visible(3.0)
    a, b = view.view_range()
    assert a <= 3.0 <= b and b - a == pytest.approx(2.0)
    view.set_playhead(None)
    assert view.playhead() is None


def test_spectrogram_tiles_arrive_and_toggle(qtbot, view: WaveformView) -> None:
    spec = view.spectrogram
    qtbot.waitUntil(lambda: bool(spec.shown_keys()) and spec.pending_count() == 0,
                    timeout=10000)
    assert all(k.window == 1024 for k in spec.shown_keys())
    view.set_spectrogram_params(window=512, db_range=(-80, -20))
    qtbot.waitUntil(lambda: any(k.window == 512 for k in spec.shown_keys()), timeout=10000)
    assert spec.db_range == (-80, -20)
    view.set_spectrogram_visible(False)
    assert spec.plot.scene() is None or not spec.visible
    view.set_spectrogram_visible(True)
    assert spec.visible


def test_messages_are_shown(view: WaveformView) -> None:
    view.show_message("Cannot decode x.wav: the file is empty.")
    assert "empty" in view.message()
    view.clear_message()
    assert view.message() == ""


def test_overview_box_follows_and_steers_the_view(qtbot, view: WaveformView) -> None:
    view.set_view_range(2.0, 4.0)
    assert view.overview.window() == pytest.approx((2.0, 4.0))
    view.overview.drag_to(9.0, 11.0)  # clamped to the end of the file
    assert view.view_range() == pytest.approx((8.0, 10.0))
    view.overview.centre_requested.emit(5.0)
    assert view.view_range() == pytest.approx((4.0, 6.0))
    # a real drag on the strip moves the window by the same time
    vb = view.overview.plot.getViewBox()
    viewport = view._glw.viewport()

    def at(t: float) -> QPoint:
        return view._glw.mapFromScene(vb.mapViewToScene(QPointF(t, 0.0)))

    p0, p1 = at(5.0), at(6.0)
    for kind, pos, buttons in ((QMouseEvent.Type.MouseButtonPress, p0, Qt.MouseButton.LeftButton),
                               (QMouseEvent.Type.MouseMove, p0 + (p1 - p0) * 0.5,
                                Qt.MouseButton.LeftButton),
                               (QMouseEvent.Type.MouseMove, p1, Qt.MouseButton.LeftButton),
                               (QMouseEvent.Type.MouseButtonRelease, p1, Qt.MouseButton.NoButton)):
        QTest.qWait(12)
        QApplication.sendEvent(viewport, QMouseEvent(kind, QPointF(pos),
                                                     QPointF(viewport.mapToGlobal(pos)),
                                                     Qt.MouseButton.LeftButton, buttons,
                                                     Qt.KeyboardModifier.NoModifier))
    a, b = view.view_range()
    assert a == pytest.approx(5.0, abs=0.1) and b - a == pytest.approx(2.0)
