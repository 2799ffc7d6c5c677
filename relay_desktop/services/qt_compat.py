"""Work-arounds for bugs in the Qt binding that the whole application must not trip over.

PySide6 6.12 on CPython < 3.12: ``SignalInstance.emit()`` returns ``True``
without taking a reference, so every discarded emit() result drops one
reference to ``True``; after a few thousand emits CPython aborts with
"bool_dealloc: deallocating True or False". CPython 3.12 made these singletons
immortal; on older versions :func:`pin_bool_singletons` does the same by
giving them a reference count no program can exhaust.
"""

from __future__ import annotations

import ctypes
import sys

_PIN = 1 << 40
_pinned = False


def pin_bool_singletons() -> bool:
    """Make True/False/None effectively immortal (idempotent); True if it changed anything."""
    global _pinned
    if _pinned or sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    for obj in (True, False, None):
        ctypes.c_ssize_t.from_address(id(obj)).value += _PIN
    _pinned = True
    return True
