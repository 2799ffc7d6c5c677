"""Training: split by file, window features, a small network, thresholds tuned on training files.

1. Files are split into training and validation sets (``split_files``);
   nothing from a validation file is used to fit, scale or tune.
2. Every file is decoded into frame signals, then window features; each
   training file also gives a copy with room tone under it (augment.py);
   the scaler's statistics come from the training windows.
3. A few small networks with an output per type (``network.Ensemble``,
   their outputs averaged) are trained for
   ``epochs`` passes over shuffled mini-batches of ``batch_size`` windows with
   Adam at ``learning_rate``; per type, windows are weighted so both classes
   weigh the same, and windows with an ambiguous label weigh nothing. After
   every epoch the class-balanced log loss on the training windows and on
   the validation windows (mean over types) is reported.
4. Each type's edge strategy (from its labels) and decision threshold (best
   smoothed event-level F1 of the whole detection rule on out-of-fold scores
   of the training files and their noisy copies, ``FOLDS`` folds by file) are
   chosen on training files only.
   The threshold is folded into the confidence, so the API's default 0.5 is
   the tuned operating point.
5. ``eval_metrics`` are the event-level metrics on the validation files at
   ``EVAL_CONFIG``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from relay_server.ml.audio import blocks_16k
from relay_server.ml.augment import with_room_tone
from relay_server.ml.boundaries import choose_strategy
from relay_server.ml.config import InferenceConfig, TrainingConfig
from relay_server.ml.detect import Analysis, analyse, detect_in, events_from_scores
from relay_server.ml.events import event_metrics
from relay_server.ml.features import extract
from relay_server.ml.model import TrainedModel
from relay_server.ml.network import Ensemble
from relay_server.ml.postprocess import postprocess
from relay_server.ml.records import (
    EpochReport,
    Region,
    TrainingCancelled,
    TrainingError,
    TrainingFile,
)
from relay_server.ml.windows import FEATURE_NAMES, window_labels
from relay_server.processing.errors import AudioError

AUGMENT = True  # train on room-tone copies of each training file too (augment.py)
AUGMENT_COPIES = 1
HIDDEN = (16,)
L2 = 1e-2
MEMBERS = 3  # networks averaged (network.Ensemble)
FOLDS = 3
# Events as short as a click are part of the task, so evaluation keeps them all.
EVAL_CONFIG = InferenceConfig(threshold=0.5, merge_window_ms=200, min_duration_ms=0)
THRESHOLD_GRID = tuple(float(t) for t in np.round(np.arange(0.05, 0.96, 0.05), 2))


@dataclass(frozen=True)
class Prepared:
    """A file ready for training: its analysis and window labels."""

    file: TrainingFile
    key: str  # the audio id, plus "#noisy<n>" for an augmented copy
    weight: float  # of its windows in training: the copies of a file weigh as much as it
    analysis: Analysis
    y: np.ndarray  # (windows, types) 0/1
    certain: np.ndarray  # (windows, types) label is unambiguous


@dataclass(frozen=True)
class Stacked:
    """Windows of several files, stacked: features, labels and label certainty."""

    x: np.ndarray
    y: np.ndarray
    certain: np.ndarray
    weight: np.ndarray  # per window

    @classmethod
    def of(cls, items: Sequence[Prepared], types: int) -> Stacked:
        if not items:
            return cls(np.zeros((0, len(FEATURE_NAMES))), np.zeros((0, types)),
                       np.zeros((0, types), dtype=bool), np.zeros(0))
        return cls(np.concatenate([p.analysis.features for p in items]).astype(np.float64),
                   np.concatenate([p.y for p in items]).astype(np.float64),
                   np.concatenate([p.certain for p in items]),
                   np.concatenate([np.full(len(p.y), p.weight) for p in items]))


def split_files(files: Sequence[TrainingFile], fraction: float, types: Sequence[str],
                seed: int) -> tuple[list[int], list[int]]:
    """Indices of training and validation files; ``fraction`` is a fraction of FILES.

    ``round(fraction * n)`` files (at least one, and at least one left for
    training) are held out. Among 64 seeded shuffles the first that leaves
    every type represented on both sides is used (else the best one found).
    """
    n = len(files)
    n_val = min(n - 1, max(1, round(fraction * n)))
    order = sorted(range(n), key=lambda i: files[i].audio_id)
    rng = np.random.default_rng(seed)
    best: tuple[tuple[int, int], list[int], list[int]] | None = None
    for _ in range(64):
        perm = [order[i] for i in rng.permutation(n)]
        val, train = sorted(perm[:n_val]), sorted(perm[n_val:])
        has = [{r.artifact_type for i in side for r in files[i].regions} for side in (train, val)]
        score = (sum(t in has[0] for t in types), sum(t in has[1] for t in types))
        if best is None or score > best[0]:
            best = (score, train, val)
        if score == (len(types), len(types)):
            break
    assert best is not None
    return best[1], best[2]


def _prepare(file: TrainingFile, config: TrainingConfig, stop: Callable[[], bool],
             augment_seed: int | None = None) -> list[Prepared]:
    """The file's analysis and labels; with ``augment_seed``, also its noisy copies'."""
    try:
        analysis = analyse(file.path, config.chunk_size_ms, config.stride_ms, stop,
                           TrainingCancelled)
        analyses = [(file.audio_id, analysis)]
        for copy in range(AUGMENT_COPIES if augment_seed is not None else 0):
            noisy = with_room_tone(blocks_16k(file.path), analysis.levels.speech_db,
                                   file.regions, (augment_seed or 0) * 100 + copy)
            frames = extract(noisy, stop, TrainingCancelled)
            analyses.append((f"{file.audio_id}#noisy{copy}",
                             Analysis.of(frames, config.chunk_size_ms, config.stride_ms)))
    except AudioError as exc:
        raise TrainingError(f"Audio file {file.audio_id} cannot be read: {exc.message}") from exc
    out = []
    for key, a in analyses:
        y, certain = window_labels(file.regions, a.grid, config.artifact_types,
                                   config.chunk_size_ms)
        weight = 1.0 if key == file.audio_id else 1.0 / (len(analyses) - 1)
        out.append(Prepared(file, key, weight, a, y, certain))
    return out


def _balanced_weights(y: np.ndarray, certain: np.ndarray) -> np.ndarray:
    """Per window and type: weights that make both classes weigh the same (0 if ambiguous)."""
    w = np.zeros(y.shape)
    for k in range(y.shape[1]):
        mask = certain[:, k]
        n, pos = int(mask.sum()), int(y[mask, k].sum())
        if n == 0:
            continue
        if pos in (0, n):
            w[mask, k] = 1.0
        else:
            w[mask, k] = np.where(y[mask, k] == 1, n / (2 * pos), n / (2 * (n - pos)))
    return w


def _log_loss(net: Ensemble, z: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """Class-balanced log loss, averaged over the types that have windows."""
    if not len(z):
        return 0.0
    p = np.clip(net.probabilities(z), 1e-7, 1 - 1e-7)
    losses = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    per_type = [float((w[:, k] * losses[:, k]).sum() / w[:, k].sum())
                for k in range(y.shape[1]) if w[:, k].sum() > 0]
    return float(np.mean(per_type)) if per_type else 0.0


def _scaler(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    return mean, scale


def _fit(train: Stacked, config: TrainingConfig, seed: int, stop: Callable[[], bool],
         validation: Stacked | None = None,
         on_epoch: Callable[[EpochReport], None] | None = None,
         ) -> tuple[Ensemble, np.ndarray, np.ndarray]:
    """Scale with ``train``'s statistics and train a network for ``config.epochs`` epochs."""
    mean, scale = _scaler(train.x)
    z = (train.x - mean) / scale
    w = _balanced_weights(train.y, train.certain) * train.weight[:, None]
    net = Ensemble(z.shape[1], HIDDEN, train.y.shape[1], MEMBERS,
                   learning_rate=config.learning_rate, l2=L2, seed=seed)
    rng = np.random.default_rng(seed)
    for epoch in range(1, config.epochs + 1):
        order = rng.permutation(len(z))
        for b in range(0, len(order), config.batch_size):
            if stop():
                raise TrainingCancelled()
            idx = order[b:b + config.batch_size]
            net.step(z[idx], train.y[idx], w[idx])
        if on_epoch is not None and validation is not None:
            zv = (validation.x - mean) / scale
            wv = _balanced_weights(validation.y, validation.certain)
            on_epoch(EpochReport(epoch, config.epochs, _log_loss(net, z, train.y, w),
                                 _log_loss(net, zv, validation.y, wv)))
    return net, mean, scale


