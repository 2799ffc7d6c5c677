"""Detection in one file: decode, frame signals, window scores, runs, edges, post-processing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from relay_server.ml.audio import blocks_16k
from relay_server.ml.boundaries import Refiner
from relay_server.ml.config import InferenceConfig
from relay_server.ml.features import FrameFeatures, extract
from relay_server.ml.model import TrainedModel
from relay_server.ml.postprocess import postprocess
from relay_server.ml.records import Detection, DetectionResult
from relay_server.ml.windows import Grid, Levels, window_features
from relay_server.processing.errors import Interrupted


class DetectionCancelled(Interrupted):
    """``detect`` stopped because ``should_stop()`` said so."""


@dataclass(frozen=True)
class Analysis:
    """One file's frame signals, levels and window features at one window grid."""

    frames: FrameFeatures
    levels: Levels
    grid: Grid
    features: np.ndarray

    @classmethod
    def of(cls, frames: FrameFeatures, chunk_ms: int, stride_ms: int) -> Analysis:
        levels = Levels.of(frames)
        grid = Grid.for_slots(frames.slots, chunk_ms, stride_ms)
        return cls(frames, levels, grid, window_features(frames, grid, levels))


def analyse(path: Path, chunk_ms: int, stride_ms: int,
            should_stop: Callable[[], bool] | None = None,
            on_stop: Callable[[], Exception] | None = None) -> Analysis:
    """Decode ``path`` (AudioError if it cannot be) and compute its window features."""
    frames = extract(blocks_16k(path), should_stop, on_stop)
    return Analysis.of(frames, chunk_ms, stride_ms)


def events_from_scores(scores: np.ndarray, analysis: Analysis, types: Sequence[str],
                       strategies: Sequence[str], threshold: float) -> list[Detection]:
    """Candidate detections: each run of windows at or above ``threshold``, edges refined.

    The confidence of a candidate is the highest window score in its run.
    """
    grid = analysis.grid
    refiner = Refiner(analysis.frames, analysis.levels)
    duration = analysis.frames.duration_ms
    out: list[Detection] = []
    for k, name in enumerate(types):
        above = np.concatenate([[False], scores[:, k] >= threshold, [False]])
        edges = np.diff(above.astype(np.int8))
        for w0, w1 in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1),
                          strict=True):
            span_start = grid.start_ms(int(w0))
            span_end = min(grid.end_ms(int(w1) - 1), duration)
            peak = int(w0) + int(np.argmax(scores[w0:w1, k]))
            focus = (grid.start_ms(peak), min(grid.end_ms(peak), duration))
            start, end = refiner.refine(strategies[k], span_start, span_end, focus)
            start = max(0, min(start, duration))
            end = max(start, min(end, duration))
            out.append(Detection(name, int(start), int(end),
                                 round(float(scores[w0:w1, k].max()), 4)))
    return out


def detect_in(model: TrainedModel, analysis: Analysis, config: InferenceConfig) -> list[Detection]:
    """Post-processed detections for an analysed file."""
    scores = model.confidences(analysis.features)
    candidates = events_from_scores(scores, analysis, model.artifact_types, model.strategies,
                                    config.threshold)
    return postprocess(candidates, config)


def detect(model: TrainedModel, path: Path, config: InferenceConfig, *,
           should_stop: Callable[[], bool] | None = None) -> DetectionResult:
    """Detect the model's artifact types in the audio file at ``path``.

    Any format and rate soundfile reads; decoded in blocks and resampled to
    16 kHz. Raises ``relay_server.processing.errors.AudioError`` for empty,
    corrupt or non-audio files and ``DetectionCancelled`` (an ``Interrupted``)
    when ``should_stop()`` turns true. Detections are post-processed exactly
    as ``postprocess`` documents, after their edges were refined; so a 3 ms
    click is reported as 3 ms, and ``min_duration_ms`` (50 by default) drops
    it: use 0 to keep clicks.
    """
    analysis = analyse(Path(path), model.chunk_size_ms, model.stride_ms, should_stop,
                       DetectionCancelled)
    if should_stop is not None and should_stop():
        raise DetectionCancelled()
    detections = detect_in(model, analysis, config)
    return DetectionResult(tuple(detections), analysis.frames.duration_ms)
