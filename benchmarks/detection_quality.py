"""detection_quality: event-level quality on held-out audio, model vs a tuned DSP baseline.

Training set: the shipped demo files (resources/demo, manifest labels); the
model is trained at the default config (``train_model`` itself holds 20% of
those files out for its validation metrics and tunes its thresholds on the
rest). The baseline (benchmarks/_ml_baseline.py) has its thresholds tuned on
all ten demo files. Nothing is tuned on the held-out files.

Held-out sets (benchmarks/_heldout_audio.py): new voices and sentences with
injected noise bursts and dropouts (glitch), clicks and 0.8-2 s pauses;
``clean`` is demo-like, ``hard`` adds room tone under everything and longer
natural pauses between sentences that are not artifacts.

Per variant, method and type: precision, recall, F1 (a detection matches a
label of the same type that it overlaps, one-to-one), and the median start
and end error (ms) of matched events. Model detections use
``relay_server.ml.EVAL_CONFIG`` (threshold 0.5 = the tuned operating point,
merge 200 ms, no minimum duration, since clicks last 2-5 ms).

Value: the model's glitch F1 on the clean set; baseline: the baseline's.
Targets (clean set): F1 >= 0.8 long_pause and >= 0.6 glitch, glitch above
the baseline, long_pause at least the baseline's, median edge errors <= 50
ms. ``hard_met`` says the same of the hard set. ``--quick``: 3 files a set.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from benchmarks import result
from benchmarks._heldout_audio import heldout_set
from benchmarks._ml_baseline import Rules, Signals, detect_rules, tune
from benchmarks._ml_common import TYPES, demo_files, demo_model
from relay_server.ml import EVAL_CONFIG, Detection, TrainedModel, match_events
from relay_server.ml.detect import Analysis, analyse, detect_in
from relay_server.ml.events import Event

TARGETS = {"long_pause": 0.8, "glitch": 0.6}
MAX_EDGE_MS = 50.0


def _scores(truth: Mapping[str, Sequence[Event]], found: Mapping[str, Sequence[Event]],
            kinds: Mapping[tuple[str, int], str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for t in TYPES:
        tp = fp = fn = 0
        starts: list[int] = []
        ends: list[int] = []
        missed_by_kind: dict[str, int] = {}
        for key in truth:
            labels = [e for e in truth[key] if e.artifact_type == t]
            dets = [e for e in found.get(key, ()) if e.artifact_type == t]
            m = match_events(labels, dets)
            tp += len(m.pairs)
            fp += len(m.spurious)
            fn += len(m.missed)
            starts += [abs(d.start_ms - g.start_ms) for g, d in m.pairs]
            ends += [abs(d.end_ms - g.end_ms) for g, d in m.pairs]
            for g in m.missed:
                kind = kinds.get((key, g.start_ms), "?")
                missed_by_kind[kind] = missed_by_kind.get(kind, 0) + 1
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        out[t] = {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f1, 3),
                  "support": tp + fn, "detections": tp + fp,
                  "median_start_error_ms": statistics.median(starts) if starts else None,
                  "median_end_error_ms": statistics.median(ends) if ends else None,
                  "missed_by_kind": missed_by_kind}
    return out


def _evaluate(model: TrainedModel, rules: Rules, variant: str, count: int) -> dict[str, Any]:
    truth: dict[str, list[Detection]] = {}
    kinds: dict[tuple[str, int], str] = {}
    by_model: dict[str, list[Detection]] = {}
    by_rules: dict[str, list[Detection]] = {}
    for f in heldout_set(variant, count):
        key = f.path.name
        truth[key] = [Detection(str(a["artifact_type"]), int(str(a["start_ms"])),
                                int(str(a["end_ms"])), 1.0) for a in f.annotations]
        kinds.update({(key, int(str(a["start_ms"]))): str(a["kind"]) for a in f.annotations})
        analysis = analyse(f.path, model.chunk_size_ms, model.stride_ms)
        by_model[key] = detect_in(model, analysis, EVAL_CONFIG)
        by_rules[key] = detect_rules(Signals.of(analysis.frames), rules, TYPES)
    return {"files": len(truth), "model": _scores(truth, by_model, kinds),
            "baseline": _scores(truth, by_rules, kinds)}


def _met(scores: dict[str, Any]) -> bool:
    model, base = scores["model"], scores["baseline"]
    ok = all(model[t]["f1"] >= goal for t, goal in TARGETS.items())
    ok = ok and model["glitch"]["f1"] > base["glitch"]["f1"]
    ok = ok and model["long_pause"]["f1"] >= base["long_pause"]["f1"]
    for t in TARGETS:
        for edge in ("median_start_error_ms", "median_end_error_ms"):
            value = model[t][edge]
            ok = ok and value is not None and value <= MAX_EDGE_MS
    return bool(ok)


def run(quick: bool) -> dict[str, Any]:
    count = 3 if quick else 8
    model = demo_model()
    train = demo_files()
    signals = {}
    for f in train:
        analysis: Analysis = analyse(f.path, model.chunk_size_ms, model.stride_ms)
        signals[f.audio_id] = Signals.of(analysis.frames)
    labels = {f.audio_id: [Detection(r.artifact_type, r.start_ms, r.end_ms, 1.0)
                           for r in f.regions] for f in train}
    rules = tune(signals, labels, TYPES)
    clean = _evaluate(model, rules, "clean", count)
    hard = _evaluate(model, rules, "hard", count)
    value = clean["model"]["glitch"]["f1"]
    baseline = clean["baseline"]["glitch"]["f1"]
    return result("detection_quality", value, baseline, "glitch F1 (clean held-out)",
                  "clean: F1 long_pause >= 0.8, glitch >= 0.6 and > baseline, long_pause >= "
                  "baseline, median edge error <= 50 ms", _met(clean),
                  hard_met=_met(hard), clean=clean, hard=hard,
                  model_thresholds=model.info.get("thresholds"),
                  model_validation_metrics=model.eval_metrics,
                  baseline_rules=rules.__dict__)
