"""The services of one connected window (an AppContext) for benchmarks, without the window.

Call :func:`benchmarks.qt_app` first: Qt is imported here only when a context is made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def bench_context(base_url: str, api_key: str, home: Path, *,
                  timeout: tuple[float, float] = (5.0, 30.0),
                  threads: int | None = None) -> Any:
    """An AppContext on ``base_url``: its folders under ``home``, its own ApiWorker
    (``timeout``) and thread pool (``threads``, else Qt's default)."""
    from PySide6.QtCore import QThreadPool

    from relay_desktop.core.paths import AppPaths
    from relay_desktop.core.settings import Settings
    from relay_desktop.services.activity import ActivityTracker
    from relay_desktop.services.api_worker import ApiWorker
    from relay_desktop.services.context import AppContext, ConnectionInfo

    paths = AppPaths(home / "data", home / "cache", home / "config").ensure()
    pool = QThreadPool()
    if threads is not None:
        pool.setMaxThreadCount(threads)
    return AppContext(worker=ApiWorker(base_url, api_key, timeout=timeout),
                      connection=ConnectionInfo("bench", base_url, False, "bench"),
                      settings=Settings(paths.config / "settings.json"), paths=paths,
                      thread_pool=pool, activity=ActivityTracker())
