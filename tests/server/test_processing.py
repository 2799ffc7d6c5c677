"""Processing: decoding errors, the streaming resampler, normalisation, features, idempotency.

These run the processing code directly on real files, a real SQLite
database and a real LocalStorage (the HTTP path is covered by
test_audio_upload.py).
"""

from __future__ import annotations

import threading
import tracemalloc
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly
from sqlalchemy.orm import Session, sessionmaker

from relay_server.db.base import utcnow
from relay_server.db.models import AudioFile, Dataset, Tenant
from relay_server.db.session import make_engine, make_session_factory, upgrade_database
from relay_server.processing.decode import open_audio, sniff
from relay_server.processing.errors import AudioError
from relay_server.processing.features import N_MELS, compute_features
from relay_server.processing.normalize import normalize
from relay_server.processing.pipeline import ProcessingContext, process_audio
from relay_server.processing.resample import StreamResampler
from relay_server.storage.keys import audio_key, safe_filename
from relay_server.storage.local import LocalStorage


def _write(path: Path, seconds: float, rate: int, channels: int, fmt: str = "WAV",
           subtype: str = "PCM_16", amplitude: float = 0.25) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    signal = amplitude * np.sin(2 * np.pi * 440 * t)
    sf.write(path, np.stack([signal] * channels, axis=1), rate, format=fmt, subtype=subtype)
    return path


# ---- decoding errors ----
@pytest.mark.parametrize(("content", "message"), [
    (b"", "The file is empty"),
    (b"hello, world\n" * 100, "Not an audio file (could not decode: "),
    (b"fLaC" + bytes(300), "The file is corrupt: "),
    (b"OggS" + bytes(300), "The file is corrupt: "),
    (b"\x1a\x45\xdf\xa3" + bytes(300), "Unsupported format: WebM"),
    (b"\xff\xf1\x50\x80" + bytes(300), "Unsupported format: AAC"),
    (b"RIFF\xff\xff\x00\x00WAVEdata\x00\x00\x01\x00" + bytes(100), "The file is corrupt: "),
])
def test_undecodable_files_get_plain_messages(tmp_path: Path, content: bytes,
                                              message: str) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(content)
    with pytest.raises(AudioError) as info:
        open_audio(path).close()
    assert info.value.message.startswith(message), info.value.message


def test_truncated_wav_is_corrupt_but_complete_wav_opens(tmp_path: Path) -> None:
    whole = _write(tmp_path / "whole.wav", 1.0, 8000, 1)
    with open_audio(whole) as handle:
        assert (handle.samplerate, handle.channels, handle.frames) == (8000, 1, 8000)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole.read_bytes()[:5000])
    with pytest.raises(AudioError) as info:
        open_audio(cut)
    assert "cut short" in info.value.message


def test_sniff_names_containers() -> None:
    assert sniff(b"RIFF\x00\x00\x00\x00WAVE") == "wav"
    assert sniff(b"\x00\x00\x00\x18ftypmp42") == "mp4"
    assert sniff(b"ID3\x03") == "mp3"
    assert sniff(b"plain text") == "unknown"


