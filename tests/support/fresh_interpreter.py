"""Running a probe script in a fresh interpreter, for what importing must (not) do."""

from __future__ import annotations

import os
import subprocess
import sys


def assert_probe_passes(code: str, timeout_s: float | None = 60) -> None:
    """Run ``code`` with ``python -c`` (Qt offscreen); it must exit 0 printing only "ok"."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout_s, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
