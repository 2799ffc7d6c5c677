"""Confirm deleting audio files, naming the annotations that go with them, then delete them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout, QWidget

from relay_desktop.api import errors
from relay_desktop.api.models import AudioFile, Dataset
from relay_desktop.services.api_worker import ApiWorker, Priority, RequestHandle
from relay_desktop.ui.errors import describe_error

NAMES_SHOWN = 3


@dataclass(frozen=True)
class LabelCounts:
    """Annotations of the files about to be deleted, in drafts and in published sets."""

    in_drafts: int
    drafts: int
    in_published: int
    published: int


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _names(files: Sequence[AudioFile]) -> str:
    names = [f"“{f.filename}”" for f in files[:NAMES_SHOWN]]
    if len(files) > NAMES_SHOWN:
        names.append(f"{len(files) - NAMES_SHOWN:,} more")
    return ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1]


def loss_sentence(files: Sequence[AudioFile], counts: LabelCounts) -> str:
    """What deleting ``files`` removes, in words."""
    what = _names(files) if len(files) <= NAMES_SHOWN else _plural(len(files), "audio file",
                                                                   "audio files")
    labels = []
    if counts.in_drafts:
        labels.append(f"{_plural(counts.in_drafts, 'annotation', 'annotations')} in "
                      f"{_plural(counts.drafts, 'draft', 'drafts')}")
    if counts.in_published:
        labels.append(f"{_plural(counts.in_published, 'annotation', 'annotations')} in "
                      f"{_plural(counts.published, 'published set', 'published sets')}")
    gone = (" with " + " and ".join(labels)) if labels else " (no annotations refer to them)"
    return (f"Deleting {what} permanently removes the audio from the server{gone}. "
            "This cannot be undone.")


def count_labels(client: Any, dataset_id: str, audio_ids: frozenset[str]) -> LabelCounts:
    """Count the annotations of ``audio_ids`` in every set of the dataset (on the API thread)."""
    in_drafts = drafts = in_published = published = 0
    for summary in client.annotation_sets.iter_items(dataset_id):
        detail = client.annotation_sets.get(dataset_id, summary.id)
        n = sum(1 for a in detail.annotations if a.audio_file_id in audio_ids)
        if not n:
            continue
        if summary.status == "published":
            in_published, published = in_published + n, published + 1
        else:
            in_drafts, drafts = in_drafts + n, drafts + 1
    return LabelCounts(in_drafts, drafts, in_published, published)


def delete_files(client: Any, cancel: Any, progress: Any, dataset_id: str,
                 audio_ids: Sequence[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Delete one file after another; (deleted ids, [(id, why)] for those that failed)."""
    done: list[str] = []
    failed: list[tuple[str, str]] = []
    for n, audio_id in enumerate(audio_ids):
        if cancel.cancelled:
            break
        try:
            client.audio.delete(dataset_id, audio_id, cancel=cancel)
        except errors.NotFound:
            done.append(audio_id)  # already gone: what the user wanted
        except errors.RelayError as exc:
            failed.append((audio_id, describe_error(exc)))
        else:
            done.append(audio_id)
        progress(n + 1, len(audio_ids))
    return done, failed


class DeleteAudioDialog(QDialog):
    """Counts the annotations that go with the files, then deletes them on confirmation.

    Signals:
        deleted(object): the list of audio ids the server no longer has.
    """

    deleted = Signal(object)

    def __init__(self, worker: ApiWorker, dataset: Dataset, files: Sequence[AudioFile],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.dataset = dataset
        self.files = list(files)
        self.counts: LabelCounts | None = None
        self.setObjectName("deleteAudioDialog")
        self.setWindowTitle("Delete audio file" if len(self.files) == 1 else "Delete audio files")
        self.message = QLabel(self)
        self.message.setObjectName("deleteMessage")
        self.message.setWordWrap(True)
        self.error = QLabel(self)
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.delete_button = QPushButton(
            "Delete file" if len(self.files) == 1 else f"Delete {len(self.files):,} files", self)
        self.delete_button.setObjectName("deleteButton")
        self.delete_button.setEnabled(False)
        self.buttons.addButton(self.delete_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        self.buttons.rejected.connect(self.reject)
        self.delete_button.clicked.connect(self.confirm)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(460)
        count = _plural(len(self.files), "file", "files")
        self.message.setText(f"Counting the annotations of {count}…")
        ids = frozenset(f.id for f in self.files)
        dataset_id = dataset.id
        self._count: RequestHandle = worker.submit(
            lambda client, _c, _p: count_labels(client, dataset_id, ids),
            priority=Priority.USER, description="Counting the annotations of the files")
        self._count.succeeded.connect(self._show_counts)
        self._count.failed.connect(self._on_count_failed)
        self.finished.connect(lambda _r: self._count.cancel())

    @Slot(object)
    def _show_counts(self, counts: LabelCounts) -> None:
        self.counts = counts
        self.message.setText(loss_sentence(self.files, counts))
        self.delete_button.setEnabled(True)

    @Slot(object)
    def _on_count_failed(self, exc: BaseException) -> None:
        self.message.setText(
            f"Deleting {_plural(len(self.files), 'audio file', 'audio files')} permanently "
            "removes them and every annotation of them. This cannot be undone.")
        self.error.setText(f"The annotations could not be counted. {describe_error(exc)}")
        self.error.setVisible(True)
        self.delete_button.setEnabled(True)

    @Slot()
    def confirm(self) -> None:
        self.delete_button.setEnabled(False)
        self.error.setVisible(False)
        dataset_id, ids = self.dataset.id, [f.id for f in self.files]
        handle = self.worker.submit(
            lambda client, cancel, progress: delete_files(client, cancel, progress,
                                                          dataset_id, ids),
            priority=Priority.USER,
            description=f"Deleting {_plural(len(ids), 'audio file', 'audio files')}")
        handle.succeeded.connect(self._on_deleted)
        handle.failed.connect(self._on_failed)

    @Slot(object)
    def _on_deleted(self, result: tuple[list[str], list[tuple[str, str]]]) -> None:
        done, failed = result
        if done:
            self.deleted.emit(done)
        if not failed:
            self.accept()
            return
        gone = set(done)
        self.files = [f for f in self.files if f.id not in gone]
        names = {f.id: f.filename for f in self.files}
        lines = [f"{names.get(i, i)}: {why}" for i, why in failed[:5]]
        self.error.setText("These files could not be deleted:\n" + "\n".join(lines))
        self.error.setVisible(True)
        self.delete_button.setText("Try again")
        self.delete_button.setEnabled(True)

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        self.error.setText(describe_error(exc))
        self.error.setVisible(True)
        self.delete_button.setEnabled(True)
