"""The GUI process's own settings, applied once by its start-up before the QApplication exists.

One place for them, so that the benchmarks (which measure the application)
run under exactly the settings the application does. Each is process-wide and
explained in its module; importing this changes nothing.
"""

from __future__ import annotations

from relay_desktop.services.qt_compat import pin_bool_singletons
from relay_desktop.services.raster_threads import serial_raster_fills
from relay_desktop.services.switch_interval import favour_gui_thread


def prepare_gui_process() -> None:
    """Pin the bool singletons (``qt_compat``), shorten the GIL switch interval
    (``switch_interval``) and turn Qt's GUI thread pool off (``raster_threads``)."""
    pin_bool_singletons()
    favour_gui_thread()
    serial_raster_fills()
