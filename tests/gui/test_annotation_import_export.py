"""Round trips of every format through the export and import dialogs; rejected rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from relay_desktop import formats
from relay_desktop.core.annotations import Region
from relay_desktop.services.annotation_session import AnnotationSession
from relay_desktop.ui.annotations.import_export import ExportDialog, ImportDialog
from tests.gui.test_regions import Env, close_env, open_env
from tests.support.live_server import LiveServer


@pytest.fixture
def env(qtbot: QtBot, relay_server: LiveServer, tmp_path: Path) -> Iterator[Env]:
    e = open_env(qtbot, relay_server, tmp_path)
    a, b = e.audio_ids
    e.session.document.durations_ms.update({a: 10_000, b: 10_000})
    e.session.add([Region("r1", a, "click", 125, 250, 0.75), Region("r2", a, "pause", 1000, 2500),
                   Region("r3", a, "hum", 2400, 2600, 0.5), Region("r4", b, "click", 10, 20)])
    yield e
    close_env(e)


def new_session(env: Env, qtbot: QtBot) -> AnnotationSession:
    draft = env.client.annotation_sets.create(env.dataset_id)
    session = AnnotationSession(env.sync, env.dataset_id, draft.id)
    with qtbot.waitSignal(session.loaded, timeout=10_000):
        session.open()
    session.document.durations_ms.update({a: 10_000 for a in env.audio_ids})
    return session


def spans(regions: object, with_conf: bool) -> list[tuple]:
    return sorted((r.audio_file_id, r.artifact_type, r.start_ms, r.end_ms)
                  + ((r.confidence,) if with_conf else ()) for r in regions)  # type: ignore


@pytest.mark.parametrize("fmt", formats.FORMATS)
def test_export_then_import_round_trips(fmt: str, env: Env, qtbot: QtBot,
                                        tmp_path: Path) -> None:
    whole_set = fmt in ("json", "csv")
    a = env.audio_ids[0]
    exporter = ExportDialog(env.session, a)
    qtbot.addWidget(exporter)
    exporter.set_format(fmt)
    (exporter.whole_set if whole_set else exporter.one_file).setChecked(True)
    path = tmp_path / f"out{formats.EXTENSIONS[fmt]}"
    exporter.path_edit.setText(str(path))
    with qtbot.waitSignal(exporter.exported, timeout=10_000):
        exporter.export()
    assert path.read_text()
    target = new_session(env, qtbot)
    importer = ImportDialog(target, a)
    qtbot.addWidget(importer)
    importer.path_edit.setText(str(path))
    assert importer.format_combo.currentData() == fmt     # guessed from the name
    with qtbot.waitSignal(importer.parsed, timeout=10_000):
        importer.preview()
    assert importer.rejected_list.count() == 0, importer.rejected_list.item(0).text()
    assert importer.import_button.isEnabled()
    with qtbot.waitSignal(importer.imported, timeout=10_000):
        importer.do_import()
    source = [r for r in env.session.document if whole_set or r.audio_file_id == a]
    with_conf = fmt in ("json", "csv")
    assert spans(target.document, with_conf) == spans(source, with_conf)
    stack = target.undo_stack
    assert stack.count() == 1 and stack.text(0).startswith(f"Import {len(source)} regions")
    qtbot.waitUntil(lambda: target.state.kind == "saved", timeout=10_000)
    on_server = env.client.annotation_sets.get(env.dataset_id, target.set_id).annotations
    assert spans(on_server, with_conf) == spans(source, with_conf)
    stack.undo()
    assert len(target.document) == 0
    target.close()


def test_import_reports_every_rejected_row(env: Env, qtbot: QtBot, tmp_path: Path) -> None:
    a, b = env.audio_ids
    path = tmp_path / "labels.csv"
    path.write_text("filename,artifact_type,start_ms,end_ms,confidence\n"
                    "take0.wav,click,100,200,1\n"          # ok
                    "take0.wav,hum,300,200,1\n"            # reversed
                    "take0.wav,growl,100,200,1\n"          # unknown type
                    "take1.wav,pause,0,50,2\n"             # bad confidence
                    "nosuch.wav,click,0,50,1\n"            # unknown file
                    "take1.wav,pause,0,50_000,1\n"         # past the end of the file
                    "take1.wav,pause,5,60,0.5\n")          # ok
    importer = ImportDialog(env.session, a)
    qtbot.addWidget(importer)
    importer.path_edit.setText(str(path))
    with qtbot.waitSignal(importer.parsed, timeout=10_000):
        importer.preview()
    rows = [importer.rejected_list.item(i).text() for i in range(importer.rejected_list.count())]
    assert len(rows) == 5, rows
    assert any(r.startswith("Line 3:") for r in rows) and any("growl" in r for r in rows)
    assert any("nosuch.wav" in r and "no audio file" in r for r in rows)
    assert any("past the end" in r for r in rows)
    assert "2 regions can be imported; 5 rows rejected" in importer.summary.text()
    before = len(env.session.document)
    with qtbot.waitSignal(importer.imported, timeout=10_000):
        importer.do_import()
    added = [r for r in env.session.document if r.local_id not in {"r1", "r2", "r3", "r4"}]
    assert len(env.session.document) == before + 2
    assert sorted((r.audio_file_id, r.start_ms) for r in added) == sorted([(a, 100), (b, 5)])


def test_an_unreadable_file_is_explained(env: Env, qtbot: QtBot, tmp_path: Path) -> None:
    importer = ImportDialog(env.session, env.audio_ids[0])
    qtbot.addWidget(importer)
    importer.path_edit.setText(str(tmp_path / "missing.csv"))
    importer.preview()
    qtbot.waitUntil(lambda: "could not be read" in importer.summary.text(), timeout=10_000)
    assert not importer.import_button.isEnabled()
