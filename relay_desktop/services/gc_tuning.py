"""Cyclic garbage collection tuned for a GUI: no long full-collection pauses on the GUI thread.

Python's cyclic collector runs on whichever thread allocates when a threshold is
crossed, often the GUI thread, and a full (generation 2) collection walks every
tracked object: with PySide6, pyqtgraph, numpy and the app's own modules loaded
that is a few hundred thousand objects, a pause of 50-170 ms measured by the
``gui_stall`` benchmark. :func:`settle_after_startup` moves everything alive
after start-up into the permanent generation (``gc.freeze()``): those objects are
never scanned again, so a full collection only walks what was made since.

The thresholds stay CPython's: raising the youngest one (tried: 10,000) made each
young collection scan more objects and measured worse (10-28 ms pauses).

Process-wide: called once by the application's start-up (``relay_desktop.app``),
never on import.
"""

from __future__ import annotations

import gc


def settle_after_startup() -> int:
    """Collect once, then freeze what start-up made; returns how many objects are frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
