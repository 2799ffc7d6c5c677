"""Edit > Preferences: the few settings a person changes by hand (upload lanes for now)."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QWidget

from relay_desktop.core.settings import Settings
from relay_desktop.services.upload_manager import DEFAULT_LANES, LANES_KEY

MIN_LANES, MAX_LANES = 1, 8


def upload_lanes(settings: Settings) -> int:
    """The stored number of parallel upload lanes, clamped to 1..8 (3 when unset or bad)."""
    value = settings.get(LANES_KEY, DEFAULT_LANES)
    if isinstance(value, bool) or not isinstance(value, int):
        return DEFAULT_LANES
    return max(MIN_LANES, min(MAX_LANES, value))


class PreferencesDialog(QDialog):
    """Edits the preferences and saves them in ``settings`` on OK.

    Signals:
        lanes_changed(int): the number of parallel upload lanes was changed and saved.
    """

    lanes_changed = Signal(int)

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preferencesDialog")
        self.setWindowTitle("Preferences")
        self.settings = settings
        self.lanes = QSpinBox(self)
        self.lanes.setObjectName("uploadLanes")
        self.lanes.setRange(MIN_LANES, MAX_LANES)
        self.lanes.setValue(upload_lanes(settings))
        self.lanes.setToolTip("How many files upload at the same time, each on its own "
                              "connection to the storage host")
        note = QLabel("More lanes help with many small files on a fast network; "
                      "fewer leave more bandwidth to everything else.", self)
        note.setObjectName("subtle")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Parallel uploads:", self.lanes)
        form.addRow(note)
        form.addRow(buttons)
        self.setMinimumWidth(380)

    @Slot()
    def accept(self) -> None:
        lanes = self.lanes.value()
        if lanes != upload_lanes(self.settings) or self.settings.get(LANES_KEY) is None:
            self.settings.set(LANES_KEY, lanes)
            self.lanes_changed.emit(lanes)
        super().accept()
