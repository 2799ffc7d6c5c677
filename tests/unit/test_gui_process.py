"""The GUI process's start-up settings come from one call, and importing it applies none."""

from __future__ import annotations

from tests.support.fresh_interpreter import assert_probe_passes

PROBE = """
import os, sys
from relay_desktop.services.raster_threads import QT_SWITCH
os.environ.pop(QT_SWITCH, None)
interval = sys.getswitchinterval()
from relay_desktop.services.gui_process import prepare_gui_process
from relay_desktop.services.switch_interval import GUI_SWITCH_INTERVAL_S
assert sys.getswitchinterval() == interval and QT_SWITCH not in os.environ, "applied on import"
prepare_gui_process()
assert sys.getswitchinterval() == GUI_SWITCH_INTERVAL_S
assert os.environ[QT_SWITCH] == "1"
print("ok")
"""


def test_start_up_applies_the_switch_interval_and_serial_fills() -> None:
    assert_probe_passes(PROBE)
