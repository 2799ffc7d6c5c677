"""The GUI process's interpreter settings: applied by start-up, never by an import."""

from __future__ import annotations

from tests.support.fresh_interpreter import assert_probe_passes

PROBE = """
import sys
interval = sys.getswitchinterval()
trues = sys.getrefcount(True)
import relay_desktop.app  # importing the app and its services changes no process-wide state
import relay_desktop.services.api_worker
assert sys.getswitchinterval() == interval, "switch interval changed on import"
assert sys.getrefcount(True) < trues + 100_000, "True pinned on import"
from relay_desktop.services.switch_interval import GUI_SWITCH_INTERVAL_S, favour_gui_thread
assert favour_gui_thread() == interval
assert sys.getswitchinterval() == GUI_SWITCH_INTERVAL_S < interval
assert favour_gui_thread() == GUI_SWITCH_INTERVAL_S  # calling it again changes nothing more
print("ok")
"""


def test_the_switch_interval_is_shortened_only_when_asked() -> None:
    assert_probe_passes(PROBE)
