"""Background threads that give way: work ahead of the user runs below the GUI and decoding.

Spectrogram tiles are computed on a pool of their own whose threads lower their
CPU priority the first time they run a job (:func:`lower_this_thread`). When the
cores are idle that changes nothing; when they are busy (a long file decoding,
the GUI drawing a frame) the scheduler gives them to the work the user waits for.

On Linux a thread's nice value is its own (``setpriority`` on its thread id), and
one lowered cannot be raised again without privileges, so only the threads of a
pool kept for such work are lowered, never those of the shared pool. Elsewhere
nothing changes and the work runs at normal priority.
"""

from __future__ import annotations

import os
import sys
import threading

from PySide6.QtCore import QThreadPool

#: the nice value background threads take (0 is normal, 19 the lowest)
BACKGROUND_NICE = 10
_state = threading.local()
_pool: QThreadPool | None = None


def thread_nice() -> int | None:
    """The calling thread's nice value (None where threads have none of their own)."""
    if not sys.platform.startswith("linux"):
        return None
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def lower_this_thread(nice: int = BACKGROUND_NICE) -> bool:
    """Lower the calling thread's priority to ``nice`` (once; never raises it again).

    Returns whether the thread now runs at that nice value or lower priority.
    """
    if getattr(_state, "lowered", False):
        return True
    current = thread_nice()
    if current is None:
        return False
    try:
        if current < nice:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except OSError:
        return False
    _state.lowered = True
    return True


def background_pool() -> QThreadPool:
    """The pool for work done ahead of the user (one thread per core), created once.

    Jobs started on it must call :func:`lower_this_thread` first.
    """
    global _pool
    if _pool is None:
        _pool = QThreadPool()
        _pool.setObjectName("relay-background")
        _pool.setMaxThreadCount(max(1, QThreadPool.globalInstance().maxThreadCount()))
    return _pool


__all__ = ["BACKGROUND_NICE", "background_pool", "lower_this_thread", "thread_nice"]
