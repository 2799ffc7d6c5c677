"""Matched, false-positive and missed lanes of one file over an editor's plots."""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor

from relay_desktop.core.audio.timefmt import format_time
from relay_desktop.core.evaluation import Matching, Span
from relay_desktop.ui.review.lanes import LaneSpan, SpanLane

MATCHED, FALSE_POSITIVE, MISSED = "matched", "false_positive", "missed"
COLORS = {MATCHED: QColor(76, 175, 80, 220), FALSE_POSITIVE: QColor(229, 57, 53, 220),
          MISSED: QColor(255, 152, 0, 220)}
TITLES = {MATCHED: "Matched", FALSE_POSITIVE: "False positives", MISSED: "Missed"}
ORDER = (MATCHED, FALSE_POSITIVE, MISSED)


def _times(s: Span) -> str:
    return f"{format_time(s.start_ms / 1000)} to {format_time(s.end_ms / 1000)}"


def lane_spans(matching: Matching) -> dict[str, list[LaneSpan]]:
    """The three lanes' spans: a matched pair spans its label and detection together."""
    matched = [LaneSpan(min(t.start_ms, d.start_ms) / 1000, max(t.end_ms, d.end_ms) / 1000,
                        COLORS[MATCHED],
                        f"Matched {t.artifact_type} · label {_times(t)} · detection "
                        f"{_times(d)} · confidence {d.confidence:.2f}", (MATCHED, k))
               for k, (t, d) in enumerate(matching.pairs)]
    false_pos = [LaneSpan(d.start_ms / 1000, d.end_ms / 1000, COLORS[FALSE_POSITIVE],
                          f"False positive {d.artifact_type} · {_times(d)} · confidence "
                          f"{d.confidence:.2f}", (FALSE_POSITIVE, k))
                 for k, d in enumerate(matching.false_positives)]
    missed = [LaneSpan(t.start_ms / 1000, t.end_ms / 1000, COLORS[MISSED],
                       f"Missed {t.artifact_type} · {_times(t)}", (MISSED, k))
              for k, t in enumerate(matching.missed)]
    return {MATCHED: matched, FALSE_POSITIVE: false_pos, MISSED: missed}


class EvaluationLanes(QObject):
    """Three stacked SpanLanes (matched, false positives, missed) on the given plots.

    Signals:
        clicked(float, float): the start and end (seconds) of a clicked span.
    """

    clicked = Signal(float, float)

    def __init__(self, plots: Sequence[pg.PlotItem], first_row: int = 0,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        rows = first_row + len(ORDER)
        self.lanes = {name: SpanLane(plots, name=f"evaluation {name}", row=first_row + i,
                                     rows=rows, parent=self)
                      for i, name in enumerate(ORDER)}
        self._spans: dict[object, LaneSpan] = {}
        for lane in self.lanes.values():
            lane.clicked.connect(self._clicked)

    def show_matching(self, matching: Matching | None) -> None:
        """Draw one file's matching (None: draw nothing)."""
        spans = lane_spans(matching) if matching is not None else {n: [] for n in ORDER}
        self._spans = {s.key: s for name in ORDER for s in spans[name]}
        for name, lane in self.lanes.items():
            lane.set_spans(spans[name])

    def span(self, key: object) -> LaneSpan | None:
        """The drawn span with this key (``(lane name, index)``), or None."""
        return self._spans.get(key)

    def _clicked(self, key: object) -> None:
        s = self._spans.get(key)
        if s is not None:
            self.clicked.emit(s.start_s, s.end_s)

    def counts(self) -> dict[str, int]:
        return {name: lane.spans_count() for name, lane in self.lanes.items()}

    def detach(self) -> None:
        for lane in self.lanes.values():
            lane.detach()
