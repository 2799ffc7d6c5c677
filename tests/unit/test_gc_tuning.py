"""The GUI's start-up GC settings: applied by the call, never by importing the app."""

from __future__ import annotations

from tests.support.fresh_interpreter import assert_probe_passes

PROBE = """
import gc
before = gc.get_threshold()
import relay_desktop.app  # importing must not change process-wide state
assert gc.get_threshold() == before and gc.get_freeze_count() == 0, "changed on import"
from relay_desktop.services.gc_tuning import settle_after_startup
kept = [[i] for i in range(1000)]
frozen = settle_after_startup()
assert frozen == gc.get_freeze_count() > 1000, frozen
assert not any(gc.is_tracked(o) and o is kept for o in gc.get_objects()), "not frozen"
assert gc.get_threshold() == before
print("ok")
"""


def test_settling_freezes_start_up_objects_only_when_called() -> None:
    assert_probe_passes(PROBE)
