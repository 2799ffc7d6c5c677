"""Dropping files and folders from the file manager onto any widget, for upload.

``FileDropTarget`` watches one widget (an item view's viewport, usually) and asks
a resolver what lies under the cursor: an :class:`UploadTarget` and the area to
highlight, or the reason nothing can be dropped there. While the files hover it
draws the highlight and a line saying where they will go ("Drop to upload 12
items to “TTS run 3”") or why they cannot; on drop it emits the local paths and
the target. Scanning folders is the upload manager's job: paths pass unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QObject, QPoint, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFontMetrics,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import QWidget

from relay_desktop.core.uploads.state import UploadTarget


@dataclass(frozen=True)
class DropSpot:
    """What lies under the cursor: a target and the area it covers, or why there is none."""

    target: UploadTarget | None
    rect: QRect | None = None   # in the watched widget's coordinates; None: the whole widget
    reason: str = ""


Resolver = Callable[[QPoint], DropSpot]
NOT_LOCAL = "Only files and folders on this computer can be uploaded."


def local_paths(mime: QMimeData) -> list[Path]:
    """The local files and folders a drag carries (remote URLs are left out)."""
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


def drop_hint(count: int, target: UploadTarget) -> str:
    """'Drop to upload 12 items to “TTS run 3”'."""
    items = "1 item" if count == 1 else f"{count:,} items"
    return f"Drop to upload {items} to “{target.name or target.id}”"


class DropOverlay(QWidget):
    """Paints the drop highlight and its hint above the watched widget (ignores the mouse)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("dropOverlay")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground, True)
        self.area: QRect | None = None
        self.text = ""
        self.refused = False
        self.hide()

    def show_hint(self, area: QRect | None, text: str, refused: bool) -> None:
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
        self.area, self.text, self.refused = area, text, refused
        self.raise_()
        self.show()
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        accent = palette.color(QPalette.ColorRole.Highlight)
        if self.area is not None and not self.refused:
            fill = QColor(accent)
            fill.setAlpha(40)
            painter.setBrush(fill)
            painter.setPen(QPen(accent, 2))
            painter.drawRoundedRect(QRectF(self.area).adjusted(1, 1, -1, -1), 5, 5)
        if self.text:
            self._paint_pill(painter, accent)
        painter.end()

    def _paint_pill(self, painter: QPainter, accent: QColor) -> None:
        """The hint in a rounded label, wrapped to the widget's width, under the target."""
        metrics = QFontMetrics(self.font())
        flags = int(Qt.AlignmentFlag.AlignCenter) | int(Qt.TextFlag.TextWordWrap)
        room = max(60, self.width() - 28)
        text_rect = metrics.boundingRect(QRect(0, 0, room, 10_000), flags, self.text)
        width, height = text_rect.width() + 20, text_rect.height() + 10
        pill = QRect((self.width() - width) // 2, self.height() - height - 10, width, height)
        if self.area is not None and not self.refused \
                and self.area.bottom() + height + 14 < self.height():
            pill.moveTop(self.area.bottom() + 6)  # just under the highlighted row
        back = QColor("#5f6b7a") if self.refused else QColor(accent)
        back.setAlpha(235)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(back)
        radius = min(height / 2, 12.0)
        painter.drawRoundedRect(QRectF(pill), radius, radius)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(pill.adjusted(10, 5, -10, -5), flags, self.text)


class FileDropTarget(QObject):
    """Makes ``widget`` take dropped local files and folders for the target under the cursor.

    Signals:
        files_dropped(object, object): (list[Path], UploadTarget) on a drop onto a target.
        refused(str): files were dropped where they cannot go (the reason, a sentence).
        hint_changed(str): what a drop here would do, or why it cannot ('' once over).
    """

    files_dropped = Signal(object, object)
    refused = Signal(str)
    hint_changed = Signal(str)

    def __init__(self, widget: QWidget, resolve: Resolver, parent: QObject | None = None) -> None:
        super().__init__(parent if parent is not None else widget)
        self.widget = widget
        self.resolve = resolve
        self.overlay = DropOverlay(widget)
        self.hint = ""
        widget.setAcceptDrops(True)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is not self.widget:
            return False
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            assert isinstance(event, QDragEnterEvent | QDragMoveEvent)
            self._hover(event, entering=kind == QEvent.Type.DragEnter)
            return True
        if kind == QEvent.Type.DragLeave:
            self._clear()
            return True
        if kind == QEvent.Type.Drop:
            assert isinstance(event, QDropEvent)
            self._drop(event)
            return True
        return False

    def _hover(self, event: QDragMoveEvent, *, entering: bool) -> None:
        mime = event.mimeData()
        if not mime.hasUrls():
            event.ignore()
            return
        paths = local_paths(mime)
        spot = self.resolve(event.position().toPoint()) if paths else DropSpot(None,
                                                                              reason=NOT_LOCAL)
        if spot.target is None:
            self._show(None, spot.reason, refused=True)
            if entering:  # keep the moves coming: the hint says why, another spot may take them
                event.setDropAction(Qt.DropAction.CopyAction)
                event.accept()
            else:
                event.ignore()
            return
        area = spot.rect if spot.rect is not None else self.widget.rect()
        self._show(area, drop_hint(len(paths), spot.target), refused=False)
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()

    def _drop(self, event: QDropEvent) -> None:
        self._clear()
        paths = local_paths(event.mimeData())
        if not paths:
            event.ignore()
            if event.mimeData().hasUrls():
                self.refused.emit(NOT_LOCAL)
            return
        spot = self.resolve(event.position().toPoint())
        if spot.target is None:
            event.ignore()
            self.refused.emit(spot.reason)
            return
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        self.files_dropped.emit(paths, spot.target)

    def _show(self, area: QRect | None, text: str, *, refused: bool) -> None:
        self.overlay.show_hint(area, text, refused)
        if text != self.hint:
            self.hint = text
            self.hint_changed.emit(text)

    def _clear(self) -> None:
        self.overlay.hide()
        if self.hint:
            self.hint = ""
            self.hint_changed.emit("")
