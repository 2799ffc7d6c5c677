"""Colouring spectrogram tiles off the GUI thread, as pyqtgraph's ImageItem would."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage

from relay_desktop.core.audio.spectrogram_colours import TABLE_SIZE, Colouring, packed_table


def test_pixels_are_the_image_item_s_colours_row_per_bin(qapp: Any) -> None:
    rgb = pg.colormap.get("inferno").getLookupTable(nPts=TABLE_SIZE)
    db = np.random.default_rng(5).uniform(-130.0, 10.0, (37, 65)).astype(np.float32)
    pixels = Colouring.of((-96.0, -12.0), rgb).pixels(db)
    assert pixels.shape == (65, 37) and pixels.dtype == np.uint32
    assert pixels.flags.c_contiguous
    ours = QImage(pixels.data, 37, 65, 37 * 4, QImage.Format.Format_RGB32)
    reference = pg.ImageItem(db, levels=(-96.0, -12.0), lut=rgb, autoLevels=False)
    reference.render()
    theirs = reference.qimage.convertToFormat(QImage.Format.Format_RGB32)
    assert (theirs.width(), theirs.height()) == (37, 65)
    assert all(ours.pixel(x, y) == theirs.pixel(x, y) for x in range(37) for y in range(65))


def test_values_outside_the_range_take_the_end_colours() -> None:
    rgb = np.zeros((TABLE_SIZE, 3), np.uint8)
    rgb[:, 0] = np.arange(TABLE_SIZE)  # red = table entry
    colouring = Colouring.of((-12.0, -96.0), rgb)  # either order
    assert colouring.levels == (-96.0, -12.0)
    db = np.array([[-200.0, -96.0, -54.0, -12.0, 40.0]], dtype=np.float32)
    red = (colouring.pixels(db)[:, 0] >> 16) & 0xFF
    assert red.tolist() == [0, 0, 128, 255, 255]
    assert (colouring.pixels(db) >> 24 == 0xFF).all(), "opaque"


def test_a_range_under_one_db_widens_and_a_bad_table_is_refused() -> None:
    assert Colouring.of((-20.0, -20.0), np.zeros((TABLE_SIZE, 4), np.uint8)).levels == (
        -20.0, -19.0)
    with pytest.raises(ValueError, match="256 RGB rows"):
        packed_table(np.zeros((16, 3), np.uint8))
    assert packed_table(np.full((TABLE_SIZE, 3), (1, 2, 3), np.uint8))[0] == 0xFF010203
