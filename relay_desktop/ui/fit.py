"""Sizing helpers shared by dialogs whose wrapped text changes after they are shown."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget


def grow_to_fit(widget: QWidget) -> None:
    """Grow ``widget`` tall enough for its layout's (wrapped) contents; never shrink it."""
    layout = widget.layout()
    if layout is None:
        return
    layout.activate()
    need = (layout.totalHeightForWidth(widget.width()) if layout.hasHeightForWidth()
            else layout.totalSizeHint().height())
    if need > widget.height():
        widget.resize(widget.width(), need)
