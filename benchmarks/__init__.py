"""Benchmarks: ``python -m benchmarks [NAME ...] [--quick]``.

Each benchmark is a module ``benchmarks/<name>.py`` with a function
``run(quick: bool) -> dict`` that measures the project and a baseline in the
same run. The runner prints one JSON line per benchmark with at least
``name, value, baseline, ratio, unit, target, met``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

REQUIRED_KEYS = ("name", "value", "baseline", "ratio", "unit", "target", "met")


def result(name: str, value: float, baseline: float, unit: str, target: str, met: bool,
           ratio: float | None = None, **extra: Any) -> dict[str, Any]:
    """Build a benchmark result; ``ratio`` defaults to value / baseline."""
    if ratio is None:
        ratio = value / baseline if baseline else float("inf")
    out: dict[str, Any] = {"name": name, "value": round(value, 6), "baseline": round(baseline, 6),
                           "ratio": round(ratio, 4), "unit": unit, "target": target,
                           "met": bool(met)}
    out.update(extra)
    return out


def emit(data: dict[str, Any]) -> None:
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise ValueError(f"benchmark result lacks {missing}")
    print(json.dumps(data), flush=True)


def qt_app() -> Any:
    """The QApplication the Qt benchmarks share, on the offscreen platform.

    Call it before importing any other Qt module. It also puts the repository
    root on ``sys.path`` (benchmarks use ``tests.support``) and applies the
    PySide6 work-around of ``relay_desktop.services.qt_compat``, the app's
    thread switch interval (``relay_desktop.services.switch_interval``) and its
    serial raster fills (``relay_desktop.services.raster_threads``).
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    from PySide6.QtWidgets import QApplication

    from relay_desktop.services.qt_compat import pin_bool_singletons
    from relay_desktop.services.raster_threads import serial_raster_fills
    from relay_desktop.services.switch_interval import favour_gui_thread

    pin_bool_singletons()
    favour_gui_thread()
    serial_raster_fills()
    return QApplication.instance() or QApplication([])
