"""Sets panel, editor (lock, save state), publish dialog, against a live Relay Local."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidgetItem
from pytestqt.qtbot import QtBot

from relay_desktop.core.annotations import Region
from relay_desktop.services.annotation_session import AnnotationSession
from relay_desktop.ui.annotations.editor import AnnotationEditor
from relay_desktop.ui.annotations.publish_dialog import PublishDialog
from relay_desktop.ui.annotations.sets_panel import LOCK, SetsPanel
from tests.gui.test_regions import Env, close_env, open_env
from tests.support.live_server import LiveServer


@pytest.fixture
def env(qtbot: QtBot, relay_server: LiveServer, tmp_path: Path) -> Iterator[Env]:
    e = open_env(qtbot, relay_server, tmp_path)
    yield e
    close_env(e)


def load_panel(qtbot: QtBot, panel: SetsPanel) -> list:
    with qtbot.waitSignal(panel.sets_loaded, timeout=10_000) as blocker:
        panel.refresh()
    return blocker.args[0]


def test_sets_panel_lists_creates_copies_and_opens(env: Env, qtbot: QtBot) -> None:
    a = env.audio_ids[0]
    env.client.annotations.bulk_create(env.dataset_id, env.set_id, [
        {"audio_file_id": a, "artifact_type": "click", "start_ms": 0, "end_ms": 10},
        {"audio_file_id": a, "artifact_type": "pause", "start_ms": 20, "end_ms": 90}])
    env.client.annotation_sets.publish(env.dataset_id, env.set_id)
    panel = SetsPanel(env.worker)
    qtbot.addWidget(panel)
    panel.dataset_id = env.dataset_id
    sets = load_panel(qtbot, panel)
    assert [s.version for s in sets] == [1]
    item = panel.tree.topLevelItem(0)
    assert item.text(0) == "v1" and item.text(1) == f"{LOCK} published"
    assert item.text(2) == "2" and "click 1" in item.text(3) and item.text(4)
    item.setSelected(True)
    assert panel.copy_button.isEnabled()
    with qtbot.waitSignal(panel.created, timeout=10_000) as created:
        panel.copy_button.click()
    new_set = created.args[0]
    assert new_set.version == 2 and new_set.status == "draft"
    copied = env.client.annotation_sets.get(env.dataset_id, new_set.id).annotations
    assert sorted((c.artifact_type, c.start_ms) for c in copied) == [("click", 0), ("pause", 20)]
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 2, timeout=10_000)
    assert panel.selected_set_id() == new_set.id
    assert panel.tree.topLevelItem(0).text(1) == "draft"
    with qtbot.waitSignal(panel.open_requested) as opened:
        panel.open_button.click()
    assert opened.args[0].id == new_set.id
    with qtbot.waitSignal(panel.created, timeout=10_000) as empty:
        panel.new_button.click()
    assert empty.args[0].version == 3 and empty.args[0].total_annotations == 0


def test_a_published_set_opens_read_only_with_a_lock(env: Env, qtbot: QtBot) -> None:
    env.client.annotations.create(env.dataset_id, env.set_id, {
        "audio_file_id": env.audio_ids[0], "artifact_type": "click", "start_ms": 100,
        "end_ms": 200})
    env.client.annotation_sets.publish(env.dataset_id, env.set_id)
    session = AnnotationSession(env.sync, env.dataset_id, env.set_id)
    editor = AnnotationEditor(session)
    qtbot.addWidget(editor)
    editor.show()
    layer = editor.attach_waveform(env.view)
    editor.set_audio_file(env.audio_ids[0], 10_000)
    with qtbot.waitSignal(session.loaded, timeout=10_000):
        session.open()
    assert editor.lock_banner.isVisible() and LOCK in editor.lock_banner.text()
    assert editor.indicator.label.text() == "Read-only (published)"
    assert not editor.publish_button.isEnabled() and not editor.import_button.isEnabled()
    env.view.set_view_range(0.0, 1.0)
    items = [i for i in layer.items_for(next(iter(session.document)).local_id)]
    assert items and not any(i.movable for i in items)
    assert layer.draw_region(0.3, 0.5) is None
    assert len(session.document) == 1
    session.close()


def test_publish_dialog_checks_marks_reviewed_and_publishes(env: Env, qtbot: QtBot) -> None:
    session = env.session
    a, b = env.audio_ids
    session.document.durations_ms[a] = 10_000
    session.add([Region("ok", a, "click", 100, 200)])
    # a region that became invalid (e.g. imported before the file's duration was known)
    session.document.durations_ms[a] = 150
    dialog = PublishDialog(session)
    qtbot.addWidget(dialog)
    assert dialog.report.blocking
    assert dialog.problems.count() == 1 and "past the end" in dialog.problems.item(0).text()
    dialog.confirm.setChecked(True)
    assert not dialog.publish_button.isEnabled()
    session.document.durations_ms[a] = 10_000
    dialog._fill()
    assert dialog.problems.count() == 0
    assert dialog.files.count() == 1 and "take1.wav" in dialog.files.item(0).text()
    assert "1 file with no labels" in dialog.summary.text()
    item: QListWidgetItem = dialog.files.item(0)
    item.setCheckState(Qt.CheckState.Checked)
    assert session.reviewed() == {b}
    assert "reviewed, no artifacts" in dialog.summary.text()
    assert "immutable" in dialog.warning.text()
    assert dialog.publish_button.isEnabled()
    with qtbot.waitSignal(session.published, timeout=10_000):
        dialog.publish_button.click()
    assert dialog.result() == dialog.DialogCode.Accepted
    detail = env.client.annotation_sets.get(env.dataset_id, env.set_id)
    assert detail.status == "published" and len(detail.annotations) == 1
    assert session.read_only and not session.add([Region("no", a, "click", 0, 10)])


def test_editor_shows_the_save_state_and_offers_a_new_draft_on_conflict(
        env: Env, qtbot: QtBot) -> None:
    editor = AnnotationEditor(env.session)
    qtbot.addWidget(editor)
    editor.show()
    editor.attach_waveform(env.view)
    editor.set_audio_file(env.audio_ids[0], 10_000)
    env.session.add([Region("s1", env.audio_ids[0], "click", 0, 100)])
    assert editor.indicator.label.text() in ("Saving…", "1 unsynced", "Syncing 1…")
    qtbot.waitUntil(lambda: editor.indicator.label.text() == "Saved", timeout=10_000)
    env.client.annotation_sets.publish(env.dataset_id, env.set_id)
    env.session.add([Region("s2", env.audio_ids[0], "pause", 200, 300)])
    qtbot.waitUntil(lambda: env.session.state.kind == "conflict", timeout=10_000)
    assert editor.indicator.move_button.isVisibleTo(editor)
    assert "published" in editor.indicator.toolTip()
    with qtbot.waitSignal(env.session.moved, timeout=10_000):
        editor.indicator.move_button.click()
    qtbot.waitUntil(lambda: editor.indicator.label.text() == "Saved", timeout=10_000)
    new = env.client.annotation_sets.get(env.dataset_id, env.session.set_id)
    assert sorted(a.artifact_type for a in new.annotations) == ["click", "pause"]
    assert new.version == 2


def test_sets_panel_shows_unsynced_edits_on_this_computer(env: Env, qtbot: QtBot) -> None:
    panel = SetsPanel(env.worker, env.sync)
    qtbot.addWidget(panel)
    panel.dataset_id = env.dataset_id
    env.sync.journal.record(env.set_id, [("u1", Region("u1", env.audio_ids[0], "click", 0, 9))])
    load_panel(qtbot, panel)
    assert panel.tree.topLevelItem(0).text(5) == "1 unsynced"
    env.sync.retry_now(env.set_id)          # the sync catches up; the column follows it
    qtbot.waitUntil(lambda: panel.tree.topLevelItem(0).text(5) == "", timeout=10_000)
    assert env.sync.journal.pending_count(env.set_id) == 0
