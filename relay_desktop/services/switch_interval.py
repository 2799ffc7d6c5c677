"""The interpreter's thread switch interval, shortened for the GUI process.

CPython lets a thread waiting for the GIL take it from one running Python code
only after the switch interval (5 ms by default). The GUI thread gives the GIL
up many times a frame (in every C call that releases it) and must take it back
each time; while a worker runs Python (spectrogram tiles read column by column,
decoding, upload lanes) each of those can cost the frame up to one interval.
Measured with ``waveform_redraw`` (spectrogram shown, tiles recomputed while the
view zooms): p99 frame 21-23 ms at 5 ms, 13-16 ms at 1 ms, same machine.

The interval is process-wide state, so only the application's start-up (and the
benchmarks, which measure the application) set it; importing this changes
nothing.
"""

from __future__ import annotations

import sys

#: seconds a thread may hold the GIL while another waits for it, in the GUI process
GUI_SWITCH_INTERVAL_S = 0.001


def favour_gui_thread() -> float:
    """Shorten the switch interval to :data:`GUI_SWITCH_INTERVAL_S`; returns the one before."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)
    return before
