"""Notes on regions (table, sync, formats); export/import confirm and report exactly; plurals."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from relay_desktop import formats
from relay_desktop.core.annotations import Region
from relay_desktop.services.annotation_session import AnnotationSession
from relay_desktop.ui.annotations.editor import AnnotationEditor
from relay_desktop.ui.annotations.import_export import CHOOSE_FILE, ExportDialog, ImportDialog
from relay_desktop.ui.annotations.table import NOTE, RegionTable
from tests.gui.test_regions import Env, close_env, open_env
from tests.support.live_server import LiveServer


@pytest.fixture
def env(qtbot: QtBot, relay_server: LiveServer, tmp_path: Path) -> Iterator[Env]:
    e = open_env(qtbot, relay_server, tmp_path)
    a, b = e.audio_ids
    e.session.document.durations_ms.update({a: 10_000, b: 10_000})
    e.session.add([Region("n1", a, "click", 125, 250, 0.75), Region("n2", b, "pause", 10, 20)])
    yield e
    close_env(e)


def _server_extra(env: Env) -> dict[tuple[int, int], dict]:
    detail = env.client.annotation_sets.get(env.dataset_id, env.set_id)
    return {(a.start_ms, a.end_ms): dict(a.extra_data) for a in detail.annotations}


def test_a_note_typed_in_the_table_is_undoable_and_synced_to_extra_data(
        env: Env, qtbot: QtBot) -> None:
    table = RegionTable(env.session)
    qtbot.addWidget(table)
    row = table.model.row_of("n1")
    index = table.model.index(row, NOTE)
    assert table.model.flags(index) & table.model.flags(index).ItemIsEditable
    assert table.model.setData(index, "  pop at the word 'seven'  ")
    assert env.session.document.region("n1").note == "pop at the word 'seven'"
    assert env.session.undo_stack.undoText().startswith("Note on click")
    qtbot.waitUntil(lambda: _server_extra(env).get((125, 250), {}).get("note")
                    == "pop at the word 'seven'", timeout=20_000)
    extra = _server_extra(env)[(125, 250)]
    assert extra["client_id"] == "n1", "the note keeps the region's client id"

    reopened = AnnotationSession(env.sync, env.dataset_id, env.set_id)
    with qtbot.waitSignal(reopened.loaded, timeout=10_000):
        reopened.open()
    assert reopened.document.region("n1").note == "pop at the word 'seven'"
    reopened.close()

    env.session.undo_stack.undo()
    assert env.session.document.region("n1").note == ""
    qtbot.waitUntil(lambda: "note" not in _server_extra(env).get((125, 250), {"note": 1}),
                    timeout=20_000)


def test_a_note_edit_keeps_the_servers_other_extra_data(env: Env, qtbot: QtBot) -> None:
    """A PATCH replaces extra_data: keys the app does not own (copied_from) must survive."""
    qtbot.waitUntil(lambda: (125, 250) in _server_extra(env), timeout=20_000)
    detail = env.client.annotation_sets.get(env.dataset_id, env.set_id)
    (ann,) = [a for a in detail.annotations if a.start_ms == 125]
    env.client.annotations.update(env.dataset_id, env.set_id, ann.id,
                                  extra_data={"client_id": "n1", "copied_from": "original-7"})
    env.session.close()
    session = AnnotationSession(env.sync, env.dataset_id, env.set_id)
    with qtbot.waitSignal(session.loaded, timeout=10_000):
        session.open()
    env.session = session
    assert session.edit("n1", "note", note="second take")
    qtbot.waitUntil(lambda: _server_extra(env)[(125, 250)].get("note") == "second take",
                    timeout=20_000)
    assert _server_extra(env)[(125, 250)] == {"client_id": "n1", "copied_from": "original-7",
                                              "note": "second take"}
    session.undo_stack.undo()
    qtbot.waitUntil(lambda: "note" not in _server_extra(env)[(125, 250)], timeout=20_000)
    assert _server_extra(env)[(125, 250)] == {"client_id": "n1", "copied_from": "original-7"}


@pytest.mark.parametrize(("fmt", "kept"), [("json", True), ("csv", True), ("raven", True),
                                           ("audacity", False), ("textgrid", False)])
def test_notes_survive_the_formats_that_can_hold_them(
        fmt: str, kept: bool, env: Env, qtbot: QtBot, tmp_path: Path) -> None:
    a = env.audio_ids[0]
    env.session.edit("n1", "note", note="clipped\tconsonant")
    exporter = ExportDialog(env.session, a)
    qtbot.addWidget(exporter)
    exporter.set_format(fmt)
    exporter.one_file.setChecked(True)
    assert exporter.notes_hint.isHidden() == kept
    if not kept:
        assert "cannot keep notes" in exporter.notes_hint.text()
        assert "1 region " in exporter.notes_hint.text()
    path = tmp_path / f"noted{formats.EXTENSIONS[fmt]}"
    exporter.path_edit.setText(str(path))
    with qtbot.waitSignal(exporter.exported, timeout=10_000):
        exporter.export()
    result = formats.import_regions(path.read_text(), fmt, audio_file_id=a)
    assert [r.note for r in result.regions] == (
        ["clipped consonant" if fmt == "raven" else "clipped\tconsonant"] if kept else [""])


def test_export_extension_follows_the_format_and_the_prompt_clears(
        env: Env, qtbot: QtBot, tmp_path: Path) -> None:
    exporter = ExportDialog(env.session, env.audio_ids[0])
    qtbot.addWidget(exporter)
    exporter.set_format("json")
    exporter.export()
    assert exporter.status.text() == CHOOSE_FILE
    exporter.path_edit.setText(str(tmp_path / "annotations-v3.json"))
    assert exporter.status.text() == ""
    exporter.set_format("audacity")
    assert exporter.path_edit.text() == str(tmp_path / "annotations-v3.txt")
    exporter.set_format("raven")
    assert exporter.path_edit.text() == str(tmp_path / "annotations-v3.selections.txt")
    exporter.set_format("textgrid")
    assert exporter.path_edit.text() == str(tmp_path / "annotations-v3.TextGrid")
    exporter.set_format("csv")
    assert exporter.path_edit.text() == str(tmp_path / "annotations-v3.csv")


def test_export_and_import_confirm_in_a_notice_and_the_log(
        env: Env, qtbot: QtBot, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    editor = AnnotationEditor(env.session)
    qtbot.addWidget(editor)
    editor.set_audio_file(env.audio_ids[0])
    notices: list[str] = []
    editor.notice.connect(notices.append)
    caplog.set_level(logging.INFO, logger="relay_desktop.ui.annotations.editor")
    exporter = editor.open_export_dialog()
    exporter.set_format("csv")
    exporter.one_file.setChecked(True)
    path = tmp_path / "one.csv"
    exporter.path_edit.setText(str(path))
    with qtbot.waitSignal(exporter.exported, timeout=10_000):
        exporter.export()
    assert notices == [f"Exported 1 region to {path}."]
    assert f"Exported 1 region to {path}." in caplog.text

    importer = editor.open_import_dialog()
    importer.path_edit.setText(str(path))
    with qtbot.waitSignal(importer.parsed, timeout=10_000):
        importer.preview()
    assert importer.summary.text() == "1 region can be imported; 0 rows rejected."
    with qtbot.waitSignal(importer.imported, timeout=10_000):
        importer.do_import()
    assert notices[-1] == f"Imported 1 region from {path}."
    assert env.session.undo_stack.undoText() == "Import 1 region from one.csv"


def test_every_rejected_row_has_its_line_and_long_rows_wrap(
        env: Env, qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    long_name = "n" * 300 + ".wav"
    path.write_text("filename,artifact_type,start_ms,end_ms\n"
                    "take0.wav,click,100,200\n"
                    f"{long_name},click,0,50\n"              # unknown file (line 3)
                    "take0.wav,click,300,50000\n")           # past the end (line 4)
    importer = ImportDialog(env.session, env.audio_ids[0])
    qtbot.addWidget(importer)
    importer.resize(500, 400)
    importer.show()
    importer.path_edit.setText(str(path))
    with qtbot.waitSignal(importer.parsed, timeout=10_000):
        importer.preview()
    rows = [importer.rejected_list.item(i).text() for i in range(importer.rejected_list.count())]
    assert [r.split(":", 1)[0] for r in rows] == ["Line 3", "Line 4"], rows
    assert importer.summary.text().startswith("1 region can be imported; 2 rows rejected")
    assert importer.rejected_list.wordWrap()
    assert importer.rejected_list.horizontalScrollBar().maximum() == 0
