"""Regions on a real WaveformView: drawing, resizing, moving, snapping and keys.

Everything runs against a live Relay Local through the ApiWorker; the mouse is
simulated on the plot's viewport, mapping seconds to pixels.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
import soundfile as sf
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt, QThreadPool
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QGraphicsView
from pytestqt.qtbot import QtBot

from relay_desktop.api import RelayClient
from relay_desktop.core.annotations import Region
from relay_desktop.core.audio.decode import probe
from relay_desktop.core.audio.peaks import PeakPyramid
from relay_desktop.core.journal import Journal
from relay_desktop.services.annotation_session import AnnotationSession
from relay_desktop.services.api_worker import ApiWorker
from relay_desktop.services.player import Player
from relay_desktop.services.sync import SyncService
from relay_desktop.ui.annotations.region_layer import RegionLayer
from relay_desktop.ui.waveform.view import WaveformView
from tests.gui.test_playback import pulse_sink  # noqa: F401 - a fixture
from tests.support.live_server import LiveServer

pg.setConfigOption("mouseRateLimit", -1)  # deliver every synthetic move
TYPES = [{"name": "click", "color": "#e53935"}, {"name": "pause", "color": "#43a047"},
         {"name": "hum", "color": "#1e88e5"}]
DURATION_MS = 10_000
LEFT = Qt.MouseButton.LeftButton
NOMOD = Qt.KeyboardModifier.NoModifier


@dataclass
class Env:
    client: RelayClient
    dataset_id: str
    set_id: str
    audio_ids: list[str]
    worker: ApiWorker
    sync: SyncService
    session: AnnotationSession
    view: WaveformView
    layer: RegionLayer
    wav: Path


def write_wav(path: Path, seconds: float = DURATION_MS / 1000, sr: int = 16_000) -> Path:
    t = np.arange(int(seconds * sr)) / sr
    sf.write(path, (0.5 * np.sin(2 * np.pi * 100 * t)).astype(np.float32), sr)
    return path


def open_env(qtbot: QtBot, server: LiveServer, tmp_path: Path, *, files: int = 2) -> Env:
    client = RelayClient(server.base_url, server.api_key)
    ds = client.datasets.create(f"regions-{uuid.uuid4().hex[:8]}", artifact_types=TYPES)
    audio = [client.audio.request_upload(ds.id, f"take{i}.wav", "audio/wav", 1000).audio_id
             for i in range(files)]
    draft = client.annotation_sets.create(ds.id)
    worker = ApiWorker(server.base_url, server.api_key)
    sync = SyncService(worker, Journal(tmp_path / "journal.sqlite3"), coalesce_ms=50,
                       backoff_s=(0.2, 0.5))
    session = AnnotationSession(sync, ds.id, draft.id)
    with qtbot.waitSignal(session.loaded, timeout=10_000):
        session.open()
    wav = write_wav(tmp_path / "take0.wav")
    info = probe(wav)
    view = WaveformView(QThreadPool.globalInstance())
    qtbot.addWidget(view)
    view.resize(1000, 420)
    view.show()
    qtbot.waitExposed(view)
    view.set_audio(wav, info, PeakPyramid.from_file(wav))
    layer = RegionLayer(session, view.plots(), view=view)
    layer.set_audio_file(audio[0], DURATION_MS)
    return Env(client, ds.id, draft.id, audio, worker, sync, session, view, layer, wav)


def close_env(env: Env) -> None:
    env.session.close()
    env.sync.close()
    env.worker.shutdown(5000)
    env.sync.journal.close()
    env.client.close()


@pytest.fixture
def env(qtbot: QtBot, relay_server: LiveServer, tmp_path: Path) -> Iterator[Env]:
    e = open_env(qtbot, relay_server, tmp_path)
    yield e
    close_env(e)


# -- mouse helpers ------------------------------------------------------------------------
def gview(plot: pg.PlotItem) -> QGraphicsView:
    return plot.scene().views()[0]


def to_px(plot: pg.PlotItem, t_s: float, frac_y: float = 0.5) -> QPoint:
    vb = plot.getViewBox()
    y0, y1 = vb.viewRange()[1]
    scene = vb.mapViewToScene(QPointF(t_s, y0 + (y1 - y0) * frac_y))
    return gview(plot).mapFromScene(scene)


def _send(widget: object, kind: QEvent.Type, pos: QPoint, button: Qt.MouseButton,
          buttons: Qt.MouseButton, mods: Qt.KeyboardModifier) -> None:
    vp = widget
    glob = vp.mapToGlobal(pos)  # type: ignore[attr-defined]
    ev = QMouseEvent(kind, QPointF(pos), QPointF(glob), button, buttons, mods)
    QApplication.sendEvent(vp, ev)  # type: ignore[arg-type]


def drag(plot: pg.PlotItem, a_s: float, b_s: float, mods: Qt.KeyboardModifier = NOMOD,
         steps: int = 8, frac_y: float = 0.5) -> None:
    vp = gview(plot).viewport()
    a, b = to_px(plot, a_s, frac_y), to_px(plot, b_s, frac_y)
    _send(vp, QEvent.Type.MouseButtonPress, a, LEFT, LEFT, mods)
    for i in range(1, steps + 1):
        p = QPoint(round(a.x() + (b.x() - a.x()) * i / steps), a.y())
        _send(vp, QEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, LEFT, mods)
    _send(vp, QEvent.Type.MouseButtonRelease, b, LEFT, Qt.MouseButton.NoButton, mods)
    QApplication.processEvents()


def click(plot: pg.PlotItem, t_s: float, mods: Qt.KeyboardModifier = NOMOD) -> None:
    vp = gview(plot).viewport()
    p = to_px(plot, t_s)
    _send(vp, QEvent.Type.MouseButtonPress, p, LEFT, LEFT, mods)
    _send(vp, QEvent.Type.MouseButtonRelease, p, LEFT, Qt.MouseButton.NoButton, mods)
    QApplication.processEvents()


def only_region(env: Env) -> Region:
    regions = list(env.session.document)
    assert len(regions) == 1, regions
    return regions[0]


def server_spans(env: Env) -> list[tuple[str, int, int]]:
    detail = env.client.annotation_sets.get(env.dataset_id, env.set_id)
    return sorted((a.artifact_type, a.start_ms, a.end_ms) for a in detail.annotations)


# -- tests --------------------------------------------------------------------------------
def test_draw_resize_move_undo_redo_with_the_mouse(env: Env, qtbot: QtBot) -> None:
    env.view.set_view_range(0.0, 4.0)
    plot = env.view.plots()[0]
    QTest.keyClick(env.view, Qt.Key.Key_2)          # type 2 = pause
    assert env.layer.current_type == "pause"
    drag(plot, 1.0, 2.0)
    r = only_region(env)
    assert r.artifact_type == "pause"
    assert abs(r.start_ms - 1000) <= 10 and abs(r.end_ms - 2000) <= 10
    assert env.session.selection == [r.local_id]
    assert env.layer.item_count() == 1
    drag(plot, r.end_ms / 1000, 2.5)                 # the end edge
    resized = only_region(env)
    assert resized.start_ms == r.start_ms and abs(resized.end_ms - 2500) <= 10
    mid = (resized.start_ms + resized.end_ms) / 2000
    drag(plot, mid, mid + 1.0)                       # the body
    moved = only_region(env)
    assert moved.duration_ms == resized.duration_ms
    assert abs(moved.start_ms - (resized.start_ms + 1000)) <= 10
    stack = env.session.undo_stack
    assert [stack.text(i).split()[0] for i in range(stack.count())] == ["Add", "Resize", "Move"]
    stack.undo()
    assert only_region(env) == resized
    item = env.layer.items_for(r.local_id)[0]
    assert item.getRegion() == (resized.start_ms / 1000, resized.end_ms / 1000)
    stack.undo()
    stack.undo()
    assert len(env.session.document) == 0 and env.layer.item_count() == 0
    stack.redo()
    stack.redo()
    stack.redo()
    assert only_region(env) == moved
    qtbot.waitUntil(lambda: env.session.state.kind == "saved", timeout=10_000)
    assert server_spans(env) == [("pause", moved.start_ms, moved.end_ms)]


def test_edges_snap_to_neighbours_unless_shift_is_held(env: Env, qtbot: QtBot) -> None:
    env.view.set_view_range(0.0, 4.0)
    plot = env.view.plots()[0]
    a = Region("a", env.audio_ids[0], "click", 1000, 1500)
    b = Region("b", env.audio_ids[0], "click", 2000, 2500)
    env.session.add([a, b])
    drag(plot, 2.0, 1.51)                 # b's start edge to 10 ms right of a's end
    assert env.session.document.region("b").start_ms == 1500
    env.session.undo_stack.undo()
    drag(plot, 2.0, 1.53, mods=Qt.KeyboardModifier.ShiftModifier)
    start = env.session.document.region("b").start_ms
    assert start != 1500 and abs(start - 1530) <= 8


def test_keys_mark_nudge_cycle_navigate_relabel_delete(env: Env, qtbot: QtBot) -> None:
    view, layer, session = env.view, env.layer, env.session
    view.set_view_range(0.0, 4.0)
    view.set_playhead(1.0)
    QTest.keyClick(view, Qt.Key.Key_3)
    QTest.keyClick(view, Qt.Key.Key_I)
    view.set_playhead(1.8)
    QTest.keyClick(view, Qt.Key.Key_O)
    r = only_region(env)
    assert (r.artifact_type, r.start_ms, r.end_ms) == ("hum", 1000, 1800)
    assert layer.selected_edge == 1                       # a new region selects its end
    QTest.keyClick(view, Qt.Key.Key_Period)               # +1 ms
    QTest.keyClick(view, Qt.Key.Key_Period, Qt.KeyboardModifier.ShiftModifier)  # +10 ms
    QTest.keyClick(view, Qt.Key.Key_E)                    # the start edge
    QTest.keyClick(view, Qt.Key.Key_Comma)                # -1 ms
    r = only_region(env)
    assert (r.start_ms, r.end_ms) == (999, 1811)
    stack = session.undo_stack
    assert stack.count() == 3       # add, end nudges (merged), start nudge
    # overlapping stack: Tab cycles through the regions under the cursor
    session.add([Region("o1", env.audio_ids[0], "click", 1200, 1400),
                 Region("o2", env.audio_ids[0], "pause", 1250, 3000)])
    click(view.plots()[0], 1.3)
    stack_ids = {r.local_id, "o1", "o2"}
    assert len(session.selection) == 1 and session.selection[0] in stack_ids  # the topmost
    QTest.keyClick(view, Qt.Key.Key_Tab)
    first = session.selection[0]
    QTest.keyClick(view, Qt.Key.Key_Tab)
    second = session.selection[0]
    QTest.keyClick(view, Qt.Key.Key_Tab)
    third = session.selection[0]
    assert {first, second, third} == stack_ids
    # N / P walk the file's regions in start order and scroll to them
    session.select([r.local_id])
    QTest.keyClick(view, Qt.Key.Key_N)
    assert session.selection == ["o1"]
    QTest.keyClick(view, Qt.Key.Key_N)
    assert session.selection == ["o2"]
    QTest.keyClick(view, Qt.Key.Key_P)
    assert session.selection == ["o1"]
    session.add([Region("far", env.audio_ids[0], "click", 8000, 8200)])
    session.select(["o2"])
    QTest.keyClick(view, Qt.Key.Key_N)
    assert session.selection == ["far"]
    a, b = view.view_range()
    assert a <= 8.0 and b >= 8.2
    # 1-9 relabel the selection; Delete removes it
    QTest.keyClick(view, Qt.Key.Key_2)
    assert session.document.region("far").artifact_type == "pause"
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert "far" not in session.document
    stack.undo()
    assert session.document.region("far").artifact_type == "pause"


def test_many_regions_are_painted_and_get_items_under_the_pointer(env: Env,
                                                                 qtbot: QtBot) -> None:
    regions = [Region(f"r{i}", env.audio_ids[0], "click", i * 4, i * 4 + 2) for i in range(2000)]
    env.session.add(regions)
    env.session.select([])
    env.view.set_view_range(0.0, 0.4)        # 100 regions visible: painted, not items
    assert env.layer.summary_mode and env.layer.item_count() == 0
    assert 90 <= env.layer.painted_count() <= 110
    plot = env.view.plots()[0]
    _send(gview(plot).viewport(), QEvent.Type.MouseMove, to_px(plot, 0.201),
          Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, NOMOD)
    assert "r50" in [i for i in ("r49", "r50", "r51") if env.layer.items_for(i)]
    assert env.layer.item_count() <= 3       # only the regions under the pointer
    env.view.zoom_fit()                      # 2,000 painted by one item per plot
    assert env.layer.summary_mode and env.layer.item_count() <= 4   # the nearest to the pointer
    assert env.layer.painted_count() + env.layer.item_count() == 2000
    env.view.set_view_range(8.5, 9.0)        # past the last region (7.998 s)
    assert env.layer.item_count() == 0 and env.layer.painted_count() == 0
    assert not env.layer.summary_mode
    env.view.set_view_range(7.6, 8.0)        # panned back: they are painted again
    assert env.layer.painted_count() >= 90 and env.layer.item_count() == 0


def test_a_painted_region_can_be_clicked_and_dragged(env: Env, qtbot: QtBot) -> None:
    regions = [Region(f"r{i}", env.audio_ids[0], "click", i * 100, i * 100 + 50)
               for i in range(60)]
    env.session.add(regions)
    env.session.select([])
    env.view.set_view_range(0.0, 4.0)        # 40 visible: painted
    assert env.layer.summary_mode and env.layer.item_count() == 0
    plot = env.view.plots()[0]
    click(plot, 2.025)                       # a press with no move before it
    assert env.session.selection == ["r20"]
    assert env.layer.items_for("r20")[0].selected
    drag(plot, 1.05, 1.08, mods=Qt.KeyboardModifier.ShiftModifier)  # r10's end edge
    moved = env.session.document.region("r10")
    assert moved.start_ms == 1000 and abs(moved.end_ms - 1080) <= 3
    assert env.session.selection == ["r10"]


def test_regions_show_on_every_plot_in_their_type_colour(env: Env, qtbot: QtBot) -> None:
    env.view.set_view_range(0.0, 4.0)
    env.session.add([Region("c", env.audio_ids[0], "pause", 500, 900)])
    items = env.layer.items_for("c")
    assert len(items) == len(env.view.plots()) == 2
    assert all(item.brush.color().name() == "#43a047" for item in items)
    assert items[0].movable and not items[1].movable
    env.layer.set_audio_file(env.audio_ids[1], DURATION_MS)   # another file: none shown
    assert env.layer.item_count() == 0


@pytest.mark.playback
@pytest.mark.usefixtures("pulse_sink")
@pytest.mark.qt_log_ignore(r"pipewire", r"propagateSizeHints")
def test_navigation_and_nudges_play_through_the_player(env: Env, qtbot: QtBot) -> None:
    player = Player()
    if not player.is_available:
        pytest.skip("Qt sees no audio output device")
    try:
        assert player.load(env.wav)
        env.layer.player = player
        env.view.set_view_range(0.0, 4.0)
        env.session.add([Region("p", env.audio_ids[0], "click", 1000, 1200),
                         Region("q", env.audio_ids[0], "pause", 3000, 3400)])
        env.session.select([])
        QTest.keyClick(env.view, Qt.Key.Key_N)
        assert env.session.selection == ["p"]
        assert player.play_range_ms == (1000, 1200)
        assert env.layer.selected_edge == 0             # the start edge
        QTest.keyClick(env.view, Qt.Key.Key_Period)     # +1 ms, then replay around the edge
        assert env.session.document.region("p").start_ms == 1001
        assert player.play_range_ms == (701, 1301)
    finally:
        player.shutdown()


def test_type_picker_and_context_menu_relabel(env: Env, qtbot: QtBot) -> None:
    from relay_desktop.ui.annotations.type_picker import TypePicker

    picker = TypePicker()
    qtbot.addWidget(picker)
    picker.set_types(env.session.document.artifact_types)
    picker.type_chosen.connect(env.layer.set_current_type)
    env.layer.current_type_changed.connect(picker.set_current)
    picker._buttons["hum"].click()
    assert env.layer.current_type == "hum" and picker.current() == "hum"
    QTest.keyClick(env.view, Qt.Key.Key_1)
    assert picker.current() == "click"
    env.session.add([Region("m", env.audio_ids[0], "click", 100, 200)])
    env.session.select(["m"])
    menu = env.layer.build_menu("m")
    relabel = next(a for a in menu.actions() if a.text() == "Relabel").menu()
    next(a for a in relabel.actions() if a.text().endswith("pause")).trigger()
    assert env.session.document.region("m").artifact_type == "pause"
    next(a for a in menu.actions() if a.text() == "Delete").trigger()
    assert "m" not in env.session.document
    menu.deleteLater()
