#!/usr/bin/env bash
# Start a PulseAudio daemon with a null sink so playback tests have a real
# audio output on machines without a sound card. Safe to run twice.
set -u
command -v pulseaudio >/dev/null 2>&1 || { echo "pulseaudio not installed; playback tests will skip"; exit 0; }
if ! pactl info >/dev/null 2>&1; then
  pulseaudio --daemonize=yes --exit-idle-time=-1 --disallow-exit=yes --log-target=stderr \
    >/dev/null 2>&1 || true
  for _ in $(seq 1 50); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
fi
if pactl info >/dev/null 2>&1; then
  pactl list short sinks 2>/dev/null | grep -q relay_null ||
    pactl load-module module-null-sink sink_name=relay_null >/dev/null
  pactl set-default-sink relay_null >/dev/null 2>&1 || true
  echo "PulseAudio null sink ready"
else
  echo "PulseAudio did not start; playback tests will skip"
fi
