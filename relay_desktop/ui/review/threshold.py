"""ThresholdSlider: a confidence threshold (0-1) chosen with a slider, applied live."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget

STEPS = 100


class ThresholdSlider(QWidget):
    """"Confidence ≥ [slider] 0.50": every move filters at once.

    Signals:
        threshold_changed(float): the new threshold, 0.0 to 1.0.
    """

    threshold_changed = Signal(float)

    def __init__(self, value: float = 0.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setObjectName("thresholdSlider")
        self.slider.setRange(0, STEPS)
        self.slider.setPageStep(5)
        self.slider.setToolTip("Show only detections at least this confident")
        self.value_label = QLabel(self)
        self.value_label.setMinimumWidth(32)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Confidence ≥", self))
        row.addWidget(self.slider, 1)
        row.addWidget(self.value_label)
        self.set_threshold(value)
        self.slider.valueChanged.connect(self._moved)

    def threshold(self) -> float:
        return self.slider.value() / STEPS

    def set_threshold(self, value: float) -> None:
        """Show ``value`` (no signal)."""
        self.slider.blockSignals(True)
        self.slider.setValue(round(min(max(value, 0.0), 1.0) * STEPS))
        self.slider.blockSignals(False)
        self.value_label.setText(f"{self.threshold():.2f}")

    def _moved(self, _value: int) -> None:
        self.value_label.setText(f"{self.threshold():.2f}")
        self.threshold_changed.emit(self.threshold())
