"""Managing a dataset's files from the audio list: delete with a confirmation that counts
the annotations going with them, re-upload a failed file, and live updates after uploads."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QItemSelectionModel, Qt

from relay_desktop.api import RelayClient
from relay_desktop.api.models import AnnotationCreate, AudioFile, Dataset
from relay_desktop.services.api_worker import ApiWorker
from relay_desktop.ui.audio_list import AudioListView
from relay_desktop.ui.audio_list.delete_dialog import DeleteAudioDialog
from tests.gui.conftest import unique


def _wav(path: Path, seconds: float = 0.5, freq: float = 220.0) -> Path:
    t = np.arange(int(16_000 * seconds)) / 16_000
    sf.write(str(path), (0.3 * np.sin(2 * np.pi * freq * t)).astype("float32"), 16_000)
    return path


def _settled(client: RelayClient, dataset_id: str, audio_id: str) -> AudioFile:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        audio = client.audio.get(dataset_id, audio_id)
        if audio.processing_status in ("ready", "failed"):
            return audio
        time.sleep(0.1)
    raise AssertionError("processing never finished")


@pytest.fixture
def dataset(live_client: RelayClient) -> Dataset:
    return live_client.datasets.create(unique("Manage"), artifact_types=["glitch"])


@pytest.fixture
def view(qtbot: Any, api_worker: ApiWorker) -> Iterator[AudioListView]:
    widget = AudioListView()
    qtbot.addWidget(widget)
    widget.resize(800, 400)
    widget.show()
    widget.set_worker(api_worker)
    yield widget


def _show(qtbot: Any, view: AudioListView, dataset: Dataset, rows: int) -> None:
    view.set_dataset(dataset)
    qtbot.waitUntil(lambda: view.model.rowCount() == rows and not view.model.loading,
                    timeout=15000)


def _select(view: AudioListView, *audio_ids: str) -> None:
    selection = view.table.selectionModel()
    selection.clearSelection()
    for audio_id in audio_ids:
        index = view.model.index(view.model.row_of(audio_id), 0)
        selection.select(index, QItemSelectionModel.SelectionFlag.Select
                         | QItemSelectionModel.SelectionFlag.Rows)
        selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)


def test_delete_key_asks_first_and_names_the_annotations_that_go(
        qtbot: Any, tmp_path: Path, view: AudioListView, dataset: Dataset,
        live_client: RelayClient) -> None:
    a = live_client.audio.upload(dataset.id, _wav(tmp_path / "a.wav")).audio_id
    b = live_client.audio.upload(dataset.id, _wav(tmp_path / "b.wav", freq=330)).audio_id
    draft = live_client.annotation_sets.create(dataset.id)
    live_client.annotations.bulk_create(dataset.id, draft.id, [
        AnnotationCreate(a, "glitch", 10 * i, 10 * i + 5) for i in range(3)]
        + [AnnotationCreate(b, "glitch", 0, 5)])
    _show(qtbot, view, dataset, 2)
    _select(view, a)
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)
    dialog = view.delete_dialog
    assert isinstance(dialog, DeleteAudioDialog) and dialog.isVisible()
    assert not dialog.delete_button.isEnabled()  # not before the count is known
    qtbot.waitUntil(dialog.delete_button.isEnabled, timeout=15000)
    assert dialog.message.text() == (
        "Deleting “a.wav” permanently removes the audio from the server with "
        "3 annotations in 1 draft. This cannot be undone.")
    assert {f.id for f in live_client.audio.iter_items(dataset.id)} == {a, b}  # nothing yet

    with qtbot.waitSignal(view.files_deleted, timeout=15000) as deleted:
        dialog.delete_button.click()
    assert deleted.args == [dataset.id, [a]]
    assert [f.id for f in live_client.audio.iter_items(dataset.id)] == [b]
    left = live_client.annotation_sets.get(dataset.id, draft.id).annotations
    assert [x.audio_file_id for x in left] == [b]
    assert view.model.row_of(a) == -1 and view.model.rowCount() == 1
    assert view.count.text() == "1 file"
    qtbot.waitUntil(lambda: view.delete_dialog is None, timeout=2000)


def test_cancelling_the_confirmation_deletes_nothing(
        qtbot: Any, tmp_path: Path, view: AudioListView, dataset: Dataset,
        live_client: RelayClient) -> None:
    ids = [live_client.audio.upload(dataset.id, _wav(tmp_path / f"{n}.wav", freq=200 + n))
           .audio_id for n in range(4)]
    _show(qtbot, view, dataset, 4)
    _select(view, *ids)
    assert view.delete_action.text() == "&Delete 4 files…"
    dialog = view.delete_selected()
    assert dialog is not None
    qtbot.waitUntil(dialog.delete_button.isEnabled, timeout=15000)
    assert dialog.message.text().startswith("Deleting 4 audio files permanently removes")
    assert "(no annotations refer to them)" in dialog.message.text()
    dialog.reject()
    assert len(list(live_client.audio.iter_items(dataset.id))) == 4
    assert view.model.rowCount() == 4


def test_reupload_is_offered_only_for_a_failed_file(
        qtbot: Any, tmp_path: Path, view: AudioListView, dataset: Dataset,
        live_client: RelayClient) -> None:
    good = live_client.audio.upload(dataset.id, _wav(tmp_path / "good.wav")).audio_id
    bad_path = tmp_path / "bad.wav"
    bad_path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 64)
    bad = live_client.audio.upload(dataset.id, bad_path, content_type="audio/wav").audio_id
    assert _settled(live_client, dataset.id, bad).processing_status == "failed"
    _settled(live_client, dataset.id, good)
    _show(qtbot, view, dataset, 2)
    _select(view, good)
    assert not view.reupload_action.isEnabled() and view.reupload_current(tmp_path) is None
    _select(view, bad)
    assert view.reupload_action.isEnabled()
    fixed = _wav(tmp_path / "fixed.wav")
    with qtbot.waitSignal(view.reupload_requested, timeout=1000) as asked:
        view.reupload_current(fixed)
    assert asked.args == [dataset.id, bad, fixed]
    dialog = view.reupload_current()  # without a path: a file dialog opens (never blocks)
    assert dialog is not None and dialog.isVisible()
    dialog.reject()


def test_uploads_elsewhere_appear_in_the_list_without_a_reload(
        qtbot: Any, tmp_path: Path, view: AudioListView, dataset: Dataset,
        live_client: RelayClient) -> None:
    first = live_client.audio.upload(dataset.id, _wav(tmp_path / "1.wav")).audio_id
    _show(qtbot, view, dataset, 1)
    resets: list[int] = []
    view.model.modelReset.connect(lambda: resets.append(1))
    second = live_client.audio.upload(dataset.id, _wav(tmp_path / "2.wav", freq=300)).audio_id
    view.on_dataset_changed("some-other-dataset")
    view.on_dataset_changed(dataset.id)
    qtbot.waitUntil(lambda: view.model.row_of(second) == 1, timeout=10000)
    assert view.model.row_of(first) == 0 and resets == []  # appended, not reloaded
    ready = _settled(live_client, dataset.id, second)
    assert ready.processing_status == "ready"
    view.on_file_processed("dataset", dataset.id, second)
    qtbot.waitUntil(lambda: (f := view.model.file_at(1)) is not None
                    and f.processing_status == "ready", timeout=10000)
    assert view.model.index(1, 5).data() == "ready" and resets == []
    qtbot.waitUntil(lambda: not view.model.loading and not view.live_refresh.isActive(),
                    timeout=10000)  # nothing in flight outlives the view
