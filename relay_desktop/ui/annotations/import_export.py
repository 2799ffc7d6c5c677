"""Import and export dialogs for a set's or one file's regions (via relay_desktop.formats).

Reading, parsing and writing happen on the thread pool (through the session).
An import first shows what will come in and every rejected row with its line
and reason; the accepted regions are then added as one ordinary edit
(undoable, journaled, synced). Export keeps the file name's extension in step
with the chosen format and says when a format cannot keep the regions' notes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
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
from relay_desktop.core.text import plural
from relay_desktop.services.annotation_session import AnnotationSession

CHOOSE_FILE = "Choose where to save the file first."


def to_format_regions(session: AnnotationSession, audio_file_id: str | None = None
                      ) -> list[formats.Region]:
    """The session's regions (of one file, or all) as ``formats.Region``s."""
    doc = session.document
    return [formats.Region(r.audio_file_id, r.artifact_type, r.start_ms, r.end_ms, r.confidence,
                           doc.filenames.get(r.audio_file_id), r.note)
            for r in doc if audio_file_id is None or r.audio_file_id == audio_file_id]


def with_extension(path: str, fmt: str) -> str:
    """``path`` with its format extension (any known one) replaced by ``fmt``'s."""
    if not path:
        return path
    known = sorted(set(formats.EXTENSIONS.values()), key=len, reverse=True)
    lowered = path.lower()
    stem = next((path[: -len(ext)] for ext in known if lowered.endswith(ext.lower())), path)
    return stem + formats.EXTENSIONS[fmt]


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
        self.whole_set = QRadioButton(
            f"The whole set ({plural(len(session.document), 'region')})")
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
        self.notes_hint = QLabel()
        self.notes_hint.setObjectName("subtle")
        self.notes_hint.setWordWrap(True)
        self.exported_count = 0
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.notes_hint)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.format_combo.currentIndexChanged.connect(self._format_changed)
        self.whole_set.toggled.connect(lambda _on: self._format_changed())
        self.path_edit.textChanged.connect(self._path_changed)
        self._format_changed()

    def _format_changed(self) -> None:
        """Keep the file's extension in step with the format; say if notes would be lost."""
        path = self.path_edit.text().strip()
        if path:
            self.path_edit.setText(with_extension(path, self.fmt()))
        audio = self.current_file if self.one_file.isChecked() else None
        noted = sum(1 for r in to_format_regions(self.session, audio) if r.note)
        keeps = formats.KEEPS_NOTES.get(self.fmt(), False)
        self.notes_hint.setText("" if keeps or not noted else (
            f"{formats.LABELS[self.fmt()]} cannot keep notes: the notes of "
            f"{plural(noted, 'region')} will not be in the file (JSON, CSV and Raven keep them)."))
        self.notes_hint.setVisible(bool(self.notes_hint.text()))

    def _path_changed(self, text: str) -> None:
        if text.strip() and self.status.text() == CHOOSE_FILE:
            self.status.clear()

    def fmt(self) -> str:
        return str(self.format_combo.currentData())

    def set_format(self, fmt: str) -> None:
        self.format_combo.setCurrentIndex(self.format_combo.findData(fmt))

    def _browse(self) -> None:
        ext = formats.EXTENSIONS[self.fmt()]
        suggested = self.path_edit.text().strip() or f"annotations-v{self.session.version}{ext}"
        path, _ = QFileDialog.getSaveFileName(
            self, "Export annotations", suggested,
            f"{formats.LABELS[self.fmt()]} (*{ext});;All files (*)")
        if path:
            self.path_edit.setText(with_extension(path, self.fmt()))

    def export(self) -> None:
        """Render and write in the background; closes when written, explains when not."""
        path = self.path_edit.text().strip()
        if not path:
            self.status.setText(CHOOSE_FILE)
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
        self.exported_count = len(regions)
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
        # long rows wrap instead of being cut at the right
        self.rejected_list.setWordWrap(True)
        self.rejected_list.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.rejected_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.rejected_list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.rejected_list.setResizeMode(QListWidget.ResizeMode.Adjust)
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
            text = formats.read_import_file(path)  # size limit, BOMs, encodings in words
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
        rows = [(row.line, f"Line {row.line}: {row.reason}  —  {row.text.strip()}")
                for row in result.rejected] + unmatched
        for _line, text in sorted(rows, key=lambda r: r[0]):
            self.rejected_list.addItem(text)
            item = self.rejected_list.item(self.rejected_list.count() - 1)
            item.setToolTip(text)
        rejected = len(rows)
        self.summary.setText(f"{plural(len(self.regions), 'region')} can be imported; "
                             f"{plural(rejected, 'row')} rejected"
                             f"{' (listed below)' if rejected else ''}.")
        self.import_button.setEnabled(bool(self.regions) and not self.session.read_only)
        self.parsed.emit(result)

    def _to_document_regions(self, rows: list[formats.Region]
                             ) -> tuple[list[Region], list[tuple[int, str]]]:
        """The rows as document regions, and (line, sentence) for each one refused here."""
        doc = self.session.document
        by_name = {name: audio_id for audio_id, name in doc.filenames.items()}
        out: list[Region] = []
        unmatched: list[tuple[int, str]] = []
        fallback = self.file_combo.currentData()
        for row in rows:
            if row.filename:
                audio_id = by_name.get(row.filename)
            elif row.audio_file_id:
                audio_id = row.audio_file_id if row.audio_file_id in doc.filenames else None
            else:
                audio_id = fallback
            if not audio_id:
                unmatched.append((row.line, f"Line {row.line}: {row.filename or row.audio_file_id}"
                                  ": no audio file of this dataset has that name or id."))
                continue
            region = Region(new_local_id(), str(audio_id), row.artifact_type, row.start_ms,
                            row.end_ms, row.confidence, row.note)
            problems = self.session.problems(region)
            if problems:
                unmatched.append((row.line, f"Line {row.line}: {row.artifact_type} "
                                  f"{row.start_ms}-{row.end_ms} ms: "
                                  + " ".join(str(p) for p in problems)))
                continue
            out.append(region)
        return out, unmatched

    def do_import(self) -> None:
        """Add the accepted regions as one undoable edit."""
        if not self.regions:
            return
        name = Path(self.path_edit.text()).name
        if self.session.add(self.regions,
                            label=f"Import {plural(len(self.regions), 'region')} from {name}"):
            self.imported.emit(len(self.regions))
            self.accept()
        else:
            self.summary.setText("The regions could not be added (see the message).")
