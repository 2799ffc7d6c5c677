"""Dropping files and folders onto the dataset list, the audio list and the File menu actions.

Drops are real ``QDropEvent``s carrying ``file://`` URLs, sent to the views'
viewports, against a real Relay Local.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

from relay_desktop.api import RelayClient
from relay_desktop.api.models import Dataset
from relay_desktop.core.uploads.state import UploadState, UploadTarget
from relay_desktop.services.api_worker import ApiWorker
from relay_desktop.ui.audio_list import AudioListView
from relay_desktop.ui.datasets import DatasetBrowser
from relay_desktop.ui.uploads import DropSpot, FileDropTarget, UploadActions
from relay_desktop.ui.uploads.drop import NOT_LOCAL, drop_hint
from tests.gui.conftest import unique

COPY = Qt.DropAction.CopyAction


def file_mime(paths: list[Path]) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def drag_over(widget: QWidget, pos: QPoint, mime: QMimeData) -> QDragMoveEvent:
    """DragEnter then DragMove at ``pos``, as Qt sends them while a drag hovers."""
    enter = QDragEnterEvent(pos, COPY, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    move = QDragMoveEvent(pos, COPY, mime, Qt.MouseButton.LeftButton,
                          Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, move)
    return move


def drop(widget: QWidget, pos: QPoint, mime: QMimeData) -> QDropEvent:
    drag_over(widget, pos, mime)
    event = QDropEvent(QPointF(pos), COPY, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier, QEvent.Type.Drop)
    QApplication.sendEvent(widget, event)
    return event


@pytest.fixture
def some_files(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "takes"
    folder.mkdir()
    files = [folder / f"take{i}.wav" for i in range(2)]
    for f in files:
        f.write_bytes(b"RIFF")
    return [*files, folder]


@pytest.fixture
def two_datasets(live_client: RelayClient) -> list[Dataset]:
    return [live_client.datasets.create(unique(name)) for name in ("Drop A", "Drop B")]


@pytest.fixture
def browser(qtbot: Any, api_worker: ApiWorker, two_datasets: list[Dataset]
            ) -> Iterator[DatasetBrowser]:
    widget = DatasetBrowser()
    qtbot.addWidget(widget)
    widget.resize(320, 900)
    widget.show()
    with qtbot.waitSignal(widget.datasets_loaded, timeout=15000):
        widget.set_worker(api_worker)
    yield widget


def _row_center(browser: DatasetBrowser, dataset_id: str) -> QPoint:
    index = browser.proxy.mapFromSource(browser.model.index(browser.model.row_of(dataset_id)))
    browser.view.scrollTo(index)
    return browser.view.visualRect(index).center()


def test_dropping_onto_a_dataset_row_targets_that_dataset(
        qtbot: Any, browser: DatasetBrowser, two_datasets: list[Dataset],
        some_files: list[Path]) -> None:
    target_ds = two_datasets[1]
    viewport = browser.view.viewport()
    pos = _row_center(browser, target_ds.id)
    move = drag_over(viewport, pos, file_mime(some_files))
    assert move.isAccepted() and move.dropAction() == COPY
    overlay = browser.drop_target.overlay
    assert overlay.isVisible() and not overlay.refused
    assert overlay.text == f"Drop to upload 3 items to “{target_ds.name}”"
    index = browser.view.indexAt(pos)
    assert overlay.area == browser.view.visualRect(index)  # the row is highlighted
    selected = browser.selected()
    assert selected is None or selected.id != target_ds.id  # hovering does not select

    with qtbot.waitSignal(browser.files_dropped, timeout=2000) as dropped:
        event = drop(viewport, pos, file_mime(some_files))
    assert event.isAccepted()
    paths, target = dropped.args
    assert paths == some_files
    assert target == UploadTarget("dataset", target_ds.id, target_ds.name)
    assert not overlay.isVisible()


def test_dropping_onto_empty_space_says_why_and_sends_nothing(
        qtbot: Any, browser: DatasetBrowser, two_datasets: list[Dataset],
        some_files: list[Path]) -> None:
    # the shared server holds many datasets by now: show one row, so there is empty space
    browser.search.setText(two_datasets[0].name)
    viewport = browser.view.viewport()
    below = QPoint(20, viewport.height() - 5)
    assert not browser.view.indexAt(below).isValid()
    got: list[object] = []
    browser.files_dropped.connect(lambda *a: got.append(a))
    move = drag_over(viewport, below, file_mime(some_files))
    assert not move.isAccepted()
    overlay = browser.drop_target.overlay
    assert overlay.isVisible() and overlay.refused
    assert overlay.text == "Drop the files onto a dataset in the list."
    with qtbot.waitSignal(browser.drop_target.refused, timeout=2000) as refused:
        event = drop(viewport, below, file_mime(some_files))
    assert not event.isAccepted()
    assert refused.args == ["Drop the files onto a dataset in the list."]
    assert got == []


def test_remote_urls_are_refused(qtbot: Any, browser: DatasetBrowser,
                                 two_datasets: list[Dataset]) -> None:
    viewport = browser.view.viewport()
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.com/take.wav")])
    pos = _row_center(browser, two_datasets[0].id)
    move = drag_over(viewport, pos, mime)
    assert not move.isAccepted()
    assert browser.drop_target.overlay.text == NOT_LOCAL
    with qtbot.waitSignal(browser.drop_target.refused, timeout=2000) as refused:
        drop(viewport, pos, mime)
    assert refused.args == [NOT_LOCAL]


def test_text_drags_are_ignored(qtbot: Any, browser: DatasetBrowser,
                                two_datasets: list[Dataset]) -> None:
    mime = QMimeData()
    mime.setText("just words")
    move = drag_over(browser.view.viewport(), _row_center(browser, two_datasets[0].id), mime)
    assert not move.isAccepted()
    assert not browser.drop_target.overlay.isVisible()


def test_the_audio_list_takes_drops_for_the_dataset_it_shows(
        qtbot: Any, api_worker: ApiWorker, two_datasets: list[Dataset],
        some_files: list[Path]) -> None:
    view = AudioListView()
    qtbot.addWidget(view)
    view.resize(700, 400)
    view.show()
    view.set_worker(api_worker)
    viewport = view.table.viewport()
    centre = viewport.rect().center()
    with qtbot.waitSignal(view.drop_target.refused, timeout=2000) as refused:
        drop(viewport, centre, file_mime(some_files[:1]))
    assert "Select a dataset first" in refused.args[0]

    dataset = two_datasets[0]
    view.set_dataset(dataset)
    move = drag_over(viewport, centre, file_mime(some_files[:1]))
    assert move.isAccepted()
    overlay = view.drop_target.overlay
    assert overlay.text == f"Drop to upload 1 item to “{dataset.name}”"
    assert overlay.area == viewport.rect()  # the whole list is the target
    with qtbot.waitSignal(view.files_dropped, timeout=2000) as dropped:
        drop(viewport, centre, file_mime(some_files[:1]))
    assert dropped.args == [some_files[:1], UploadTarget("dataset", dataset.id, dataset.name)]


def test_the_drop_helper_works_on_any_widget(qtbot: Any, tmp_path: Path) -> None:
    """An inference job (or anything else) can take drops with its own resolver."""
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.resize(300, 200)
    widget.show()
    job = UploadTarget("inference_job", "job-1", "Nightly run")
    helper = FileDropTarget(
        widget, lambda pos: DropSpot(job) if pos.x() < 150 else DropSpot(None, reason="No."))
    hints: list[str] = []
    helper.hint_changed.connect(hints.append)
    files = [tmp_path / "a.wav"]
    drag_over(widget, QPoint(10, 10), file_mime(files))
    assert hints[-1] == drop_hint(1, job) == "Drop to upload 1 item to “Nightly run”"
    drag_over(widget, QPoint(200, 10), file_mime(files))
    assert hints[-1] == "No."
    with qtbot.waitSignal(helper.files_dropped, timeout=2000) as dropped:
        drop(widget, QPoint(20, 20), file_mime(files))
    assert dropped.args == [files, job]
    assert hints[-1] == ""  # the hint is cleared once the drag is over


def test_file_menu_actions_need_a_dataset(qtbot: Any, tmp_path: Path,
                                          two_datasets: list[Dataset]) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    actions = UploadActions(host)
    assert not actions.add_files_action.isEnabled()
    assert "Select a dataset first" in actions.add_files_action.toolTip()
    assert actions.add_files() is None  # no dataset: nothing happens
    dataset = two_datasets[0]
    actions.set_dataset(dataset)
    assert actions.add_files_action.isEnabled() and actions.add_folder_action.isEnabled()
    assert dataset.name in actions.add_files_action.toolTip()
    target = UploadTarget("dataset", dataset.id, dataset.name)
    with qtbot.waitSignal(actions.upload_requested, timeout=1000) as asked:
        actions.add_files([tmp_path / "a.wav", tmp_path / "b.flac"])
    assert asked.args == [[tmp_path / "a.wav", tmp_path / "b.flac"], target]
    with qtbot.waitSignal(actions.upload_requested, timeout=1000) as asked:
        actions.add_folder(tmp_path)
    assert asked.args == [[tmp_path], target]
    dialog = actions.add_files()  # without paths: the file dialog opens (not modal-blocking)
    assert dialog is not None and dialog.isVisible()
    dialog.reject()


# -- a real drop through the window into a real UploadManager --------------------------------

def _tone(path: Path, freq: float, fmt: str | None = None, subtype: str | None = None) -> Path:
    import numpy as np
    import soundfile as sf

    t = np.arange(8000) / 16_000
    sf.write(str(path), (0.3 * np.sin(2 * np.pi * freq * t)).astype("float32"), 16_000,
             format=fmt, subtype=subtype)
    return path


@pytest.fixture
def mixed_folder(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """Good wav/flac/ogg files (one in a sub-folder) and bad ones, with the words expected."""
    folder = tmp_path / "drop"
    (folder / "more").mkdir(parents=True)
    _tone(folder / "a.wav", 220)
    _tone(folder / "b.flac", 330)
    _tone(folder / "more" / "c.ogg", 440, "OGG", "VORBIS")
    (folder / "copy of a.wav").write_bytes((folder / "a.wav").read_bytes())
    (folder / "empty.wav").write_bytes(b"")
    (folder / "notes.txt").write_text("not audio at all\n" * 20)
    corrupt = (folder / "b.flac").read_bytes()
    (folder / "broken.flac").write_bytes(corrupt[:60] + bytes(range(256)) * 8)
    return folder, {"copy of a.wav": "queued twice", "empty.wav": "empty",
                    "notes.txt": "not an audio file", "broken.flac": "corrupt"}


@pytest.fixture
def window_with_uploads(qtbot: Any, app_context: Any, gui_paths: Any) -> Iterator[Any]:
    from relay_desktop.services.connections import ConnectionManager
    from relay_desktop.services.upload_manager import UploadManager
    from relay_desktop.ui.main_window import MainWindow

    win = MainWindow(ConnectionManager(gui_paths))
    qtbot.addWidget(win)
    win.resize(1300, 800)
    win.show()
    app_context.uploads = UploadManager(app_context)
    with qtbot.waitSignal(win.datasets.datasets_loaded, timeout=15000):
        win.set_context(app_context)
    try:
        yield win
    finally:
        win.set_context(None)
        assert app_context.uploads.shutdown(5000)


def test_a_dropped_folder_uploads_the_good_files_and_explains_the_rest(
        qtbot: Any, window_with_uploads: Any, live_client: RelayClient,
        mixed_folder: tuple[Path, dict[str, str]]) -> None:
    win = window_with_uploads
    folder, bad = mixed_folder
    dataset = live_client.datasets.create(unique("Dropped"))
    win.datasets.refresh()
    qtbot.waitUntil(lambda: win.datasets.model.row_of(dataset.id) >= 0, timeout=15000)
    assert not win.uploads_dock.isVisible()

    event = drop(win.datasets.view.viewport(), _row_center(win.datasets, dataset.id),
                 file_mime([folder]))
    assert event.isAccepted()
    assert win.uploads_dock.isVisible()  # shown as soon as files arrive

    model = win.uploads.model

    def settled() -> bool:
        rows = model.rows()
        return len(rows) == 7 and all(r.state in (UploadState.READY, UploadState.SKIPPED,
                                                  UploadState.FAILED, UploadState.DUPLICATE)
                                      for r in rows)

    qtbot.waitUntil(settled, timeout=90_000)
    by_name = {r.path.name: r for r in model.rows()}
    for name in ("a.wav", "b.flac", "c.ogg"):
        assert by_name[name].state is UploadState.READY, (name, by_name[name].reason)
    assert by_name["c.ogg"].content_type == "audio/ogg"
    assert by_name["b.flac"].content_type == "audio/flac"
    assert by_name["copy of a.wav"].state is UploadState.DUPLICATE
    for name, words in bad.items():
        row = by_name[name]
        assert row.state is not UploadState.READY and row.reason, name
        assert words in row.reason.lower(), (name, row.reason)
        pos = model.row_of(row.id)
        assert model.index(pos, 4).data() == row.reason  # the Reason column says why
        assert row.reason in model.index(pos, 3).data(Qt.ItemDataRole.ToolTipRole)

    on_server = sorted(f.filename for f in live_client.audio.iter_items(dataset.id))
    assert on_server == ["a.wav", "b.flac", "c.ogg"]
    # the audio list of the dataset and its file count follow without a manual refresh
    assert win.datasets.select_dataset(dataset.id)
    qtbot.waitUntil(lambda: win.audio_list.model.rowCount() == 3, timeout=15000)
    qtbot.waitUntil(lambda: next(d for d in win.datasets.model.datasets()
                                 if d.id == dataset.id).audio_count == 3, timeout=15000)
    assert win.status.uploads.isVisible()
    assert win.status.uploads.text().startswith("Uploaded 3/")

    # the duplicate waits for a choice: upload it anyway
    dup = by_name["copy of a.wav"]
    win.uploads.upload_dup_action.trigger()
    qtbot.waitUntil(lambda: (r := model.row_by_id(dup.id)) is not None
                    and r.state is UploadState.READY, timeout=60_000)
    assert len(list(live_client.audio.iter_items(dataset.id))) == 4


def test_dropping_with_no_connection_uploads_nothing(qtbot: Any, gui_paths: Any,
                                                     tmp_path: Path) -> None:
    from relay_desktop.services.connections import ConnectionManager
    from relay_desktop.ui.main_window import MainWindow

    win = MainWindow(ConnectionManager(gui_paths))
    qtbot.addWidget(win)
    target = UploadTarget("dataset", "x", "X")
    assert win.upload_files([tmp_path], target) is False
    assert "Connect to a server" in win.status.currentMessage()
