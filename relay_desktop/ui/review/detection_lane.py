"""DetectionLane: one file's detections as a :class:`SpanLane`, by type and confidence.

Colour is the type's (the dataset's colour for it, else one of a fixed palette),
opacity grows with confidence, and detections below the threshold are hidden.
Reviewed detections show the reviewer's type and edges: accepted ones opaque,
rejected ones grey.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor

from relay_desktop.core.audio.timefmt import format_time
from relay_desktop.core.review.queue import ACCEPTED, PENDING, REJECTED
from relay_desktop.ui.review.lanes import LaneSpan, SpanLane

PALETTE = ("#ef5350", "#42a5f5", "#66bb6a", "#ffa726", "#ab47bc", "#26c6da", "#d4e157",
           "#ec407a")
REJECTED_COLOR = "#78909c"


@dataclass(frozen=True)
class LaneDetection:
    """What the lane draws of one detection (``key`` comes back in the signals)."""

    key: object
    artifact_type: str
    start_ms: int
    end_ms: int
    confidence: float
    decision: str = PENDING


def color_for(artifact_type: str, colors: Mapping[str, str]) -> QColor:
    """The type's colour: the dataset's, else a stable pick from the palette."""
    c = QColor(colors.get(artifact_type, ""))
    if c.isValid():
        return c
    return QColor(PALETTE[sum(artifact_type.encode()) % len(PALETTE)])


OPACITY_STEPS = 8


def opacity(confidence: float) -> int:
    """Alpha for a confidence: faint at 0, opaque at 1, in ``OPACITY_STEPS`` steps.

    A few steps read as well as a continuous ramp (the hover text gives the
    number) and keep the lane's colours few: it paints one batch per colour.
    """
    step = round(min(max(confidence, 0.0), 1.0) * (OPACITY_STEPS - 1))
    return int(60 + 195 * step / (OPACITY_STEPS - 1))


def hover_text(d: LaneDetection) -> str:
    text = (f"{d.artifact_type} · confidence {d.confidence:.2f} · "
            f"{format_time(d.start_ms / 1000)} to {format_time(d.end_ms / 1000)}")
    if d.decision != PENDING:
        text += f" · {d.decision}"
    return text


class DetectionLane(QObject):
    """Detections of the file shown, drawn in a band of the waveform and spectrogram.

    Signals:
        hovered(object): the key of the detection under the mouse (None when none).
        clicked(object): the key of a clicked detection.
    """

    hovered = Signal(object)
    clicked = Signal(object)

    def __init__(self, plots: Sequence[pg.PlotItem], *, row: int = 0, rows: int = 1,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lane = SpanLane(plots, name="detections", row=row, rows=rows, parent=self)
        self.lane.hovered.connect(self.hovered)
        self.lane.clicked.connect(self.clicked)
        self._detections: list[LaneDetection] = []
        self._colors: dict[str, str] = {}
        self._threshold = 0.0
        self._by_key: dict[object, LaneDetection] = {}

    def set_detections(self, detections: Sequence[LaneDetection],
                       colors: Mapping[str, str] | None = None) -> None:
        self._detections = list(detections)
        self._by_key = {d.key: d for d in self._detections}
        if colors is not None:
            self._colors = dict(colors)
        self._redraw()

    def update_detection(self, detection: LaneDetection) -> None:
        """One detection changed (a decision, a relabel, a nudge)."""
        if detection.key in self._by_key:
            self._detections = [detection if d.key == detection.key else d
                                for d in self._detections]
            self._by_key[detection.key] = detection
            self._redraw()

    def set_threshold(self, threshold: float) -> None:
        if threshold != self._threshold:
            self._threshold = threshold
            self._redraw()

    @property
    def threshold(self) -> float:
        return self._threshold

    def set_current(self, key: object) -> None:
        self.lane.set_highlight(key)

    def visible_keys(self) -> list[object]:
        """The keys drawn now (at or above the threshold), by start."""
        return list(self.lane.keys)

    def tooltip_for(self, key: object) -> str:
        return self.lane.tooltip_for(key)

    def detach(self) -> None:
        self.lane.detach()

    def _span(self, d: LaneDetection) -> LaneSpan:
        if d.decision == REJECTED:
            color = QColor(REJECTED_COLOR)
            color.setAlpha(90)
        else:
            color = color_for(d.artifact_type, self._colors)
            color.setAlpha(255 if d.decision == ACCEPTED else opacity(d.confidence))
        return LaneSpan(d.start_ms / 1000, d.end_ms / 1000, color, hover_text(d), d.key)

    def _redraw(self) -> None:
        self.lane.set_spans([self._span(d) for d in self._detections
                             if d.confidence >= self._threshold])
