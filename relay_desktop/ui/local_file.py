"""File > Open audio file…: the file dialog's filter and question."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

AUDIO_FILTER = ("Audio files (*.wav *.wave *.flac *.ogg *.oga *.opus *.mp3 *.aif *.aiff "
                "*.aifc *.au *.snd *.caf *.w64 *.rf64);;All files (*)")


def ask_for_audio_file(parent: QWidget | None) -> Path | None:
    """Ask for one audio file on this computer; None when the user cancels."""
    path, _filter = QFileDialog.getOpenFileName(parent, "Open audio file", "", AUDIO_FILTER)
    return Path(path) if path else None
