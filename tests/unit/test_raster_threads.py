"""Qt's GUI thread pool is turned off by start-up only, and Qt still honours the switch."""

from __future__ import annotations

import sys

import pytest

from relay_desktop.services.raster_threads import KEEP_POOL, QT_SWITCH, serial_raster_fills
from tests.support.fresh_interpreter import assert_probe_passes

# Qt makes the pool's threads at the first large fill; none must appear with the switch on.
FILLS = """
import os, sys
from relay_desktop.services.raster_threads import QT_SWITCH, serial_raster_fills
os.environ.pop(QT_SWITCH, None)
import relay_desktop.app  # importing the app changes nothing
assert QT_SWITCH not in os.environ, "set on import"
if sys.argv[1] == "off":
    assert serial_raster_fills()
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter
app = QGuiApplication([])
def threads():
    return len(os.listdir("/proc/self/task"))
image = QImage(3840, 1200, QImage.Format.Format_ARGB32_Premultiplied)
before = threads()
for _ in range(20):
    painter = QPainter(image)
    painter.fillRect(QRect(0, 0, 3840, 1200), QColor(200, 20, 20, 60))
    painter.end()
made = threads() - before
assert (made == 0) == (sys.argv[1] == "off"), f"{sys.argv[1]}: {made} threads made"
print("ok")
"""


def _probe(mode: str) -> str:
    return f"import sys; sys.argv[1:] = [{mode!r}]\n" + FILLS


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts threads in /proc")
def test_qt_paints_fills_on_its_own_thread_only_once_switched() -> None:
    """Qt 6.11 reads QT_NO_GUI_THREADPOOL (qthreadpool.cpp); when it stops, this fails."""
    assert_probe_passes(_probe("off"))
    assert_probe_passes(_probe("pool"))  # the count can tell: Qt's pool does make threads


def test_the_switch_is_set_unless_kept_or_already_chosen() -> None:
    env: dict[str, str] = {}
    assert serial_raster_fills(env) and env[QT_SWITCH] == "1"
    chosen = {QT_SWITCH: "yes"}
    assert serial_raster_fills(chosen) and chosen[QT_SWITCH] == "yes"
    kept = {KEEP_POOL: "1"}
    assert not serial_raster_fills(kept) and QT_SWITCH not in kept
