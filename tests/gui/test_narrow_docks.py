"""Docks keep their content in sight when narrow: button rows wrap, long texts wrap or scroll."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from PySide6.QtWidgets import QApplication, QWidget

from relay_desktop.ui.model_loop import PanelHost
from relay_desktop.ui.review.panel import ReviewPanel


def test_review_buttons_wrap_into_two_rows_in_a_narrow_dock_and_back(qtbot: Any) -> None:
    panel = ReviewPanel()
    host = PanelHost(panel)
    qtbot.addWidget(host)
    row = panel.button_row
    for width, rows in ((800, 1), (340, 2), (800, 1)):
        host.resize(width, 520)
        host.show()
        qtbot.waitExposed(host)
        qtbot.waitUntil(lambda r=rows: row.rows() == r, timeout=3000)
        QApplication.processEvents()
        # nothing scrolls sideways: the panel fits the dock and so does every button
        assert panel.width() <= host.viewport().width()
        boxes = [b.geometry() for b in row.buttons]
        assert all(b.height() >= 18 for b in boxes)   # laid out, not squashed
        assert all(b.right() < row.width() for b in boxes)
        lines = sorted({b.top() for b in boxes})
        assert len(lines) == rows
        for line in lines:   # side by side within a row, never over each other
            ordered = sorted((b for b in boxes if b.top() == line), key=lambda b: b.left())
            assert all(a.right() < b.left() for a, b in pairwise(ordered))
        # the panel gives the row the height its rows need
        assert row.height() >= rows * boxes[0].height()
    texts = [b.text() for b in row.buttons]
    assert texts == ["Accept", "Reject", "Undo", "◀ Previous", "Next ▶"]


def test_the_detections_panel_fits_a_narrow_dock_without_scrolling_sideways(
        qtbot: Any) -> None:
    from PySide6.QtWidgets import QPushButton

    from relay_desktop.ui.inference.panel import InferencePanel

    panel = InferencePanel()
    host = PanelHost(panel)
    qtbot.addWidget(host)
    panel.config_label.setText("threshold 0.5 · merge window 200 ms · minimum duration 50 ms")
    host.resize(430, 600)
    host.show()
    qtbot.waitExposed(host)
    QApplication.processEvents()
    assert panel.width() <= host.viewport().width()
    assert host.horizontalScrollBar().maximum() == 0
    for button in panel.findChildren(QPushButton):
        if button.isVisible():
            right = button.mapTo(panel, button.rect().topRight()).x()
            assert right < panel.width(), button.text()
    host.resize(1200, 600)
    qtbot.waitUntil(lambda: panel.findChild(QWidget, "inferenceActions").rows() == 1,
                    timeout=3000)


def test_the_models_and_evaluate_panels_fit_a_narrow_dock(qtbot: Any) -> None:
    from relay_desktop.ui.evaluate.panel import EvaluatePanel
    from relay_desktop.ui.models.details import _show_line
    from relay_desktop.ui.models.panel import ModelsPanel

    models = ModelsPanel()
    uuid = "27070813-2b70-4f1a-8a96-fde338ab89fc"
    _show_line(models.details.job, f"{uuid} · completed · 20 epochs · finished 2026-12-04")
    _show_line(models.details.model_id, uuid)
    hosts = []   # kept: a host let go deletes its panel
    for panel, width in ((models, 345), (EvaluatePanel(), 430)):
        host = PanelHost(panel)
        hosts.append(host)
        qtbot.addWidget(host)
        host.resize(width, 600)
        host.show()
        qtbot.waitExposed(host)
        QApplication.processEvents()
        assert host.horizontalScrollBar().maximum() == 0, type(panel).__name__
    job = models.details.job
    assert job.text().startswith(uuid) and job.toolTip() == job.text()
    assert job.isReadOnly() and job.cursorPosition() == 0   # shown from its start
