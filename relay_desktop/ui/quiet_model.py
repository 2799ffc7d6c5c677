"""Writing a QStandardItemModel's cells without a signal per cell."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtGui import QStandardItemModel


@contextmanager
def quiet(model: QStandardItemModel) -> Iterator[None]:
    """Hold back the model's signals while cells are written (one dataChanged follows)."""
    was = model.blockSignals(True)
    try:
        yield
    finally:
        model.blockSignals(was)
