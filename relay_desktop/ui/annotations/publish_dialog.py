"""Publish a draft: the pre-publish check, a confirmation that it becomes immutable, publish.

Files with no labels can be marked "reviewed, no artifacts" here; the mark is
kept in the local journal (the Relay API has no file-level labels), so it
survives restarts on this computer but is not sent to the server.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from relay_desktop.core.annotations.commands import fmt_ms
from relay_desktop.core.prepublish import PrepublishReport
from relay_desktop.services.annotation_session import AnnotationSession


class PublishDialog(QDialog):
    """Checks the set, asks for confirmation and publishes it.

    Signals:
        region_chosen(str): the user double-clicked a problem region (local id) to fix it.
    """

    region_chosen = Signal(str)

    def __init__(self, session: AnnotationSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setWindowTitle(f"Publish annotation set v{session.version}")
        self.summary = QLabel()
        self.summary.setObjectName("publishSummary")
        self.summary.setWordWrap(True)
        self.problems = QListWidget()
        self.problems.setObjectName("problemRegions")
        self.files = QListWidget()
        self.files.setObjectName("unlabelledFiles")
        self.warning = QLabel(
            f"Publishing makes version {session.version} immutable: nobody can add, change or "
            "delete its labels afterwards, and it becomes usable for training. To change labels "
            "later you will create a new draft version.")
        self.warning.setWordWrap(True)
        self.confirm = QCheckBox("I understand that the published set cannot be changed")
        self.error = QLabel()
        self.error.setObjectName("publishError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #e57373;")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.publish_button = self.buttons.addButton("Publish",
                                                     QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.publish)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(QLabel("Regions to fix before publishing (double-click to select):"))
        layout.addWidget(self.problems, 1)
        layout.addWidget(QLabel("Files with no labels: tick those you reviewed and found "
                                "no artifacts in (kept on this computer):"))
        layout.addWidget(self.files, 1)
        layout.addWidget(self.warning)
        layout.addWidget(self.confirm)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.confirm.toggled.connect(self._update_button)
        self.files.itemChanged.connect(self._file_toggled)
        self.problems.itemDoubleClicked.connect(
            lambda item: self.region_chosen.emit(str(item.data(Qt.ItemDataRole.UserRole))))
        session.published.connect(self._published)
        session.publish_failed.connect(self._failed)
        self.report: PrepublishReport = session.prepublish()
        self._fill()

    def _fill(self) -> None:
        report = self.report = self.session.prepublish()
        doc = self.session.document
        self.summary.setText(report.summary())
        self.problems.clear()
        for issue in report.region_issues:
            r = issue.region
            item = QListWidgetItem(f"{doc.filenames.get(r.audio_file_id, r.audio_file_id)} "
                                   f"{r.artifact_type} {fmt_ms(r.start_ms)}-{fmt_ms(r.end_ms)}: "
                                   f"{issue.message}")
            item.setData(Qt.ItemDataRole.UserRole, r.local_id)
            self.problems.addItem(item)
        self.files.blockSignals(True)
        self.files.clear()
        for f, checked in ([(f, False) for f in report.unlabeled_files]
                           + [(f, True) for f in report.reviewed_files]):
            item = QListWidgetItem(f"{f.filename} — reviewed, no artifacts")
            item.setData(Qt.ItemDataRole.UserRole, f.audio_file_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            self.files.addItem(item)
        self.files.blockSignals(False)
        self._update_button()

    def _file_toggled(self, item: QListWidgetItem) -> None:
        audio_id = str(item.data(Qt.ItemDataRole.UserRole))
        self.session.set_reviewed(audio_id, item.checkState() == Qt.CheckState.Checked)
        self.report = self.session.prepublish()
        self.summary.setText(self.report.summary())

    def _update_button(self) -> None:
        ok = self.confirm.isChecked() and not self.report.blocking and not self.session.read_only
        self.publish_button.setEnabled(ok)
        if self.report.blocking:
            self.publish_button.setToolTip("Fix the regions listed above first.")

    def publish(self) -> None:
        if not self.publish_button.isEnabled():
            return
        self.publish_button.setEnabled(False)
        self.error.setText("Syncing and publishing…")
        self.session.publish()

    def _published(self, _new_set: Any) -> None:
        self.error.setText("")
        self.accept()

    def _failed(self, message: str) -> None:
        self.error.setText(message)
        self._update_button()
