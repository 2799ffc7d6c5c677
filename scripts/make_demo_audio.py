"""Regenerate the shipped demo audio (resources/demo/) with espeak-ng, numpy and soundfile.

Run at development time; its output is committed:

    .venv/bin/python scripts/make_demo_audio.py

Ten files of real synthetic speech (several espeak-ng voices, speeds and
pitches, 35-50 s each) into which TTS-style artifacts are injected at known
positions: glitches (noise bursts, dropouts, stutters), clicks (impulses of
a few milliseconds) and long pauses (inserted silences of 1.2-2.4 s). The
audio is stored as 16 kHz mono Ogg Vorbis, and every injected artifact is
listed in manifest.json (the ground truth ``relay-server seed-demo`` loads).
The output is deterministic for a given espeak-ng version (fixed seed).

Two further held-out recordings (``heldout-*.ogg``, listed under
``heldout_files`` in the manifest) use voices and sentences the dataset does
not, with artifacts injected the same way: ``seed-demo`` runs the demo model
over them, so a first run shows detections on audio the model never saw.
``--heldout-only`` regenerates just those and leaves the dataset files alone.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

RATE = 16_000
OUT_DIR = Path(__file__).resolve().parent.parent / "resources" / "demo"
SEED = 20261129

ARTIFACT_TYPES = [
    {"name": "glitch", "description": "A short burst of noise, a dropout or a stutter "
                                      "(20-120 ms) inside speech", "color": "#E5484D"},
    {"name": "long_pause", "description": "An unnatural silence longer than one second "
                                          "inside an utterance", "color": "#3E63DD"},
    {"name": "click", "description": "A click or pop of a few milliseconds",
     "color": "#F5A524"},
]

VOICES = [
    ("en-us", 165, 50), ("en-gb+f3", 155, 60), ("en-gb-scotland", 160, 45),
    ("en-us+m3", 175, 40), ("en-gb-x-rp+f2", 150, 65), ("en-029", 160, 50),
    ("en-us-nyc+m2", 170, 45), ("en-gb+f4", 158, 70), ("en-us+f5", 162, 55),
    ("en-gb-x-gbclan", 168, 48),
]

SENTENCES = [
    "Welcome back to the evening news, where we look at the stories that shaped the day.",
    "The weather service expects light rain in the morning, clearing by the afternoon.",
    "Your package has been shipped, and it should arrive within three business days.",
    "Please hold while we connect you to the next available representative.",
    "The museum opens at nine, and tickets for the special exhibition sell out quickly.",
    "To reset your password, follow the link we sent to your email address.",
    "In the second chapter, the explorers finally reach the edge of the frozen sea.",
    "Traffic on the northern bridge is moving slowly because of roadworks.",
    "Thank you for calling, your feedback helps us improve our service.",
    "The recipe needs two cups of flour, a pinch of salt, and a little patience.",
    "Scientists have discovered a new species of frog in the mountain forests.",
    "Your meeting with the design team has been moved to half past three.",
    "The train to the airport departs from platform four in ten minutes.",
    "Remember to stretch your legs and drink some water during long flights.",
    "The library will host a reading for children every Saturday morning.",
    "Our quarterly results show steady growth across all regions.",
    "If you would like to hear these options again, press the star key.",
    "The concert was postponed, but all tickets remain valid for the new date.",
    "A gentle breeze carried the smell of fresh bread down the narrow street.",
    "Please make sure your seat belt is fastened while the sign is on.",
    "The final match of the season drew the largest crowd in a decade.",
    "Turn left at the next intersection, then continue straight for two miles.",
    "This lesson explains how plants turn sunlight into energy.",
    "Our support team is available every day from eight in the morning.",
    "The old lighthouse has guided ships along this coast for two centuries.",
    "Battery level is low, please connect your device to a charger.",
    "Every voice assistant should sound natural, clear, and friendly.",
    "The committee will announce the winners at the end of the ceremony.",
    "Fresh vegetables are on sale at the market until the end of the week.",
    "After the storm, volunteers helped clear the fallen trees from the park.",
    "Your appointment is confirmed for Tuesday at eleven fifteen.",
    "The documentary follows a family of elephants across the savanna.",
    "We have updated our privacy policy, and you can read it on our website.",
    "The bakery on the corner makes the best cinnamon rolls in town.",
    "Astronomers will be watching the meteor shower late tonight.",
    "Press one for billing, press two for technical support.",
    "The river flooded the lower fields, but the village stayed dry.",
    "Good morning, here is a summary of your calendar for today.",
    "The marathon route passes through the historic centre of the city.",
    "Sound engineers spend hours listening for tiny clicks and glitches.",
]


# voices and texts the dataset files never use
HELDOUT_SEED = 20261203
HELDOUT_VOICES = [("en-gb-x-gbcwmd", 158, 52), ("en-us+Annie", 164, 62)]
HELDOUT_SENTENCES = [
    "The harbour master reported calm water and a light wind from the west.",
    "Your order number is on the receipt, next to the date of purchase.",
    "Tomorrow's lecture covers the history of printing, from clay tablets to presses.",
    "Please speak clearly after the tone, and then press the hash key.",
    "The garden club meets on the first Thursday of every month.",
    "Passengers for the ferry should have their boarding cards ready.",
    "A new cycling path now links the station with the university campus.",
    "The orchestra tuned their instruments while the audience found their seats.",
    "Water the seedlings every evening, but never let the soil turn to mud.",
    "Our records show that your subscription renews at the end of March.",
    "The mountain pass is closed tonight because of heavy snow.",
    "Listeners can send their questions to the studio by text message.",
    "The painter mixed a deep blue for the sky above the quiet village.",
    "This recording explains how to assemble the bookshelf in five steps.",
]


def synth(text: str, voice: str, speed: int, pitch: int, tmp: Path) -> np.ndarray:
    """Speak ``text`` with espeak-ng; return 16 kHz mono float32 with silence trimmed."""
    wav = tmp / "s.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w",
                    str(wav), text], check=True, capture_output=True)
    audio, rate = sf.read(wav, dtype="float32")
    if audio.ndim > 1:
        audio = audio.mean(axis=1)
    g = np.gcd(rate, RATE)
    audio = resample_poly(audio, RATE // g, rate // g).astype(np.float32)
    loud = np.flatnonzero(np.abs(audio) > 0.01)
    return audio[loud[0]:loud[-1] + 1] if len(loud) else audio


def split_for_pause(sentence: str) -> tuple[str, str]:
    """Split a sentence where a TTS engine might stall: at a comma, else mid-sentence."""
    if "," in sentence:
        first, second = sentence.split(",", 1)
        return first + ",", second.strip()
    words = sentence.split()
    middle = len(words) // 2
    return " ".join(words[:middle]), " ".join(words[middle:])


def speech_positions(audio: np.ndarray, occupied: list[tuple[int, int]],
                     rng: np.random.Generator, length: int) -> int:
    """A start sample inside speech, away from other artifacts."""
    win = RATE // 20
    energy = np.convolve(audio ** 2, np.ones(win) / win, mode="same")
    candidates = np.flatnonzero(energy > 0.004)
    margin = RATE * 4 // 10
    for _ in range(1000):
        start = int(rng.choice(candidates))
        end = start + length
        if end >= len(audio) - RATE // 2 or start < RATE // 2:
            continue
        if all(end + margin < a or start > b + margin for a, b in occupied):
            return start
    raise RuntimeError("no room for another artifact")


def ms(sample: int) -> int:
    return round(sample * 1000 / RATE)


def build_file(index: int, rng: np.random.Generator, tmp: Path, *,
               voices: list[tuple[str, int, int]] = VOICES,
               sentences: list[str] = SENTENCES, prefix: str = "demo",
               seconds: tuple[int, int] = (35, 50)) -> tuple[np.ndarray, dict]:
    """One recording with injected artifacts; ``voices[index]`` speaks ``sentences``."""
    voice, speed, pitch = voices[index]
    order = rng.permutation(len(sentences))
    target = RATE * int(rng.integers(*seconds))
    pieces: list[np.ndarray] = [np.zeros(RATE // 4, dtype=np.float32)]
    pauses: list[tuple[int, int]] = []
    texts: list[str] = []
    n_pauses = int(rng.integers(1, 3))
    pause_after = set(rng.choice(np.arange(0, 6), size=n_pauses, replace=False).tolist())
    total = len(pieces[0])
    for count, idx in enumerate(order):
        if total >= target:
            break
        sentence = sentences[idx]
        texts.append(sentence)
        if count in pause_after:
            first, second = split_for_pause(sentence)
            a = synth(first, voice, speed, pitch, tmp)
            b = synth(second, voice, speed, pitch, tmp)
            gap = int(RATE * rng.uniform(1.2, 2.4))
            pieces += [a, np.zeros(gap, dtype=np.float32), b]
            pauses.append((total + len(a), total + len(a) + gap))
            total += len(a) + gap + len(b)
        else:
            spoken = synth(sentence, voice, speed, pitch, tmp)
            pieces.append(spoken)
            total += len(spoken)
        gap = int(RATE * rng.uniform(0.25, 0.6))
        pieces.append(np.zeros(gap, dtype=np.float32))
        total += gap
    audio = np.concatenate(pieces)
    audio *= 0.6 / max(1e-6, float(np.abs(audio).max()))

    occupied = list(pauses)
    annotations = [{"artifact_type": "long_pause", "start_ms": ms(a), "end_ms": ms(b),
                    "kind": "inserted silence"} for a, b in pauses]
    for _ in range(int(rng.integers(3, 6))):
        kind = str(rng.choice(["burst", "dropout", "stutter"]))
        length = int(RATE * rng.uniform(0.02, 0.12))
        start = speech_positions(audio, occupied, rng, length)
        end = start + length
        if kind == "burst":
            audio[start:end] = (rng.uniform(0.3, 0.55) * rng.standard_normal(length)
                                ).astype(np.float32)
        elif kind == "dropout":
            audio[start:end] = 0.0
        else:
            grain = max(RATE // 100, length // 4)
            chunk = audio[start:start + grain].copy()
            for k in range(start, end, grain):
                audio[k:min(end, k + grain)] = chunk[:min(grain, end - k)]
        occupied.append((start, end))
        annotations.append({"artifact_type": "glitch", "start_ms": ms(start),
                            "end_ms": max(ms(end), ms(start) + 1), "kind": kind})
    for _ in range(int(rng.integers(3, 6))):
        length = int(RATE * rng.uniform(0.002, 0.005))
        start = speech_positions(audio, occupied, rng, length)
        sign = 1.0 if rng.random() < 0.5 else -1.0
        decay = np.exp(-np.arange(length) / (length / 4)).astype(np.float32)
        audio[start:start + length] += sign * 0.9 * decay * np.where(
            np.arange(length) % 2 == 0, 1.0, -0.6).astype(np.float32)
        occupied.append((start, start + length))
        annotations.append({"artifact_type": "click", "start_ms": ms(start),
                            "end_ms": max(ms(start + length), ms(start) + 2), "kind": "impulse"})
    np.clip(audio, -1.0, 1.0, out=audio)
    annotations.sort(key=lambda a: (a["start_ms"], a["artifact_type"]))
    name = f"{prefix}-{index + 1:02d}-{voice.split('+')[0]}.ogg"
    meta = {"filename": name, "voice": voice, "speed_wpm": speed, "pitch": pitch,
            "duration_ms": ms(len(audio)), "text": " ".join(texts), "annotations": annotations}
    return audio, meta


def write_files(out: Path, prefix: str, tmp: Path, quality: float, rng: np.random.Generator,
                **options: object) -> list[dict]:
    """Build and write ``prefix-*.ogg`` (one per voice); return their manifest entries."""
    for old in out.glob(f"{prefix}-*.ogg"):
        old.unlink()
    voices = options.get("voices", VOICES)
    assert isinstance(voices, list)
    files = []
    for index in range(len(voices)):
        audio, meta = build_file(index, rng, tmp, prefix=prefix,
                                 **options)  # type: ignore[arg-type]
        sf.write(out / meta["filename"], audio, RATE, format="OGG", subtype="VORBIS",
                 compression_level=quality)
        files.append(meta)
        print(f"{meta['filename']}: {meta['duration_ms'] / 1000:.1f} s, "
              f"{len(meta['annotations'])} artifacts", file=sys.stderr)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--quality", type=float, default=0.25,
                        help="Vorbis compression level, 0 (best quality) .. 1 (smallest)")
    parser.add_argument("--heldout-only", action="store_true",
                        help="regenerate only the held-out recordings (the dataset files and "
                             "their manifest entries stay as they are)")
    args = parser.parse_args(argv)
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is not installed (apt-get install espeak-ng)", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        heldout = write_files(args.out, "heldout", Path(tmp), args.quality,
                              np.random.default_rng(HELDOUT_SEED), voices=HELDOUT_VOICES,
                              sentences=HELDOUT_SENTENCES, seconds=(30, 36))
        if args.heldout_only:
            manifest = json.loads((args.out / "manifest.json").read_text())
            manifest["heldout_files"] = heldout
            (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
            return 0
        files = write_files(args.out, "demo", Path(tmp), args.quality,
                            np.random.default_rng(SEED))
    manifest = {
        "name": "TTS Glitch Detection (demo)",
        "description": "Synthetic speech (espeak-ng) with glitches, clicks and long pauses "
                       "injected at known positions; the published set v1 is the ground truth.",
        "sample_rate": RATE,
        "artifact_types": ARTIFACT_TYPES,
        "generator": "scripts/make_demo_audio.py",
        "files": files,
        "heldout_files": heldout,
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    total = sum(f["duration_ms"] for f in files) / 1000
    size = sum((args.out / f["filename"]).stat().st_size for f in files) / 1e6
    print(f"{len(files)} files, {total:.0f} s of audio, {size:.2f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
