"""Held-out audio for ``detection_quality``: demo-style files the detector never trains on.

Made like resources/demo (espeak-ng speech, 16 kHz, Ogg Vorbis at the same
quality, functions of scripts/make_demo_audio.py) but with other voices and
other sentences. Injected: glitches (noise bursts and dropouts, 20-120 ms),
clicks (2-5 ms impulses) and long pauses (0.8-2 s silences inside a
sentence). Two variants:

- ``clean``: digital silence between sentences (0.25-0.6 s), as in the demo;
- ``hard``: room tone (filtered noise 30-45 dB under the speech) under
  everything, and longer natural pauses between sentences (0.5-0.75 s) that
  are NOT artifacts.

Generated once into the benchmark cache (keyed by ``GENERATOR_VERSION``).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
import soundfile as sf
from scipy.signal import lfilter

from benchmarks._ml_common import ROOT, cache_dir

GENERATOR_VERSION = 1
SEED = 4242

VOICES = [
    ("en-gb-x-gbcwmd", 160, 52), ("en-us+m1", 170, 42), ("en-gb-scotland+f1", 155, 62),
    ("en-029+m4", 165, 48), ("en-gb-x-rp+m7", 158, 45), ("en-us-nyc+f3", 168, 58),
    ("en-gb+m6", 172, 44), ("en-us+klatt", 160, 50),
]

SENTENCES = [
    "The harbour master raised the storm flag, and the fishing boats stayed in port.",
    "Our new timetable starts on Monday, so please check your usual departure times.",
    "She planted tomatoes along the fence, where the afternoon sun is strongest.",
    "Your subscription renews next month unless you cancel it before the fifteenth.",
    "The orchestra tuned their instruments while the audience found their seats.",
    "A short survey will follow this call, and it takes about two minutes.",
    "The bridge was painted bright red so that ships could see it through the fog.",
    "Children under twelve travel free when they are with a paying adult.",
    "The professor paused, looked at the board, and crossed out the last equation.",
    "Heavy snow is expected in the hills, so drivers should carry warm clothing.",
    "The gallery has extended its opening hours for the summer holidays.",
    "He folded the map carefully and put it back inside his coat pocket.",
    "Please leave your message after the tone, and we will call you back.",
    "The restaurant changes its menu every season to use local produce.",
    "Engineers replaced the old cables, and the lights came back on at midnight.",
    "The spelling competition ended in a tie between two very nervous students.",
    "Your order includes three items, one of which will be delivered separately.",
    "The festival parade starts at noon and finishes near the town hall.",
    "Most birds in the garden are sparrows, but a robin visits every morning.",
    "To change the language, open the settings menu and choose your region.",
    "The captain announced that we will land twenty minutes ahead of schedule.",
    "An old clock in the hallway chimes softly at the top of every hour.",
    "The volunteers counted the votes twice before they announced the result.",
    "Fresh coffee is served in the lobby from seven until half past nine.",
    "The mountain path is steep, so take your time and rest when you need to.",
    "This recording is part of a study on how people describe the weather.",
    "The shop around the corner repairs bicycles, watches, and old radios.",
    "When the rain stopped, a bright rainbow appeared over the quiet valley.",
]


@dataclass(frozen=True)
class HeldOutFile:
    path: Path
    duration_ms: int
    annotations: list[dict[str, object]]


def _demo_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_demo_audio", ROOT / "scripts" / "make_demo_audio.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _room_tone(rng: np.random.Generator, n: int, level: float) -> np.ndarray:
    """Brownish noise with a slow wobble: the hum and hiss of a room."""
    white = rng.standard_normal(n)
    brown = lfilter([1.0], [1.0, -0.97], white)
    tone = 0.6 * brown / (np.std(brown) + 1e-9) + 0.4 * white
    wobble = 1.0 + 0.2 * np.sin(2 * np.pi * rng.uniform(0.05, 0.2) * np.arange(n) / 16_000)
    return (level * tone * wobble / np.std(tone)).astype(np.float32)


def _build(index: int, hard: bool, rng: np.random.Generator, demo: ModuleType,
           tmp: Path) -> tuple[np.ndarray, list[dict[str, object]]]:
    rate = demo.RATE
    voice, speed, pitch = VOICES[index % len(VOICES)]
    order = rng.permutation(len(SENTENCES))
    target = rate * int(rng.integers(30, 42))
    pieces: list[np.ndarray] = [np.zeros(rate // 4, dtype=np.float32)]
    pauses: list[tuple[int, int]] = []
    total = len(pieces[0])
    pause_after = set(rng.choice(np.arange(0, 6), size=int(rng.integers(1, 3)),
                                 replace=False).tolist())
    gap_range = (0.5, 0.75) if hard else (0.25, 0.6)
    for count, idx in enumerate(order):
        if total >= target:
            break
        sentence = SENTENCES[idx]
        if count in pause_after:
            first, second = demo.split_for_pause(sentence)
            a = demo.synth(first, voice, speed, pitch, tmp)
            b = demo.synth(second, voice, speed, pitch, tmp)
            gap = int(rate * rng.uniform(0.8, 2.0))
            pieces += [a, np.zeros(gap, dtype=np.float32), b]
            pauses.append((total + len(a), total + len(a) + gap))
            total += len(a) + gap + len(b)
        else:
            spoken = demo.synth(sentence, voice, speed, pitch, tmp)
            pieces.append(spoken)
            total += len(spoken)
        gap = int(rate * rng.uniform(*gap_range))
        pieces.append(np.zeros(gap, dtype=np.float32))
        total += gap
    audio = np.concatenate(pieces)
    audio *= 0.6 / max(1e-6, float(np.abs(audio).max()))
    if hard:
        level = 0.6 * 10 ** (-rng.uniform(30, 45) / 20) / 3  # peak-relative, roughly RMS
        audio += _room_tone(rng, len(audio), level)
    occupied = list(pauses)
    notes: list[dict[str, object]] = [
        {"artifact_type": "long_pause", "start_ms": demo.ms(a), "end_ms": demo.ms(b),
         "kind": "inserted silence"} for a, b in pauses]
    for _ in range(int(rng.integers(3, 6))):
        kind = str(rng.choice(["burst", "dropout"]))
        length = int(rate * rng.uniform(0.02, 0.12))
        start = demo.speech_positions(audio, occupied, rng, length)
        end = start + length
        if kind == "burst":
            audio[start:end] = (rng.uniform(0.3, 0.55) * rng.standard_normal(length)
                                ).astype(np.float32)
        else:
            audio[start:end] = 0.0
        occupied.append((start, end))
        notes.append({"artifact_type": "glitch", "start_ms": demo.ms(start),
                      "end_ms": max(demo.ms(end), demo.ms(start) + 1), "kind": kind})
    for _ in range(int(rng.integers(3, 6))):
        length = int(rate * rng.uniform(0.002, 0.005))
        start = demo.speech_positions(audio, occupied, rng, length)
        sign = 1.0 if rng.random() < 0.5 else -1.0
        decay = np.exp(-np.arange(length) / (length / 4)).astype(np.float32)
        audio[start:start + length] += sign * 0.9 * decay * np.where(
            np.arange(length) % 2 == 0, 1.0, -0.6).astype(np.float32)
        occupied.append((start, start + length))
        notes.append({"artifact_type": "click", "start_ms": demo.ms(start),
                      "end_ms": max(demo.ms(start + length), demo.ms(start) + 2),
                      "kind": "impulse"})
    np.clip(audio, -1.0, 1.0, out=audio)
    notes.sort(key=lambda a: (int(str(a["start_ms"])), str(a["artifact_type"])))
    return audio, notes


def _espeak_version() -> str:
    out = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True)
    return out.stdout.strip().split()[3] if len(out.stdout.split()) > 3 else "unknown"


def heldout_set(variant: str, count: int) -> list[HeldOutFile]:
    """``count`` held-out files of ``variant`` ("clean" or "hard"), generated once."""
    if variant not in ("clean", "hard"):
        raise ValueError(variant)
    folder = cache_dir() / f"heldout-v{GENERATOR_VERSION}-{_espeak_version()}-{variant}"
    manifest = folder / f"manifest-{count}.json"
    if manifest.exists():
        return [HeldOutFile(folder / f["filename"], f["duration_ms"], f["annotations"])
                for f in json.loads(manifest.read_text())]
    folder.mkdir(parents=True, exist_ok=True)
    demo = _demo_module()
    rng = np.random.default_rng(SEED + (1 if variant == "hard" else 0))
    listing = []
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(count):
            audio, notes = _build(index, variant == "hard", rng, demo, Path(tmp))
            name = f"heldout-{variant}-{index + 1:02d}.ogg"
            sf.write(folder / name, audio, demo.RATE, format="OGG", subtype="VORBIS",
                     compression_level=0.25)
            listing.append({"filename": name, "duration_ms": demo.ms(len(audio)),
                            "annotations": notes})
    manifest.write_text(json.dumps(listing, indent=1))
    return [HeldOutFile(folder / f["filename"], int(f["duration_ms"]), f["annotations"])
            for f in listing]
