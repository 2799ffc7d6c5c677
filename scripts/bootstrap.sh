#!/usr/bin/env bash
# Prepare everything Relay Desktop needs on this machine, idempotently:
# the Debian packages Qt and the test suite need (when root or sudo is
# available, otherwise a clear list to install), a virtual environment in
# .venv, and the project installed into it (with development tools when
# called with --dev).
set -euo pipefail
cd "$(dirname "$0")/.."

DEV=0
[ "${1:-}" = "--dev" ] && DEV=1

RUNTIME_DEBS=(libpulse0 libsndfile1 libegl1 libgl1 libfontconfig1 libdbus-1-3 libxkbcommon0
  libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 fonts-dejavu-core fonts-noto-color-emoji
  espeak-ng)
TEST_DEBS=(pulseaudio pulseaudio-utils xvfb xauth sox redis-server)
DEBS=("${RUNTIME_DEBS[@]}")
[ "$DEV" = 1 ] && DEBS+=("${TEST_DEBS[@]}")

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in "${DEBS[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; else SUDO="none"; fi
  fi
  if [ "$SUDO" = none ]; then
    echo "Relay Desktop needs these Debian/Ubuntu packages, which are not installed:" >&2
    echo "  sudo apt-get install ${missing[*]}" >&2
    echo "Run that command (or run this script as root), then try again." >&2
    exit 1
  fi
  echo "Installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Relay Desktop needs Python 3.11 or newer (found: $("$PY" --version 2>&1))." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "Creating the virtual environment in .venv"
  "$PY" -m venv .venv || {
    echo "Could not create a virtual environment; install python3-venv and retry." >&2; exit 1; }
fi

stamp=.venv/.relay-installed$([ "$DEV" = 1 ] && echo -dev || true)
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "Installing Python packages into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  if [ "$DEV" = 1 ]; then
    .venv/bin/python -m pip install -q -e '.[dev]'
  else
    .venv/bin/python -m pip install -q -e .
  fi
  touch "$stamp"
fi
