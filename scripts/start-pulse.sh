#!/usr/bin/env bash
# Start a PulseAudio daemon with a null sink so playback tests have a real
# audio output on machines without a sound card. Safe to run twice.
#
# The daemon listens on a fixed socket with anonymous auth, so any process
# finds it whatever its XDG folders (the test suite sandboxes them):
#   export PULSE_SERVER=unix:${RELAY_PULSE_DIR:-/tmp/relay-pulse-$(id -u)}/native
# Works as root too (no --system needed: -n skips the default configuration).
# Stop it with:  kill "$(cat /tmp/relay-pulse-$(id -u)/pid)"
set -u
DIR="${RELAY_PULSE_DIR:-/tmp/relay-pulse-$(id -u)}"
SOCKET="$DIR/native"
export PULSE_SERVER="unix:$SOCKET"
command -v pulseaudio >/dev/null 2>&1 || { echo "pulseaudio not installed; playback tests will skip"; exit 0; }
if ! pactl info >/dev/null 2>&1; then
  mkdir -p "$DIR/state" && chmod 700 "$DIR"
  rm -f "$SOCKET"
  PULSE_RUNTIME_PATH="$DIR" PULSE_STATE_PATH="$DIR/state" \
    pulseaudio --daemonize=yes -n --exit-idle-time=-1 --disallow-exit=yes --disable-shm=yes \
      --load="module-native-protocol-unix socket=$SOCKET auth-anonymous=1" \
      --load="module-null-sink sink_name=relay_null" \
      --log-target="file:$DIR/pulse.log" >/dev/null 2>&1 || true
  for _ in $(seq 1 50); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
fi
if pactl info >/dev/null 2>&1; then
  pactl list short sinks 2>/dev/null | grep -q relay_null ||
    pactl load-module module-null-sink sink_name=relay_null >/dev/null
  pactl set-default-sink relay_null >/dev/null 2>&1 || true
  echo "PULSE_SERVER=$PULSE_SERVER"
  echo "PulseAudio null sink ready"
else
  echo "PulseAudio did not start; playback tests will skip"
fi