# ---- resampling ----
@pytest.mark.parametrize("rate", [8000, 11025, 22050, 44100, 48000, 16000])
def test_stream_resampler_matches_one_shot(rate: int) -> None:
    rng = np.random.default_rng(rate)
    x = rng.standard_normal(rate * 2 + 123).astype(np.float32)
    resampler = StreamResampler(rate, 16000)
    pieces, i = [], 0
    while i < len(x):
        n = int(rng.integers(1, 9000))
        pieces.append(resampler.process(x[i:i + n]))
        i += n
    pieces.append(resampler.flush())
    streamed = np.concatenate(pieces)
    g = np.gcd(rate, 16000)
    reference = resample_poly(x, 16000 // g, rate // g)
    assert len(streamed) == len(reference)
    assert np.allclose(streamed, reference, atol=1e-5)


# ---- normalisation and features ----
def test_normalize_writes_peak_normalised_16k_mono_flac(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.flac", 3.0, 44100, 2, "FLAC", "PCM_24", amplitude=0.1)
    result = normalize(src, tmp_path / "out.flac")
    assert (result.duration_ms, result.sample_rate, result.channels) == (3000, 44100, 2)
    assert result.format == "FLAC" and result.gain_db > 15
    out, rate = sf.read(tmp_path / "out.flac")
    info = sf.info(str(tmp_path / "out.flac"))
    assert (rate, info.channels, info.format) == (16000, 1, "FLAC")
    assert len(out) == 48000 == result.output_frames
    assert 0.98 <= np.abs(out).max() <= 0.995
    assert not list(tmp_path.glob("*.f32.wav"))  # scratch file removed


def test_normalize_silence_keeps_gain_at_unity(tmp_path: Path) -> None:
    src = tmp_path / "silence.wav"
    sf.write(src, np.zeros(16000, dtype=np.float32), 16000)
    result = normalize(src, tmp_path / "out.flac")
    assert result.gain_db == 0.0 and result.rms_dbfs == -120.0
    assert np.abs(sf.read(tmp_path / "out.flac")[0]).max() == 0.0


def test_normalize_streams_a_long_file_in_bounded_memory(tmp_path: Path) -> None:
    src = _write(tmp_path / "long.wav", 150.0, 48000, 2)  # 28.8 MB; 57.6 MB as float32
    tracemalloc.start()
    try:
        result = normalize(src, tmp_path / "out.flac")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.duration_ms == 150_000
    assert peak < 12 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_normalize_stops_when_asked(tmp_path: Path) -> None:
    from relay_server.processing.errors import Interrupted

    src = _write(tmp_path / "in.wav", 5.0, 16000, 1)
    stop = threading.Event()
    stop.set()
    with pytest.raises(Interrupted):
        normalize(src, tmp_path / "out.flac", stop)


def test_features_pool_log_mel_per_second(tmp_path: Path) -> None:
    path = tmp_path / "n.flac"
    t = np.arange(16000 * 3) / 16000
    tone = np.where(t < 1.5, 0.5 * np.sin(2 * np.pi * 300 * t), 0.0)
    sf.write(path, tone, 16000, format="FLAC")
    result = compute_features(path)
    assert result.pooled.shape == (3, 2 * N_MELS) and result.pooled.dtype == np.float16
    assert 0.4 < result.silence_ratio < 0.6
    loud, quiet = result.pooled[0, :N_MELS], result.pooled[2, :N_MELS]
    assert loud.max() > quiet.max() + 30  # dB
    assert result.summary()["shape"] == [3, 128]


def test_safe_filename() -> None:
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\me\\take 1.WAV") == "take_1.WAV"
    assert safe_filename("...") == "audio"
    assert safe_filename("a\x00b\nc.wav") == "abc.wav"
    assert safe_filename("Ünïcödé ☃.flac") == "Ünïcödé_.flac"
    long = safe_filename("x" * 400 + ".ogg")
    assert long.endswith(".ogg") and len(long.encode()) <= 180


# ---- the pipeline: state in the database, idempotent ----
@dataclass
class Env:
    factory: sessionmaker[Session]
    storage: LocalStorage
    ctx: ProcessingContext
    tenant_id: uuid.UUID
    dataset_id: uuid.UUID


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    upgrade_database(engine)
    factory = make_session_factory(engine)
    storage = LocalStorage(tmp_path / "objects", "secret", 60, 1 << 30)
    with factory.begin() as session:
        tenant = Tenant(name="t")
        session.add(tenant)
        session.flush()
        dataset = Dataset(tenant_id=tenant.id, name="d", artifact_types=[])
        session.add(dataset)
        session.flush()
        ids = (tenant.id, dataset.id)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    yield Env(factory, storage, ProcessingContext(factory, storage, scratch), *ids)
    engine.dispose()


def _stored_file(env: Env, source: Path, confirmed: bool = True) -> uuid.UUID:
    audio_id = uuid.uuid4()
    key = audio_key(env.tenant_id, env.dataset_id, audio_id, source.name)
    env.storage.put_file(key, source)
    with env.factory.begin() as session:
        session.add(AudioFile(id=audio_id, tenant_id=env.tenant_id, dataset_id=env.dataset_id,
                              filename=source.name, content_type="audio/wav",
                              file_size=source.stat().st_size, storage_key=key,
                              confirmed_at=utcnow() if confirmed else None))
    return audio_id


def _row(env: Env, audio_id: uuid.UUID) -> AudioFile:
    with env.factory() as session:
        row = session.get(AudioFile, audio_id)
        assert row is not None
        return row


def test_pipeline_is_idempotent_and_resumes_at_embedding(env: Env, tmp_path: Path) -> None:
    audio_id = _stored_file(env, _write(tmp_path / "a.wav", 2.0, 22050, 1))
    assert process_audio(env.ctx, audio_id) == "ready"
    first = _row(env, audio_id)
    assert (first.duration_ms, first.sample_rate, first.channels) == (2000, 22050, 1)
    assert first.features is not None
    assert first.features["embedding"]["shape"] == [2, 128]
    assert first.features["normalized"]["sample_rate"] == 16000
    assert env.storage.exists(first.features["embedding"]["key"])

    assert process_audio(env.ctx, audio_id) == "ready"  # a second run changes nothing
    assert _row(env, audio_id).updated_at == first.updated_at

    # A crash after normalising: the run resumes at embedding, reusing the stored copy.
    with env.factory.begin() as session:
        row = session.get(AudioFile, audio_id)
        assert row is not None
        row.processing_status = "embedding"
    env.storage.delete(first.features["embedding"]["key"])
    norm_key = first.normalized_key
    assert norm_key is not None
    stamp = env.storage.path(norm_key).stat().st_mtime_ns
    assert process_audio(env.ctx, audio_id) == "ready"
    assert env.storage.path(norm_key).stat().st_mtime_ns == stamp
    assert env.storage.exists(first.features["embedding"]["key"])


def test_pipeline_failure_is_recorded_and_final(env: Env, tmp_path: Path) -> None:
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio " * 50)
    audio_id = _stored_file(env, bad)
    assert process_audio(env.ctx, audio_id) == "failed"
    row = _row(env, audio_id)
    assert row.processing_status == "failed"
    assert row.error_message is not None and row.error_message.startswith("Not an audio file")
    assert process_audio(env.ctx, audio_id) == "failed"


def test_pipeline_skips_unconfirmed_and_deleted_files(env: Env, tmp_path: Path) -> None:
    audio_id = _stored_file(env, _write(tmp_path / "a.wav", 0.5, 8000, 1), confirmed=False)
    assert process_audio(env.ctx, audio_id) == "unconfirmed"
    assert _row(env, audio_id).processing_status == "pending"
    assert process_audio(env.ctx, uuid.uuid4()) == "gone"


def test_pipeline_reports_a_missing_object(env: Env, tmp_path: Path) -> None:
    audio_id = _stored_file(env, _write(tmp_path / "a.wav", 0.5, 8000, 1))
    env.storage.delete(_row(env, audio_id).storage_key)
    assert process_audio(env.ctx, audio_id) == "failed"
    assert _row(env, audio_id).error_message == "The uploaded file is missing from storage"
