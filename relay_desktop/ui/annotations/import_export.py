"""Import and export dialogs for a set's or one file's regions (via relay_desktop.formats).

Reading, parsing and writing happen on the thread pool (through the session).
An import first shows what will come in and every rejected row with its line
and reason; the accepted regions are then added as one ordinary edit
(undoable, journaled, synced).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from relay_desktop import formats
from relay_desktop.core.annotations.document import Region, new_local_id
from relay_desktop.services.annotation_session import AnnotationSession


def to_format_regions(session: AnnotationSession, audio_file_id: str | None = None
                      ) -> list[formats.Region]:
    """The session's regions (of one file, or all) as ``formats.Region``s."""
    doc = session.document
    return [formats.Region(r.audio_file_id, r.artifact_type, r.start_ms, r.end_ms, r.confidence,
                           doc.filenames.get(r.audio_file_id))
            for r in doc if audio_file_id is None or r.audio_file_id == audio_file_id]


def _path_row(edit: QLineEdit, button: QPushButton) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    row.addWidget(button)
    return row


class ExportDialog(QDialog):
    """Write the set's (or the current file's) regions in one of the formats.

    Signals:
        exported(str): the file was written (its path).
    """

    exported = Signal(str)

    def __init__(self, session: AnnotationSession, current_file: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export annotations")
        self.session = session
        self.current_file = current_file
        self.format_combo = QComboBox()
        for fmt in formats.FORMATS:
            self.format_combo.addItem(formats.LABELS[fmt], fmt)
        self.whole_set = QRadioButton(f"The whole set ({len(session.document)} regions)")
        name = session.document.filenames.get(current_file or "", "no file open")
        self.one_file = QRadioButton(f"This file only ({name})")
        self.one_file.setEnabled(current_file is not None)
        (self.one_file if current_file else self.whole_set).setChecked(True)
        self.path_edit = QLineEdit()
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save |
                                        QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.export)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Format:", self.format_combo)
        form.addRow("Regions:", self.whole_set)
        form.addRow("", self.one_file)
        form.addRow("File:", _path_row(self.path_edit, browse))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

    def fmt(self) -> str:
        return str(self.format_combo.currentData())

    def set_format(self, fmt: str) -> None:
        self.format_combo.setCurrentIndex(self.format_combo.findData(fmt))

    def _browse(self) -> None:
        ext = formats.EXTENSIONS[self.fmt()]
        path, _ = QFileDialog.getSaveFileName(self, "Export annotations",
                                              f"annotations-v{self.session.version}{ext}")
        if path:
            self.path_edit.setText(path)

    def export(self) -> None:
        """Render and write in the background; closes when written, explains when not."""
        path = self.path_edit.text().strip()
        if not path:
            self.status.setText("Choose where to save the file first.")
            return
        fmt = self.fmt()
        audio = self.current_file if self.one_file.isChecked() else None
        regions = to_format_regions(self.session, audio)
        duration = self.session.document.durations_ms.get(audio or "") if audio else None
        types = self.session.document.type_names()
        try:
            text = formats.export_regions(regions, fmt, duration_ms=duration,
                                          artifact_types=types)
        except (formats.FormatError, ValueError) as exc:
            self.status.setText(f"Not exported: {exc}")
            return
        self.buttons.setEnabled(False)
        self.status.setText("Writing…")

        def write() -> str:
            Path(path).write_text(text, encoding="utf-8")
            return path

        self.session.run_file_task(write, self._written)

    def _written(self, path: Any, error: BaseException | None) -> None:
        self.buttons.setEnabled(True)
        if error is not None:
            self.status.setText(f"Not exported: the file could not be written ({error}).")
            return
        self.status.setText(f"Exported to {path}.")
        self.exported.emit(str(path))
        self.accept()


