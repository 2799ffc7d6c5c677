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
    app's own process settings (``relay_desktop.services.gui_process``).
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    from PySide6.QtWidgets import QApplication

    from relay_desktop.services.gui_process import prepare_gui_process

    prepare_gui_process()
    return QApplication.instance() or QApplication([])
