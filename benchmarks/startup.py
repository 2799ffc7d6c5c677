"""startup: launching the packaged app to its first painted main window, against the source tree.

Each launch opens the local demo workspace (``--local``) on the offscreen
platform in its own HOME, with ``RELAY_STARTUP_PROBE`` set so the app prints the
time of the main window's first paint and of the workspace being connected
(relay_desktop/services/startup_probe.py). Wall time runs from just before the
process is started. Cold: a fresh HOME (Relay Local creates and seeds the demo
workspace; the launch waits until it is connected). Warm: later launches with the
same HOME (waiting for the first paint only). The baseline is the source tree's
``relay-desktop`` in the same run, same HOME layout. Target: warm start under
2 s, and the packaged app no slower than the source tree.

Needs the packaged build (``make package``); without it the result says so.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import result

ROOT = Path(__file__).resolve().parent.parent
PACKAGED = Path(os.environ.get("RELAY_PACKAGE_DIST") or ROOT / "dist") / "relay-desktop" \
    / "relay-desktop"
TARGET_S = 2.0


def source_command() -> list[str]:
    script = ROOT / ".venv" / "bin" / "relay-desktop"
    return [str(script)] if script.exists() else [sys.executable, "-m", "relay_desktop"]


def _env(home: Path, probe: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RELAY_", "XDG_", "PYTHON", "QT_", "DBUS_"))}
    env.update(HOME=str(home), QT_QPA_PLATFORM="offscreen", RELAY_STARTUP_PROBE=probe,
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    return env


def launch(command: list[str], home: Path, probe: str, timeout: float = 300.0
           ) -> dict[str, float]:
    """Start the app once; seconds from launch to each probe event (and to exit)."""
    start = time.time()
    proc = subprocess.run([*command, "--local"], env=_env(home, probe), capture_output=True,
                          text=True, timeout=timeout, cwd=home)
    ended = time.time()
    times: dict[str, float] = {"exit": ended - start}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "relay-startup":
            times[parts[1]] = float(parts[2]) - start
    if proc.returncode != 0 or "first-paint" not in times:
        raise RuntimeError(f"{command[0]} failed (exit {proc.returncode}): "
                           f"{proc.stderr.strip()[-1500:]}")
    return times


def run(quick: bool = False) -> dict[str, Any]:
    if not PACKAGED.is_file():
        return result("startup", 0.0, 0.0, "s", f"warm < {TARGET_S} s, packaged <= source",
                      False, ratio=0.0, skipped=f"no packaged build at {PACKAGED}: "
                                                 "run `make package` first")
    warm_runs = 2 if quick else 5
    apps = {"packaged": [str(PACKAGED)], "source": source_command()}
    cold: dict[str, dict[str, float]] = {}
    warm: dict[str, list[float]] = {name: [] for name in apps}
    with tempfile.TemporaryDirectory(prefix="relay-startup-") as tmp:
        homes = {name: Path(tmp) / name for name in apps}
        for name, command in apps.items():
            homes[name].mkdir()
            cold[name] = launch(command, homes[name], "connected")
        for _ in range(warm_runs):  # interleaved, so load on the machine hits both alike
            for name, command in apps.items():
                warm[name].append(launch(command, homes[name], "first-paint")["first-paint"])
    value = statistics.median(warm["packaged"])
    baseline = statistics.median(warm["source"])
    return result(
        "startup", value, baseline, "s", f"warm < {TARGET_S} s, packaged <= source",
        value < TARGET_S and value <= baseline,
        warm_runs=warm_runs,
        warm_packaged_s=[round(t, 3) for t in warm["packaged"]],
        warm_source_s=[round(t, 3) for t in warm["source"]],
        cold_first_paint_packaged_s=round(cold["packaged"]["first-paint"], 3),
        cold_first_paint_source_s=round(cold["source"]["first-paint"], 3),
        cold_connected_packaged_s=round(cold["packaged"].get("connected", float("nan")), 3),
        cold_connected_source_s=round(cold["source"].get("connected", float("nan")), 3),
    )
