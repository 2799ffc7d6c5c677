"""Shared by the editor-open benchmarks: a real AudioEditor offscreen and a hook on its paints.

:class:`PaintWatch` wraps ``WaveItem.paint`` (class-wide, once, in the benchmark's
process only) and calls ``check(item)`` after every real paint of a wave item,
so a benchmark can stamp the first frame that actually drew what it waits for.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

WIDTH, HEIGHT = 1600, 900


_CHECKS: list[Callable[[Any], None]] = []
_HOOKED: list[bool] = []


def _hook_paint() -> None:
    """Wrap ``WaveItem.paint`` once per process, before any item paints (PySide binds an
    item's Python override at its first paint; unwrapping later crashes)."""
    if _HOOKED:
        return
    from relay_desktop.ui.waveform.items import WaveItem

    original = WaveItem.paint

    def paint(item: Any, painter: Any, *args: Any) -> None:
        original(item, painter, *args)
        for check in list(_CHECKS):
            check(item)

    WaveItem.paint = paint  # type: ignore[method-assign,assignment]
    _HOOKED.append(True)


class PaintWatch:
    """Calls ``check(item)`` after each paint of a WaveItem until ``stop()``."""

    def __init__(self, check: Callable[[Any], None]) -> None:
        _hook_paint()
        self._check = check
        _CHECKS.append(check)

    def stop(self) -> None:
        if self._check in _CHECKS:
            _CHECKS.remove(self._check)


class OffscreenEditor:
    """An AudioEditor shown offscreen at WIDTH x HEIGHT with its own (empty) caches."""

    def __init__(self) -> None:
        from relay_desktop.core.paths import AppPaths
        from relay_desktop.ui.waveform.editor import AudioEditor

        _hook_paint()  # before any item paints: PySide binds an item's override at its first
        self.root = Path(tempfile.mkdtemp(prefix="relay-bench-editor-"))
        paths = AppPaths(self.root / "data", self.root / "cache", self.root / "config").ensure()
        self.paths = paths
        self.editor = AudioEditor(paths=paths)
        self.editor.resize(WIDTH, HEIGHT)
        self.editor.show()

    def forget_peaks(self) -> None:
        """Empty the peak and spectrogram caches so the next open computes both (uncached)."""
        shutil.rmtree(self.editor.peak_cache.root, ignore_errors=True)
        shutil.rmtree(self.paths.spectrogram_cache, ignore_errors=True)

    def close(self) -> None:
        self.editor.shutdown()
        self.editor.close()
        self.editor.deleteLater()
        shutil.rmtree(self.root, ignore_errors=True)


def run_until(app: Any, done: Callable[[], bool], timeout_s: float) -> None:
    """Process events (sleeping while there are none) until ``done()`` or the timeout."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(2)
    timer.timeout.connect(lambda: loop.quit() if done() else None)
    timer.start()
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)
    deadline.start(int(timeout_s * 1000))
    loop.exec()
    timer.stop()
    deadline.stop()
    app.processEvents()


def elapsed_ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000