def _out_of_fold(train: Sequence[Prepared], config: TrainingConfig, seed: int,
                 stop: Callable[[], bool]) -> list[np.ndarray]:
    """Window probabilities of each training file from a network that never saw that file.

    The training files are split into up to ``FOLDS`` groups; with fewer than
    two training files the probabilities are in-sample.
    """
    types = len(config.artifact_types)
    folds = min(FOLDS, len({p.file.audio_id for p in train}))
    if folds < 2:
        net, mean, scale = _fit(Stacked.of(train, types), config, seed, stop)
        return [net.probabilities((p.analysis.features - mean) / scale) for p in train]
    ids = sorted({p.file.audio_id for p in train})
    fold_of = dict(zip(ids, np.random.default_rng(seed + 1).permutation(len(ids)) % folds,
                       strict=True))
    group = np.array([fold_of[p.file.audio_id] for p in train])
    out: list[np.ndarray] = [np.zeros(0)] * len(train)
    for g in range(folds):
        inner = [p for p, gi in zip(train, group, strict=True) if gi != g]
        net, mean, scale = _fit(Stacked.of(inner, types), config, seed + 10 + g, stop)
        for i in np.flatnonzero(group == g).tolist():
            out[i] = net.probabilities((train[i].analysis.features - mean) / scale)
    return out


