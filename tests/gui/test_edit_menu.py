"""The Edit menu: Ctrl+Z undoes the open set's edits, regions cut/copy/paste, and no plain key
takes a modified one.

A real MainWindow holds a real AudioEditor (a WAV on disk) whose waveform shows the
regions of a draft on a live Relay Local; keys are sent to the focused widgets.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from relay_desktop.api import RelayClient
from relay_desktop.core.annotations.clipboard import MIME_TYPE
from relay_desktop.core.journal import Journal
from relay_desktop.core.paths import AppPaths
from relay_desktop.services.annotation_session import AnnotationSession
from relay_desktop.services.api_worker import ApiWorker
from relay_desktop.services.connections import ConnectionManager
from relay_desktop.services.sync import SyncService
from relay_desktop.ui.annotations.region_layer import RegionLayer
from relay_desktop.ui.main_window import MainWindow
from relay_desktop.ui.waveform.editor import AudioEditor
from tests.gui.test_regions import TYPES, write_wav
from tests.support.live_server import LiveServer

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
ALT = Qt.KeyboardModifier.AltModifier
DURATION_MS = 10_000


@dataclass
class Desk:
    window: MainWindow
    editor: AudioEditor
    session: AnnotationSession
    layer: RegionLayer
    audio_ids: list[str]


def open_session(qtbot: QtBot, server: LiveServer, tmp_path: Path,
                 client: RelayClient) -> tuple[AnnotationSession, list[str], SyncService]:
    ds = client.datasets.create(f"edit-{uuid.uuid4().hex[:8]}", artifact_types=TYPES)
    audio = [client.audio.request_upload(ds.id, f"take{i}.wav", "audio/wav", 1000).audio_id
             for i in range(2)]
    draft = client.annotation_sets.create(ds.id)
    worker = ApiWorker(server.base_url, server.api_key)
    sync = SyncService(worker, Journal(tmp_path / "journal.sqlite3"), coalesce_ms=50)
    session = AnnotationSession(sync, ds.id, draft.id)
    with qtbot.waitSignal(session.loaded, timeout=10_000):
        session.open()
    return session, audio, sync


@pytest.fixture
def desk(qtbot: QtBot, relay_server: LiveServer, tmp_path: Path) -> Iterator[Desk]:
    paths = AppPaths(tmp_path / "d", tmp_path / "c", tmp_path / "k").ensure()
    window = MainWindow(ConnectionManager(paths), None)
    qtbot.addWidget(window)
    editor = AudioEditor(paths=paths)
    window.set_editor(editor)
    window.pages.setCurrentWidget(window.editor_host)
    window.resize(1200, 800)
    window.show()
    window.activateWindow()
    qtbot.waitExposed(window)
    wav = write_wav(tmp_path / "take0.wav")
    with qtbot.waitSignal(editor.file_opened, timeout=10_000):
        editor.open_file(wav)
    client = RelayClient(relay_server.base_url, relay_server.api_key)
    session, audio, sync = open_session(qtbot, relay_server, tmp_path, client)
    layer = RegionLayer(session, editor.view.plots(), view=editor.view, player=editor.player)
    layer.set_audio_file(audio[0], DURATION_MS)
    window.edit_menu.set_session(session, layer)
    editor.view.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is editor.view)
    yield Desk(window, editor, session, layer, audio)
    window.edit_menu.set_session(None, None)
    layer.detach()
    editor.shutdown()
    session.close()
    sync.close()
    sync.worker.shutdown(5000)
    sync.journal.close()
    client.close()


def text(action: QAction) -> str:
    return action.text().replace("&", "")


def spans(desk: Desk) -> list[tuple[str, int, int]]:
    return sorted((r.artifact_type, r.start_ms, r.end_ms) for r in desk.session.document)


def test_ctrl_z_undoes_with_the_waveform_focused_and_the_menu_names_the_edit(
        qtbot: QtBot, desk: Desk) -> None:
    undo, redo = desk.window.edit_menu.undo_action, desk.window.edit_menu.redo_action
    assert not undo.isEnabled()  # nothing to undo yet
    region_id = desk.layer.draw_region(1.0, 2.0)
    assert region_id is not None
    desk.session.edit(region_id, "move", start_ms=1500, end_ms=2500)
    assert undo.isEnabled() and text(undo).startswith("Undo Move click")
    view = desk.editor.view
    view.set_selection(5.0, 5.5)  # a plain Z would zoom to this
    before = view.view_range()

    QTest.keyClick(view, Qt.Key.Key_Z, CTRL)

    assert spans(desk) == [("click", 1000, 2000)]
    assert view.view_range() == before  # Ctrl+Z is not Z
    assert redo.isEnabled() and text(redo).startswith("Redo Move click")
    assert text(undo).startswith("Undo Add click")
    QTest.keyClick(view, Qt.Key.Key_Z, CTRL | SHIFT)
    assert spans(desk) == [("click", 1500, 2500)]
    QTest.keyClick(view, Qt.Key.Key_Z, CTRL)
    QTest.keyClick(view, Qt.Key.Key_Y, CTRL)
    assert spans(desk) == [("click", 1500, 2500)]
    assert [a.text() for a in desk.window.edit_menu.menu.actions()][:2] == [
        undo.text(), redo.text()]


def test_ctrl_z_undoes_with_the_labels_dock_focused(qtbot: QtBot, desk: Desk) -> None:
    from PySide6.QtWidgets import QTableWidget

    table = QTableWidget(3, 2)
    dock = desk.window.add_panel(table, "Labels", "bottom", "labelsDock")
    dock.show()
    desk.window.edit_menu.add_scope(table)
    desk.layer.draw_region(3.0, 4.0)
    table.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is table)
    QTest.keyClick(table, Qt.Key.Key_Z, CTRL)
    assert spans(desk) == []


@pytest.mark.parametrize("key", [Qt.Key.Key_Z, Qt.Key.Key_F, Qt.Key.Key_1, Qt.Key.Key_2,
                                 Qt.Key.Key_I, Qt.Key.Key_O, Qt.Key.Key_N, Qt.Key.Key_P,
                                 Qt.Key.Key_E, Qt.Key.Key_Tab, Qt.Key.Key_Comma,
                                 Qt.Key.Key_Period, Qt.Key.Key_Home, Qt.Key.Key_L])
def test_no_plain_key_swallows_a_modified_one(qtbot: QtBot, desk: Desk, key: Qt.Key) -> None:
    view = desk.editor.view
    region_id = desk.layer.draw_region(2.0, 3.0)
    assert region_id is not None
    view.set_selection(2.2, 2.4)
    view.set_view_range(1.0, 6.0)
    before = (view.view_range(), spans(desk), desk.session.selection, desk.layer.current_type,
              desk.layer.selected_edge, desk.editor.transport.loop_button.isChecked())
    # no command uses these (Ctrl+F, Alt+F, Ctrl+Alt+O... are keys of their own)
    for mods in (Qt.KeyboardModifier.MetaModifier, CTRL | ALT | SHIFT):
        QTest.keyClick(view, key, mods)
    after = (view.view_range(), spans(desk), desk.session.selection, desk.layer.current_type,
             desk.layer.selected_edge, desk.editor.transport.loop_button.isChecked())
    assert after == before


def test_plain_keys_still_work(qtbot: QtBot, desk: Desk) -> None:
    view = desk.editor.view
    view.set_view_range(1.0, 2.0)
    QTest.keyClick(view, Qt.Key.Key_F)
    assert view.view_range() == pytest.approx((0.0, DURATION_MS / 1000))
    view.set_selection(4.0, 5.0)
    QTest.keyClick(view, Qt.Key.Key_Z)
    a, b = view.view_range()
    assert a == pytest.approx(3.95) and b == pytest.approx(5.05)
    QTest.keyClick(view, Qt.Key.Key_L)
    assert desk.editor.transport.loop_button.isChecked()


def test_pressing_a_digit_after_drawing_says_it_relabelled_and_how_to_undo(
        qtbot: QtBot, desk: Desk) -> None:
    region_id = desk.layer.draw_region(1.0, 2.0)
    assert region_id is not None
    assert desk.layer.items_for(region_id)[0].selected  # the drawn region is highlighted

    QTest.keyClick(desk.editor.view, Qt.Key.Key_2)

    assert spans(desk) == [("pause", 1000, 2000)]
    assert desk.layer.items_for(region_id)[0].selected
    assert desk.window.status.currentMessage() == "Relabelled to pause; Ctrl+Z to undo"
    QTest.keyClick(desk.editor.view, Qt.Key.Key_Z, CTRL)
    assert spans(desk) == [("click", 1000, 2000)]


def test_copy_paste_at_the_playhead_cut_delete_and_select_all(qtbot: QtBot, desk: Desk) -> None:
    menu = desk.window.edit_menu
    view = desk.editor.view
    first = desk.layer.draw_region(1.0, 1.5)
    desk.layer.set_current_type("hum")
    second = desk.layer.draw_region(2.0, 2.25)
    assert first and second
    QTest.keyClick(view, Qt.Key.Key_A, CTRL)
    assert set(desk.session.selection) == {first, second}
    QTest.keyClick(view, Qt.Key.Key_C, CTRL)
    data = QGuiApplication.clipboard().mimeData()
    assert data.hasFormat(MIME_TYPE) and '"relay_regions"' in data.text()
    assert "Copied 2 regions" in desk.window.status.currentMessage()

    desk.editor.player.seek(6000)
    QTest.keyClick(view, Qt.Key.Key_V, CTRL)
    assert spans(desk) == [("click", 1000, 1500), ("click", 6000, 6500),
                           ("hum", 2000, 2250), ("hum", 7000, 7250)]
    assert len(desk.session.selection) == 2 and first not in desk.session.selection
    assert text(menu.undo_action) == "Undo Paste 2 regions"

    # paste into another file of the same draft: the playhead decides where
    desk.layer.set_audio_file(desk.audio_ids[1], DURATION_MS)
    desk.editor.player.seek(9900)
    assert menu.paste()
    other = sorted((r.start_ms, r.end_ms) for r in desk.session.document
                   if r.audio_file_id == desk.audio_ids[1])
    assert other == [(9900, 10000)]  # the second starts after the end: left out
    desk.layer.set_audio_file(desk.audio_ids[0], DURATION_MS)

    desk.session.select([second])
    QTest.keyClick(view, Qt.Key.Key_X, CTRL)
    assert ("hum", 2000, 2250) not in spans(desk)
    desk.session.select([first])
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert ("click", 1000, 1500) not in spans(desk)
    assert not menu.actions["edit.delete"].isEnabled()  # nothing selected now


def test_region_keys_stay_out_of_other_panels(qtbot: QtBot, desk: Desk) -> None:
    """Delete in the file list is the list's; Ctrl+C in a table copies the table."""
    region_id = desk.layer.draw_region(1.0, 2.0)
    assert region_id is not None
    desk.window.audio_dock.show()
    table = desk.window.audio_list.table
    table.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is table)
    QTest.keyClick(table, Qt.Key.Key_Delete)
    QTest.keyClick(table, Qt.Key.Key_X, CTRL)
    assert spans(desk) == [("click", 1000, 2000)]


def test_pasting_text_that_is_not_regions_says_so(qtbot: QtBot, desk: Desk) -> None:
    QGuiApplication.clipboard().setText("hello, not regions")
    assert desk.window.edit_menu.actions["edit.paste"].isEnabled()
    QTest.keyClick(desk.editor.view, Qt.Key.Key_V, CTRL)
    assert spans(desk) == []
    assert desk.window.status.currentMessage() == "The clipboard holds no copied regions."
    QGuiApplication.clipboard().setText('{"relay_regions": 1, "regions": [{"artifact_type": '
                                        '"hum", "start_ms": 0, "end_ms": 40}]}')
    desk.editor.player.seek(2500)
    QTest.keyClick(desk.editor.view, Qt.Key.Key_V, CTRL)  # JSON from anywhere is fine
    assert spans(desk) == [("hum", 2500, 2540)]
