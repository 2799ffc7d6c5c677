#!/usr/bin/env bash
# Install what is missing, then open Relay Desktop on the local workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/python -m relay_desktop --local "$@"