def _tune_threshold(k: int, name: str, strategy: str, scores: Sequence[np.ndarray],
                    items: Sequence[Prepared]) -> tuple[float, list[float]]:
    """The raw-probability threshold with the best event F1 on the given (training) files.

    The F1 curve over ``THRESHOLD_GRID`` is smoothed (mean with its two
    neighbours) before its peak is taken, so a lucky single point does not
    decide. Returns the threshold and the raw curve.
    """
    curve: list[float] = []
    truth = {p.key: [r for r in p.file.regions if r.artifact_type == name] for p in items}
    for t in THRESHOLD_GRID:
        rule = InferenceConfig(t, EVAL_CONFIG.merge_window_ms, EVAL_CONFIG.min_duration_ms)
        found = {p.key: postprocess(
            events_from_scores(s[:, k:k + 1], p.analysis, [name], [strategy], t), rule)
            for p, s in zip(items, scores, strict=True)}
        curve.append(event_metrics(truth, found, [name])["f1_score"])
    padded = np.concatenate([curve[:1], curve, curve[-1:]])
    smooth = np.convolve(padded, np.ones(3) / 3, mode="valid")
    best = max(range(len(curve)), key=lambda i: (round(float(smooth[i]), 9),
                                                 -abs(THRESHOLD_GRID[i] - 0.5)))
    return THRESHOLD_GRID[best], curve


def _strategy(name: str, items: Sequence[Prepared]) -> str:
    regions: list[Region] = []
    quiet: list[np.ndarray] = []
    for p in items:
        mask = p.analysis.levels.quiet
        for r in p.file.regions:
            if r.artifact_type == name:
                regions.append(r)
                quiet.append(mask[r.start_ms // 10:max(r.start_ms // 10 + 1,
                                                       math.ceil(r.end_ms / 10))])
    return choose_strategy(regions, quiet)


def train_model(files: Sequence[TrainingFile], config: TrainingConfig, *,
                on_epoch: Callable[[EpochReport], None] | None = None,
                should_stop: Callable[[], bool] | None = None,
                seed: int = 0) -> TrainedModel:
    """Train a detector for ``config.artifact_types`` on ``files`` (see the module doc).

    Raises TrainingCancelled when ``should_stop()`` turns true (checked every
    mini-batch and every decoded block) and TrainingError, with a message for
    the user, when the data cannot train a model (fewer than two files, an
    unreadable file, a type with no annotation in the training files).
    """
    stop = should_stop or (lambda: False)
    types = list(config.artifact_types)
    if len(files) < 2:
        raise TrainingError("Training needs at least two audio files: whole files are held "
                            "out for validation.")
    train_idx, val_idx = split_files(files, config.validation_split, types, seed)
    train = [p for i in train_idx
             for p in _prepare(files[i], config, stop, seed + i if AUGMENT else None)]
    val = [p for i in val_idx for p in _prepare(files[i], config, stop)]
    stacked = Stacked.of(train, len(types))
    for k, name in enumerate(types):
        if not stacked.y[stacked.certain[:, k], k].any():
            raise TrainingError(f"No training file has a '{name}' annotation "
                                "(whole files are held out for validation).")
    net, mean, scale = _fit(stacked, config, seed, stop, Stacked.of(val, len(types)), on_epoch)
    scores = _out_of_fold(train, config, seed, stop)
    strategies = tuple(_strategy(name, train) for name in types)
    # tuned on each training file and one noisy copy of it: both conditions weigh the same
    tuning = [i for i, p in enumerate(train) if "#" not in p.key or p.key.endswith("#noisy0")]
    tuned = [_tune_threshold(k, name, strategies[k], [scores[i] for i in tuning],
                             [train[i] for i in tuning])
             for k, name in enumerate(types)]
    thresholds = tuple(t for t, _ in tuned)
    model = TrainedModel(artifact_types=tuple(types), chunk_size_ms=config.chunk_size_ms,
                         stride_ms=config.stride_ms, mean=mean.astype(np.float32),
                         scale=scale.astype(np.float32),
                         networks=[([w.astype(np.float32) for w in m.weights],
                                    [b.astype(np.float32) for b in m.biases])
                                   for m in net.members],
                         thresholds=thresholds, strategies=strategies,
                         validation_audio_ids=tuple(files[i].audio_id for i in val_idx),
                         train_audio_ids=tuple(files[i].audio_id for i in train_idx))
    truth = {p.file.audio_id: list(p.file.regions) for p in val}
    found = {p.file.audio_id: detect_in(model, p.analysis, EVAL_CONFIG) for p in val}
    model.eval_metrics = event_metrics(truth, found, types)
    model.info = {"config": config.as_dict(), "seed": seed, "eval_config": EVAL_CONFIG.as_dict(),
                  "thresholds": dict(zip(types, thresholds, strict=True)),
                  "threshold_grid": list(THRESHOLD_GRID),
                  "training_f1_by_threshold": {t: curve for t, (_, curve)
                                               in zip(types, tuned, strict=True)},
                  "strategies": dict(zip(types, strategies, strict=True))}
    return model
