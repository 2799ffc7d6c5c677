"""Smoke tests of the built package: the binary, the tarball and the .deb (not the source tree).

Skipped when ``make package`` has not been run (see conftest.built_binary).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

import psutil
import pytest
from PySide6.QtGui import QImage

from relay_desktop import __version__
from tests.packaging.conftest import built_artifact, built_binary, fresh_home_env, missing

ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def _leftovers(marker: str) -> list[str]:
    """Processes whose command line or working folder mentions ``marker``."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            cmdline = " ".join(proc.info["cmdline"] or [])
            if marker in cmdline:
                found.append(f"{proc.info['pid']}: {cmdline}")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def _check_png(path: Path, width: int, height: int) -> None:
    image = QImage(str(path))
    assert not image.isNull(), "the PNG could not be read"
    assert (image.width(), image.height()) == (width, height)
    colours = {image.pixel(x, y) for x in range(0, width, 23) for y in range(0, height, 17)}
    assert len(colours) > 20, "the window looks blank"


def test_the_built_binary_screenshots_the_local_workspace_in_a_fresh_home(
        tmp_path: Path) -> None:
    exe = built_binary()
    home = tmp_path / "home"
    shot = tmp_path / "shot.png"
    proc = subprocess.Popen([str(exe), "--screenshot", str(shot), "--local",
                             "--size", "1200x760"],
                            cwd=tmp_path, env=fresh_home_env(home), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, err = proc.communicate()
        pytest.fail(f"the packaged app did not finish in 300 s: {err[-2000:]}")
    assert proc.returncode == 0, err[-3000:]
    assert f"Wrote {shot}" in out
    _check_png(shot, 1200, 760)
    # Relay Local ran from inside the bundle, in the packaged app's own folders
    workspace = home / ".local" / "share" / "relay-desktop" / "local-workspace"
    assert (workspace / "server.log").is_file(), sorted(p.name for p in home.rglob("*"))[:40]
    assert (workspace / ".demo-seeded").is_file(), "the demo dataset was not seeded"
    assert not (home / ".local" / "share" / "relay-desktop-source").exists()
    # nothing is left running: not the app, not Relay Local (its --data-dir is in this home)
    deadline = time.monotonic() + 10
    while (left := _leftovers(str(home))) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left == [], f"processes left behind: {left}"


def test_the_built_binary_runs_relay_local_commands(tmp_path: Path) -> None:
    exe = built_binary()
    env = fresh_home_env(tmp_path / "home")
    out = subprocess.run([str(exe), "--run-server", "create-key", "--data-dir",
                          str(tmp_path / "data")], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1].strip()  # the key
    assert (tmp_path / "data" / "relay.sqlite3").is_file()  # migrations ran from the bundle


def test_the_tarball_holds_the_one_folder_build() -> None:
    tarball = built_artifact("relay-desktop-*-linux-*.tar.gz", "tarball")
    with tarfile.open(tarball) as tar:
        names = set(tar.getnames())
    for name in ("relay-desktop/relay-desktop",
                 "relay-desktop/_internal/relay_server/db/migrations/env.py",
                 "relay-desktop/_internal/resources/demo/manifest.json",
                 "relay-desktop/_internal/resources/icons/relay-desktop.svg"):
        assert name in names, name
    assert not any("QtWebEngine" in n or "/qml/" in n for n in names)


def test_the_deb_installs_into_a_scratch_root_and_reports_its_version(tmp_path: Path) -> None:
    if shutil.which("dpkg-deb") is None:
        missing("dpkg-deb is not installed (not a Debian-based system)")
    deb = built_artifact("relay-desktop_*.deb", "Debian package")
    fields = subprocess.run(["dpkg-deb", "-f", str(deb), "Package", "Version"],
                            capture_output=True, text=True, check=True).stdout
    assert "Package: relay-desktop" in fields and f"Version: {__version__}" in fields
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    launcher = root / "usr" / "bin" / "relay-desktop"
    assert launcher.is_symlink()
    assert launcher.resolve() == (root / "opt" / "relay-desktop" / "relay-desktop").resolve()
    assert (root / "usr/share/applications/relay-desktop.desktop").is_file()
    assert (root / "usr/share/metainfo/io.relay.RelayDesktop.metainfo.xml").is_file()
    icons = root / "usr/share/icons/hicolor"
    assert (icons / "scalable/apps/relay-desktop.svg").is_file()
    for size in ICON_SIZES:
        assert (icons / f"{size}x{size}/apps/relay-desktop.png").is_file(), size
    out = subprocess.run([str(launcher), "--version"], env=fresh_home_env(tmp_path / "home"),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    assert lines[0] == f"relay-desktop {__version__}"
    values = dict(line.split(":", 1) for line in lines[1:])
    assert "(packaged)" in values["Relay Desktop"]
    for name in ("Qt", "PySide6", "pyqtgraph", "libsndfile"):
        assert values[name].strip() and "unavailable" not in values[name], (name, values[name])
