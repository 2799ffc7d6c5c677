"""Qt's raster fills kept on the painting thread: the GUI thread pool turned off.

Qt 6's raster engine hands each large fill, blend or image scale to its "GUI
thread pool" in stripes and waits for them. For the editor's frames (many
fills: spectrogram tiles, region bodies, lane bars, waveform columns) the
hand-off and the wait cost more than they save, and the pool's threads compete
with the tile and decode workers for the same cores. Measured with
``frame_4k`` (3840x1200, three alternating rounds on 2 cores): median frame
9.0-12.1 ms with the pool off, 10.9-14.1 ms with it on.

Qt reads ``QT_NO_GUI_THREADPOOL`` once, when the pool is first asked for, so
:func:`serial_raster_fills` is called by the application's start-up (and the
benchmarks) before the QApplication exists; importing this changes nothing.
A value the user set is kept; ``RELAY_QT_GUI_THREADPOOL=1`` keeps Qt's pool.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

#: Qt's switch (qthreadpool.cpp: set to anything, the GUI thread pool is never made)
QT_SWITCH = "QT_NO_GUI_THREADPOOL"
#: ours: set to 1 to keep Qt's pool
KEEP_POOL = "RELAY_QT_GUI_THREADPOOL"


def serial_raster_fills(environ: MutableMapping[str, str] | None = None) -> bool:
    """Turn Qt's GUI thread pool off unless asked to keep it; True when it is off."""
    env = os.environ if environ is None else environ
    if env.get(KEEP_POOL) != "1":
        env.setdefault(QT_SWITCH, "1")
    return QT_SWITCH in env
