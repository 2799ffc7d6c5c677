"""Training and detection end to end on small numpy-made speech (tests/support/synthetic_speech)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from relay_server.ml import (
    EVAL_CONFIG,
    Detection,
    EpochReport,
    InferenceConfig,
    Region,
    TrainedModel,
    TrainingCancelled,
    TrainingConfig,
    TrainingError,
    TrainingFile,
    detect,
    match_events,
    train_model,
)
from relay_server.ml.events import Event
from relay_server.processing.errors import AudioError
from tests.support.synthetic_speech import make_file

TYPES = ("click", "long_pause")
KEEP_ALL = InferenceConfig(threshold=0.5, merge_window_ms=200, min_duration_ms=0)


def _files(folder: Path, count: int, seconds: float, seed: int = 0) -> list[TrainingFile]:
    out = []
    for i in range(count):
        path = folder / f"speech-{seed + i}.flac"
        truth = make_file(path, seed + i, seconds=seconds)
        out.append(TrainingFile(f"audio-{seed + i}", path,
                                round(sf.info(str(path)).duration * 1000),
                                tuple(Region(t.artifact_type, t.start_ms, t.end_ms)
                                      for t in truth)))
    return out


@pytest.fixture(scope="module")
def small_files(tmp_path_factory: pytest.TempPathFactory) -> list[TrainingFile]:
    return _files(tmp_path_factory.mktemp("small"), 3, 8.0, seed=100)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[TrainedModel, list[TrainingFile]]:
    files = _files(tmp_path_factory.mktemp("train"), 6, 15.0)
    return train_model(files, TrainingConfig(TYPES), seed=0), files


def _losses(files: list[TrainingFile], **config: float) -> list[EpochReport]:
    reports: list[EpochReport] = []
    train_model(files, TrainingConfig(TYPES, **config), on_epoch=reports.append)  # type: ignore[arg-type]
    return reports


def test_split_is_by_file(trained: tuple[TrainedModel, list[TrainingFile]]) -> None:
    model, files = trained
    assert model.validation_audio_ids and model.train_audio_ids
    assert not set(model.validation_audio_ids) & set(model.train_audio_ids)
    assert set(model.validation_audio_ids) | set(model.train_audio_ids) == {
        f.audio_id for f in files}
    assert len(model.validation_audio_ids) == 1  # round(0.2 * 6)


def test_finds_click_and_pause_with_tight_edges(
        trained: tuple[TrainedModel, list[TrainingFile]]) -> None:
    model, files = trained
    held_out = [f for f in files if f.audio_id in model.validation_audio_ids]
    pairs: list[tuple[Event, Detection]] = []
    for f in held_out:
        result = detect(model, f.path, KEEP_ALL)
        assert abs(result.duration_ms - f.duration_ms) <= 1
        matching = match_events(list(f.regions), list(result.detections))
        pairs += [(t, d) for t, d in matching.pairs if isinstance(d, Detection)]
    kinds = {t.artifact_type for t, _ in pairs}
    assert kinds == {"click", "long_pause"}
    for truth, found in pairs:
        assert abs(found.start_ms - truth.start_ms) <= 30, (truth, found)
        assert abs(found.end_ms - truth.end_ms) <= 30, (truth, found)
        assert 0.0 <= found.confidence <= 1.0
    clicks = [d for t, d in pairs if t.artifact_type == "click"]
    assert all(d.end_ms - d.start_ms < 30 for d in clicks)  # not a 500 ms window


def test_eval_metrics_shape(trained: tuple[TrainedModel, list[TrainingFile]]) -> None:
    model, files = trained
    m = model.eval_metrics
    assert set(m) == {"precision", "recall", "f1_score", "per_class"}
    assert set(m["per_class"]) == set(TYPES)
    held = [f for f in files if f.audio_id in model.validation_audio_ids]
    for t in TYPES:
        assert m["per_class"][t]["support"] == sum(
            r.artifact_type == t for f in held for r in f.regions)
    assert m["f1_score"] >= 0.5
    assert model.info["eval_config"] == EVAL_CONFIG.as_dict()


def test_bytes_round_trip_gives_identical_detections(
        trained: tuple[TrainedModel, list[TrainingFile]]) -> None:
    model, files = trained
    copy = TrainedModel.from_bytes(model.to_bytes())
    assert copy.artifact_types == model.artifact_types
    assert copy.eval_metrics == model.eval_metrics
    assert copy.validation_audio_ids == model.validation_audio_ids
    for f in files[:2]:
        assert detect(copy, f.path, KEEP_ALL) == detect(model, f.path, KEEP_ALL)


@pytest.mark.parametrize("garbage", [b"", b"hello", b"RELAYDET", b"RELAYDET\xff\xff\xff\xff{",
                                     b"PK\x03\x04" + bytes(100)])
def test_garbage_model_bytes_raise_value_error(garbage: bytes) -> None:
    with pytest.raises(ValueError):
        TrainedModel.from_bytes(garbage)


def test_truncated_model_bytes_raise_value_error(
        trained: tuple[TrainedModel, list[TrainingFile]]) -> None:
    data = trained[0].to_bytes()
    with pytest.raises(ValueError):
        TrainedModel.from_bytes(data[:len(data) // 2])


@pytest.mark.parametrize("content", [b"", b"this is not audio at all" * 20,
                                     b"RIFF\x24\x00\x10\x00WAVEfmt "])
def test_bad_audio_raises_audio_error(trained: tuple[TrainedModel, list[TrainingFile]],
                                      tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(AudioError) as info:
        detect(trained[0], path, KEEP_ALL)
    assert info.value.message


def test_other_rates_and_channels_are_accepted(trained: tuple[TrainedModel, list[TrainingFile]],
                                               tmp_path: Path) -> None:
    model, files = trained
    audio, rate = sf.read(files[0].path, dtype="float32")
    from scipy.signal import resample_poly

    stereo = np.stack([resample_poly(audio, 44100, rate)] * 2, axis=1)
    path = tmp_path / "stereo.wav"
    sf.write(path, stereo, 44100)
    result = detect(model, path, KEEP_ALL)
    reference = detect(model, files[0].path, KEEP_ALL)
    assert abs(result.duration_ms - reference.duration_ms) <= 1
    assert [d.artifact_type for d in result.detections] == [
        d.artifact_type for d in reference.detections]


def test_epochs_drive_on_epoch_and_losses_are_real(small_files: list[TrainingFile]) -> None:
    reports = _losses(small_files, epochs=3)
    assert [(r.epoch, r.epochs) for r in reports] == [(1, 3), (2, 3), (3, 3)]
    assert all(np.isfinite([r.train_loss, r.validation_loss]).all() for r in reports)
    assert reports[-1].train_loss < reports[0].train_loss


def test_learning_rate_and_batch_size_change_training(small_files: list[TrainingFile]) -> None:
    base = _losses(small_files, epochs=2)
    faster = _losses(small_files, epochs=2, learning_rate=0.01)
    bigger = _losses(small_files, epochs=2, batch_size=128)
    assert faster[-1].train_loss != pytest.approx(base[-1].train_loss, rel=1e-3)
    assert bigger[-1].train_loss != pytest.approx(base[-1].train_loss, rel=1e-3)
    assert _losses(small_files, epochs=2)[-1] == base[-1]  # deterministic for a seed


def test_should_stop_cancels(small_files: list[TrainingFile]) -> None:
    calls = 0

    def stop_after(n: int) -> Callable[[], bool]:
        def should_stop() -> bool:
            nonlocal calls
            calls += 1
            return calls > n
        return should_stop

    with pytest.raises(TrainingCancelled):
        train_model(small_files, TrainingConfig(TYPES, epochs=50), should_stop=stop_after(40))
    assert calls == 41


def test_unusable_data_raises_training_error(small_files: list[TrainingFile],
                                             tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match="at least two"):
        train_model(small_files[:1], TrainingConfig(TYPES, epochs=1))
    with pytest.raises(TrainingError, match="glitch"):
        train_model(small_files, TrainingConfig(("glitch",), epochs=1))
    broken = tmp_path / "broken.flac"
    broken.write_bytes(b"fLaC" + bytes(50))
    bad = TrainingFile("broken", broken, 1000, ())
    with pytest.raises(TrainingError, match="broken"):
        train_model([*small_files, bad], TrainingConfig(TYPES, epochs=1))
