"""``relay-desktop --screenshot``: a real start on the local workspace, a PNG, exit status 0."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]


def _run(tmp_path: Path, *args: str, xvfb: bool = False) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["RELAY_DESKTOP_HOME"] = str(tmp_path / "home")
    cmd = [sys.executable, "-m", "relay_desktop", *args]
    if xvfb:
        env.pop("QT_QPA_PLATFORM", None)
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", *cmd]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)


def _check_png(path: Path, width: int, height: int) -> None:
    image = QImage(str(path))
    assert not image.isNull(), "the PNG could not be read"
    assert (image.width(), image.height()) == (width, height)
    colours = {image.pixel(x, y) for x in range(0, width, 23) for y in range(0, height, 17)}
    assert len(colours) > 20, "the window looks blank"


def test_screenshot_of_the_local_workspace(tmp_path: Path) -> None:
    out = tmp_path / "shots" / "main.png"
    result = _run(tmp_path, "--screenshot", str(out), "--local", "--size", "1200x760")
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"Wrote {out}" in result.stdout
    _check_png(out, 1200, 760)
    assert not (tmp_path / "home" / "config" / "window.ini").exists(), \
        "a screenshot run must not overwrite the user's layout"

    if shutil.which("xvfb-run") is None:
        pytest.skip("xvfb-run is not installed: the real-window half is not run")
    # the same workspace in a real X window (already seeded, so this run is quicker)
    x11 = tmp_path / "x11.png"
    result = _run(tmp_path, "--screenshot", str(x11), "--size", "1000x700", xvfb=True)
    assert result.returncode == 0, result.stderr[-2000:]
    _check_png(x11, 1000, 700)


def test_a_bad_size_is_refused_with_a_sentence(tmp_path: Path) -> None:
    result = _run(tmp_path, "--screenshot", str(tmp_path / "x.png"), "--size", "huge")
    assert result.returncode == 2
    assert "--size must look like 1400x860" in result.stderr
    assert not (tmp_path / "x.png").exists()