class ImportDialog(QDialog):
    """Read regions from a file, show what is accepted and rejected, then add them.

    Signals:
        parsed(object): a file was read and parsed (the ``ImportResult``).
        imported(int): this many regions were added to the set.
    """

    parsed = Signal(object)
    imported = Signal(int)

    def __init__(self, session: AnnotationSession, current_file: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import annotations")
        self.session = session
        self.parse_result: formats.ImportResult | None = None
        self.regions: list[Region] = []
        self.path_edit = QLineEdit()
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        self.format_combo = QComboBox()
        for fmt in formats.FORMATS:
            self.format_combo.addItem(formats.LABELS[fmt], fmt)
        self.file_combo = QComboBox()
        self.file_combo.setToolTip("Rows that do not name an audio file go to this file.")
        for audio_id, name in sorted(session.document.filenames.items(), key=lambda kv: kv[1]):
            self.file_combo.addItem(name, audio_id)
        if current_file:
            self.file_combo.setCurrentIndex(max(0, self.file_combo.findData(current_file)))
        self.preview_button = QPushButton("Read file")
        self.preview_button.clicked.connect(self.preview)
        self.summary = QLabel("Choose a file and read it to see what would be imported.")
        self.summary.setWordWrap(True)
        self.rejected_list = QListWidget()
        self.rejected_list.setObjectName("rejectedRows")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = self.buttons.addButton("Import",
                                                    QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.setEnabled(False)
        self.buttons.accepted.connect(self.do_import)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("File:", _path_row(self.path_edit, browse))
        form.addRow("Format:", self.format_combo)
        form.addRow("Audio file for rows without one:", self.file_combo)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.preview_button)
        layout.addWidget(self.summary)
        layout.addWidget(QLabel("Rejected rows:"))
        layout.addWidget(self.rejected_list, 1)
        layout.addWidget(self.buttons)
        self.path_edit.textChanged.connect(self._guess_format)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import annotations")
        if path:
            self.path_edit.setText(path)

    def _guess_format(self, path: str) -> None:
        fmt = formats.detect_format(path)
        if fmt:
            self.format_combo.setCurrentIndex(self.format_combo.findData(fmt))

    def set_format(self, fmt: str) -> None:
        self.format_combo.setCurrentIndex(self.format_combo.findData(fmt))

    def preview(self) -> None:
        """Read and parse the file in the background; fills the summary and rejected rows."""
        path = self.path_edit.text().strip()
        if not path:
            self.summary.setText("Choose a file first.")
            return
        fmt = str(self.format_combo.currentData())
        target = self.file_combo.currentData()
        types = self.session.document.type_names()
        self.preview_button.setEnabled(False)
        self.import_button.setEnabled(False)
        self.summary.setText("Reading…")

        def parse() -> formats.ImportResult:
            text = Path(path).read_text(encoding="utf-8-sig")
            # durations are checked per file afterwards (rows may name different files)
            return formats.import_regions(text, fmt, artifact_types=types,
                                          audio_file_id=target)

        self.session.run_file_task(parse, self._parsed)

    def _parsed(self, result: Any, error: BaseException | None) -> None:
        self.preview_button.setEnabled(True)
        self.rejected_list.clear()
        if error is not None:
            self.parse_result, self.regions = None, []
            self.summary.setText(f"The file could not be read: {error}")
            return
        self.parse_result = result
        self.regions, unmatched = self._to_document_regions(result.regions)
        for row in result.rejected:
            self.rejected_list.addItem(f"Line {row.line}: {row.reason}  —  {row.text.strip()}")
        for line in unmatched:
            self.rejected_list.addItem(line)
        rejected = len(result.rejected) + len(unmatched)
        self.summary.setText(f"{len(self.regions)} regions can be imported; {rejected} rows "
                             f"rejected{' (listed below)' if rejected else ''}.")
        self.import_button.setEnabled(bool(self.regions) and not self.session.read_only)
        self.parsed.emit(result)

    def _to_document_regions(self, rows: list[formats.Region]
                             ) -> tuple[list[Region], list[str]]:
        doc = self.session.document
        by_name = {name: audio_id for audio_id, name in doc.filenames.items()}
        out: list[Region] = []
        unmatched: list[str] = []
        fallback = self.file_combo.currentData()
        for row in rows:
            if row.filename:
                audio_id = by_name.get(row.filename)
            elif row.audio_file_id:
                audio_id = row.audio_file_id if row.audio_file_id in doc.filenames else None
            else:
                audio_id = fallback
            if not audio_id:
                unmatched.append(f"{row.filename or row.audio_file_id}: no audio file of this "
                                 f"dataset has that name or id.")
                continue
            region = Region(new_local_id(), str(audio_id), row.artifact_type, row.start_ms,
                            row.end_ms, row.confidence)
            problems = self.session.problems(region)
            if problems:
                unmatched.append(f"{row.artifact_type} {row.start_ms}-{row.end_ms} ms: "
                                 + " ".join(str(p) for p in problems))
                continue
            out.append(region)
        return out, unmatched

    def do_import(self) -> None:
        """Add the accepted regions as one undoable edit."""
        if not self.regions:
            return
        name = Path(self.path_edit.text()).name
        if self.session.add(self.regions, label=f"Import {len(self.regions)} regions from {name}"):
            self.imported.emit(len(self.regions))
            self.accept()
        else:
            self.summary.setText("The regions could not be added (see the message).")
