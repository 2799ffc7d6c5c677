"""File > Open audio file…: a file from disk is shown and labelled in a local-only draft."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from relay_desktop import formats
from relay_desktop.core.journal import Journal
from relay_desktop.services.context import AppContext
from relay_desktop.services.local_draft import LOCAL_DATASET, local_ids
from relay_desktop.ui.annotations.import_export import to_format_regions
from relay_desktop.ui.labelling import LOCAL_JOURNAL, LabellingPanel
from relay_desktop.ui.waveform.editor import AudioEditor


def open_local(qtbot: QtBot, panel: LabellingPanel, editor: AudioEditor, wav: Path) -> Any:
    with qtbot.waitSignal(editor.file_opened, timeout=10_000) as opened:
        editor.open_file(wav)
    session = panel.show_local_file(wav, opened.args[0].duration_ms)
    assert session is not None
    qtbot.waitUntil(lambda: len(session.document.artifact_types) > 0, timeout=10_000)
    return session


def test_a_local_file_is_labelled_in_a_draft_kept_on_this_computer(
        qtbot: QtBot, app_context: AppContext, tmp_path: Path) -> None:
    wav = tmp_path / "my take.wav"
    sf.write(wav, (0.2 * np.sin(np.arange(16000 * 3) / 5)).astype(np.float32), 16000)
    editor = AudioEditor(paths=app_context.paths)
    qtbot.addWidget(editor)
    editor.resize(1000, 400)
    editor.show()
    panel = LabellingPanel()
    qtbot.addWidget(panel)
    panel.set_context(app_context)
    panel.set_audio_editor(editor)
    changes: list[Any] = []
    panel.session_changed.connect(changes.append)

    session = open_local(qtbot, panel, editor, wav)
    assert panel.is_local and changes[-1] is session
    assert session.dataset_id == LOCAL_DATASET
    assert panel.editor is not None
    assert not panel.editor.publish_button.isEnabled()
    assert panel.editor.title.text() == "my take.wav: labels kept on this computer"
    layer = panel.layer
    assert layer is not None and layer.audio_file_id == local_ids(wav)[1]

    region_id = layer.draw_region(0.5, 1.0)
    assert region_id is not None
    editor.view.setFocus()
    QTest.keyClick(editor.view, Qt.Key.Key_3)  # relabel to the third default type
    qtbot.waitUntil(lambda: session.state.kind == "saved", timeout=5000)
    assert session.state.message == "Kept on this computer"
    regions = to_format_regions(session)  # what Export… writes
    assert [(r.artifact_type, r.start_ms, r.end_ms, r.filename) for r in regions] == [
        ("noise", 500, 1000, "my take.wav")]
    assert formats.export_regions(regions, "audacity").split("\t") == ["0.500000",
                                                                       "1.000000", "noise\n"]

    # publishing is refused with the reason, nothing is sent anywhere
    failures: list[str] = []
    session.publish_failed.connect(failures.append)
    session.publish()
    assert "add the file to a dataset" in failures[-1]

    # reopening the file (after the panel closed it) brings its labels back
    panel.close_set()
    assert changes[-1] is None
    again = open_local(qtbot, panel, editor, wav)
    qtbot.waitUntil(lambda: len(again.document) == 1, timeout=5000)
    assert [(r.artifact_type, r.start_ms) for r in again.document] == [("noise", 500)]
    panel.set_context(None)  # stops the draft writer and closes its journal

    journal = Journal(app_context.paths.data / LOCAL_JOURNAL)
    try:
        assert [r.artifact_type for r in journal.local_regions(local_ids(wav)[0])] == ["noise"]
    finally:
        journal.close()
    editor.shutdown()


def test_open_audio_file_needs_the_editor(qtbot: QtBot, gui_paths: Any) -> None:
    from PySide6.QtWidgets import QApplication

    from relay_desktop.app import Application

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    shell = Application(app, gui_paths)
    qtbot.addWidget(shell.window)
    try:
        assert not shell.window.open_file_action.isEnabled()
        shell.open_local_file(Path("/nowhere/x.wav"))
        assert "Open a workspace first" in shell.window.status.currentMessage()
    finally:
        shell.shutdown()


@pytest.mark.parametrize("name", ["a.wav"])
def test_local_ids_are_stable_per_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    assert local_ids(path) == local_ids(tmp_path / "." / name)
    assert local_ids(path) != local_ids(tmp_path / "b.wav")
