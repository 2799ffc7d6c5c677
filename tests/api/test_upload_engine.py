"""The upload engine against a real Relay Local: validation, duplicates, lanes, resume, cancel.

Every test drives :class:`UploadEngine` over real HTTP and checks what the
server ends up holding: each good file exactly once, each bad one never.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from relay_desktop.api import RelayClient
from relay_desktop.api.batch_upload.engine import UploadEngine
from relay_desktop.api.batch_upload.probe import MAX_FILE_BYTES
from relay_desktop.api.batch_upload.rows import UploadRow, UploadState, UploadTarget
from relay_desktop.api.batch_upload.store import QueueStore, StoredTicket
from relay_desktop.api.errors import NotFound
from tests.e2e.test_server_restart_sync import Forwarder
from tests.support.live_server import LiveServer, server_env

ROOT = Path(__file__).resolve().parents[2]


def tone(path: Path, seconds: float = 0.5, rate: int = 16_000, fmt: str = "WAV",
         subtype: str | None = None, freq: float = 440.0) -> Path:
    """A real encoded tone; ``freq`` makes the content (and hash) differ."""
    t = np.arange(int(seconds * rate)) / rate
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), (0.3 * np.sin(2 * np.pi * freq * t)).astype("float32"), rate,
             format=fmt, subtype=subtype)
    return path


def new_dataset(client: RelayClient) -> str:
    return client.datasets.create(f"up-{uuid.uuid4().hex[:8]}", ["glitch"]).id


def server_files(client: RelayClient, dataset_id: str) -> list[str]:
    return sorted(a.filename for a in client.audio.iter_items(dataset_id))


def wait_until(check: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.02)


def by_name(engine: UploadEngine) -> dict[str, UploadRow]:
    return {r.path.name: r for r in engine.rows()}


def settled(engine: UploadEngine) -> bool:
    waiting = {UploadState.SCANNING, UploadState.WAITING, UploadState.UPLOADING,
               UploadState.CONFIRMING}
    return engine.is_idle() and not any(r.state in waiting for r in engine.rows())


@pytest.fixture
def make_engine(relay_server: LiveServer) -> Iterator[Callable[..., UploadEngine]]:
    made: list[UploadEngine] = []

    def make(base_url: str = relay_server.base_url, key: str = relay_server.api_key,
             store: QueueStore | None = None, **kwargs: object) -> UploadEngine:
        engine = UploadEngine(lambda: RelayClient(base_url, key, timeout=(2.0, 30.0)), store,
                              **kwargs)  # type: ignore[arg-type]
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.close(5.0)


def test_a_dropped_folder_is_validated_and_only_good_files_arrive(
        client: RelayClient, make_engine: Callable[..., UploadEngine], tmp_path: Path) -> None:
    ds = new_dataset(client)
    drop = tmp_path / "drop"
    tone(drop / "take.wav", freq=300)
    tone(drop / "flac inside.wav", fmt="FLAC", freq=310)       # the extension lies
    tone(drop / "sub" / "take.ogg", fmt="OGG", subtype="VORBIS", freq=320)
    tone(drop / "sub" / "take.mp3", fmt="MP3", freq=330)
    good = (drop / "take.wav").read_bytes()
    (drop / "corrupt.wav").write_bytes(good[:30])                # truncated header
    (drop / "cut short.wav").write_bytes(good[: len(good) // 2])  # data cut
    (drop / "empty.wav").write_bytes(b"")
    (drop / "notes.txt").write_text("not audio at all\n" * 20)
    tone(drop / "take.aiff", fmt="AIFF", freq=340)
    with open(drop / "huge.wav", "wb") as fh:                     # sparse: no disk used
        fh.truncate(MAX_FILE_BYTES + 1)
    shutil.copy(drop / "take.wav", drop / "sub" / "copy of take.wav")

    engine = make_engine()
    engine.start()
    engine.add_paths([drop], UploadTarget("dataset", ds, "ds"))
    wait_until(lambda: settled(engine), what="the queue to settle")
    rows = by_name(engine)
    assert len(rows) == 11
    uploaded = {n for n, r in rows.items() if r.state is UploadState.PROCESSING}
    assert uploaded == {"take.wav", "flac inside.wav", "take.ogg", "take.mp3"}
    assert rows["flac inside.wav"].content_type == "audio/flac"
    assert rows["take.ogg"].content_type == "audio/ogg"
    assert rows["take.mp3"].content_type == "audio/mpeg"
    assert rows["take.wav"].sha256 == hashlib.sha256(good).hexdigest()
    expected = {
        "corrupt.wav": "The file is corrupt", "cut short.wav": "cut short",
        "empty.wav": "The file is empty", "notes.txt": "Not an audio file",
        "take.aiff": "Unsupported format: AIFF", "huge.wav": "The file is too large",
    }
    for name, words in expected.items():
        assert rows[name].state is UploadState.SKIPPED, (name, rows[name])
        assert words in rows[name].reason, (name, rows[name].reason)
        assert not rows[name].remote_id
    dup = rows["copy of take.wav"]
    assert dup.state is UploadState.DUPLICATE
    assert dup.duplicate_of == rows["take.wav"].id and "queued twice" in dup.reason
    assert server_files(client, ds) == sorted(uploaded)
    for row in rows.values():
        if row.state is UploadState.PROCESSING:
            assert client.audio.get(ds, row.remote_id).filename == row.path.name

    engine.resolve_duplicates([dup.id], upload_anyway=True)
    wait_until(lambda: by_name(engine)["copy of take.wav"].state is UploadState.PROCESSING)
    assert server_files(client, ds) == sorted(uploaded | {"copy of take.wav"})


def test_files_already_in_the_dataset_are_flagged(
        client: RelayClient, make_engine: Callable[..., UploadEngine], tmp_path: Path) -> None:
    ds = new_dataset(client)
    first = tone(tmp_path / "a" / "first.wav", freq=500)
    done = client.audio.upload(ds, first)
    wait_until(lambda: client.audio.get(ds, done.audio_id).content_sha256 is not None,
               what="processing to hash the file")
    (tmp_path / "b").mkdir()
    shutil.copy(first, tmp_path / "b" / "renamed.wav")
    other = tone(tmp_path / "b" / "other.wav", freq=510)
    engine = make_engine()
    engine.start()
    engine.add_paths([tmp_path / "b"], UploadTarget("dataset", ds))
    wait_until(lambda: settled(engine))
    rows = by_name(engine)
    assert rows["renamed.wav"].state is UploadState.DUPLICATE
    assert "already in the dataset as first.wav" in rows["renamed.wav"].reason
    assert rows[other.name].state is UploadState.PROCESSING
    engine.resolve_duplicates([rows["renamed.wav"].id], upload_anyway=False)
    row = by_name(engine)["renamed.wav"]
    assert row.state is UploadState.SKIPPED and "Skipped by choice" in row.reason
    assert server_files(client, ds) == ["first.wav", "other.wav"]


def test_lanes_upload_many_files_once_each(
        client: RelayClient, make_engine: Callable[..., UploadEngine], tmp_path: Path) -> None:
    ds = new_dataset(client)
    for i in range(24):
        tone(tmp_path / f"f{i:02d}.wav", seconds=0.2, freq=200 + 7 * i)
    engine = make_engine(lanes=3)
    engine.start()
    engine.add_paths([tmp_path], UploadTarget("dataset", ds))
    wait_until(lambda: settled(engine), timeout=60)
    totals = engine.totals()
    assert (totals.files_total, totals.files_done, totals.files_failed) == (24, 24, 0)
    assert totals.bytes_sent == totals.bytes_total > 0
    assert server_files(client, ds) == [f"f{i:02d}.wav" for i in range(24)]


def _stored_row(path: Path, ds: str, state: UploadState, remote_id: str = "") -> UploadRow:
    return UploadRow(id=uuid.uuid4().hex, path=path, target=UploadTarget("dataset", ds),
                     size=path.stat().st_size, state=state, content_type="audio/wav",
                     sha256=hashlib.sha256(path.read_bytes()).hexdigest(), remote_id=remote_id)


def test_restart_resumes_every_interrupted_upload_without_creating_a_file_twice(
        client: RelayClient, make_engine: Callable[..., UploadEngine], tmp_path: Path) -> None:
    """Each way a crash can leave a file: record only, bytes stored, already confirmed."""
    from relay_desktop.api.uploads import post_to_storage

    ds = new_dataset(client)
    files = [tone(tmp_path / f"{name}.wav", freq=600 + i * 10)
             for i, name in enumerate(["record-only", "stored", "confirmed", "not-started"])]
    store = QueueStore(tmp_path / "queue.sqlite3")
    tickets = {}
    rows = []
    for path in files[:3]:
        t = client.audio.request_upload(ds, path.name, "audio/wav", path.stat().st_size)
        stored = StoredTicket(t.upload_url, dict(t.fields), time.time() + 3000)
        row = _stored_row(path, ds, UploadState.UPLOADING, t.audio_id)
        tickets[row.id] = stored
        rows.append(row)
        if path.stem in ("stored", "confirmed"):
            post_to_storage(client.session, t.upload_url, t.fields, path,
                            timeout=client.timeout, content_type="audio/wav")
        if path.stem == "confirmed":
            client.audio.confirm(ds, t.audio_id)
    rows.append(_stored_row(files[3], ds, UploadState.WAITING))
    store.save(rows, tickets)
    store.close()

    engine = make_engine(store=QueueStore(tmp_path / "queue.sqlite3"))
    restored = engine.restore()
    assert {r.path.name for r in restored} == {p.name for p in files}
    engine.start()
    wait_until(lambda: settled(engine))
    assert {r.state for r in engine.rows()} == {UploadState.PROCESSING}
    items = list(client.audio.iter_items(ds))
    assert Counter(a.filename for a in items) == Counter(p.name for p in files)
    resumed = {r.path.stem: r.remote_id for r in engine.rows()}
    original = {r.path.stem: r.remote_id for r in rows}
    for stem in ("record-only", "stored", "confirmed"):   # the same server records
        assert resumed[stem] == original[stem]
    wait_until(lambda: all(client.audio.get(ds, a.id).processing_status == "ready"
                           for a in items), what="processing")


def test_an_expired_policy_is_replaced_and_the_stale_record_deleted(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "srv", env=server_env({"RELAY_UPLOAD_TTL_S": "2"})).start()
    try:
        client = RelayClient(server.base_url, server.api_key)
        ds = new_dataset(client)
        path = tone(tmp_path / "late.wav")
        t = client.audio.request_upload(ds, path.name, "audio/wav", path.stat().st_size)
        store = QueueStore(tmp_path / "q.sqlite3")
        row = _stored_row(path, ds, UploadState.UPLOADING, t.audio_id)
        # the stored expiry claims it is still valid; storage knows better
        store.save([row], {row.id: StoredTicket(t.upload_url, dict(t.fields), time.time() + 999)})
        time.sleep(2.5)
        engine = UploadEngine(lambda: RelayClient(server.base_url, server.api_key), store)
        try:
            engine.restore()
            engine.start()
            wait_until(lambda: settled(engine))
            [done] = engine.rows()
            assert done.state is UploadState.PROCESSING, done.reason
            assert done.remote_id != t.audio_id
            with pytest.raises(NotFound):
                client.audio.get(ds, t.audio_id)
            assert [a.id for a in client.audio.iter_items(ds)] == [done.remote_id]
        finally:
            engine.close()
        client.close()
    finally:
        server.stop()


def _big_wav(path: Path, data_bytes: int) -> Path:
    """A valid 16-bit mono WAV of silence whose data is a sparse hole (no disk used)."""
    with open(path, "wb") as fh:
        fh.write(b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE")
        fh.write(b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16))
        fh.write(b"data" + struct.pack("<I", data_bytes))
        fh.truncate(44 + data_bytes)
    return path


def test_cancel_stops_a_running_post_and_deletes_its_record(
        client: RelayClient, make_engine: Callable[..., UploadEngine], tmp_path: Path) -> None:
    ds = new_dataset(client)
    big = _big_wav(tmp_path / "big.wav", 400 * 1024 * 1024)
    engine = make_engine()
    engine.start()
    engine.add_paths([big], UploadTarget("dataset", ds))
    wait_until(lambda: any(r.bytes_sent > 0 and r.state is UploadState.UPLOADING
                           for r in engine.rows()), timeout=60, what="the upload to start")
    [row] = engine.rows()
    remote = row.remote_id
    assert remote
    cancelled_at = time.monotonic()
    engine.cancel([row.id])
    wait_until(lambda: by_name(engine)["big.wav"].state is UploadState.CANCELLED, timeout=10)
    assert time.monotonic() - cancelled_at < 3.0
    assert by_name(engine)["big.wav"].bytes_sent == 0
    with pytest.raises(NotFound):
        client.audio.get(ds, remote)
    assert server_files(client, ds) == []


def test_pause_resume_and_retry(client: RelayClient, make_engine: Callable[..., UploadEngine],
                                tmp_path: Path) -> None:
    ds = new_dataset(client)
    for i in range(6):
        tone(tmp_path / "in" / f"p{i}.wav", freq=700 + 5 * i)
    engine = make_engine(lanes=2)
    engine.pause()
    engine.start()
    engine.add_paths([tmp_path / "in"], UploadTarget("dataset", ds))
    wait_until(lambda: len(engine.rows()) == 6 and all(
        r.state is UploadState.PAUSED for r in engine.rows()), what="paused rows")
    time.sleep(0.3)
    assert server_files(client, ds) == [] and engine.totals().paused
    engine.resume()
    wait_until(lambda: settled(engine))
    assert len(server_files(client, ds)) == 6

    gone = tone(tmp_path / "later" / "moved.wav", freq=800)
    engine.add_paths([gone], UploadTarget("dataset", ds))
    wait_until(lambda: "moved.wav" in by_name(engine)
               and by_name(engine)["moved.wav"].state is not UploadState.SCANNING)
    # (the file is valid when scanned; if it already went up, nothing to retry here)
    wait_until(lambda: settled(engine))
    assert by_name(engine)["moved.wav"].state is UploadState.PROCESSING


def test_a_file_removed_after_scanning_fails_and_retry_rescans(
        client: RelayClient, make_engine: Callable[..., UploadEngine], tmp_path: Path) -> None:
    ds = new_dataset(client)
    path = tone(tmp_path / "x" / "vanishing.wav", freq=900)
    engine = make_engine()
    engine.pause()
    engine.start()
    engine.add_paths([path], UploadTarget("dataset", ds))
    wait_until(lambda: by_name(engine).get("vanishing.wav") is not None
               and by_name(engine)["vanishing.wav"].state is UploadState.PAUSED)
    moved = path.rename(tmp_path / "elsewhere.wav")
    engine.resume()
    wait_until(lambda: by_name(engine)["vanishing.wav"].state is UploadState.FAILED)
    row = by_name(engine)["vanishing.wav"]
    assert "gone from the disk" in row.reason
    moved.rename(path)
    engine.retry([row.id])
    wait_until(lambda: by_name(engine)["vanishing.wav"].state is UploadState.PROCESSING)
    assert server_files(client, ds) == ["vanishing.wav"]


def test_the_queue_waits_while_the_server_is_down_and_resumes(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "srv").start()
    try:
        with RelayClient(server.base_url, server.api_key) as c:
            ds = new_dataset(c)
        for i in range(12):
            tone(tmp_path / "in" / f"o{i:02d}.wav", seconds=2.0, freq=1000 + 9 * i)
        with Forwarder(server.base_url) as proxy:
            engine = UploadEngine(lambda: RelayClient(proxy.url, server.api_key,
                                                      timeout=(1.0, 10.0)),
                                  QueueStore(tmp_path / "q.sqlite3"), lanes=2)
            try:
                engine.pause()
                engine.start()
                engine.add_paths([tmp_path / "in"], UploadTarget("dataset", ds))
                wait_until(lambda: len(engine.rows()) == 12 and all(
                    r.state is UploadState.PAUSED for r in engine.rows()))
                server.stop()
                engine.resume()
                wait_until(lambda: engine.offline, what="the engine to notice")
                time.sleep(1.5)
                assert not any(r.state in (UploadState.FAILED, UploadState.PROCESSING)
                               for r in engine.rows())
                server.start()
                proxy.upstream = server.base_url
                wait_until(lambda: settled(engine), timeout=60)
                states = Counter(r.state for r in engine.rows())
                assert states == Counter({UploadState.PROCESSING: 12}), states
            finally:
                engine.close()
        with RelayClient(server.base_url, server.api_key) as c:
            names = [a.filename for a in c.audio.iter_items(ds)]
        assert sorted(names) == [f"o{i:02d}.wav" for i in range(12)]
    finally:
        server.stop()


# ---- the CLI on the same engine -------------------------------------------------------------
def _cli(args: list[str], server: LiveServer, home: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}
    env.update(RELAY_API_KEY=server.api_key, RELAY_BASE_URL=server.base_url,
               RELAY_DESKTOP_HOME=str(home))
    return subprocess.Popen([sys.executable, "-m", "relay_desktop.api", "upload", *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def test_cli_flags_duplicates_and_skips_them_by_default(
        client: RelayClient, relay_server: LiveServer, tmp_path: Path) -> None:
    ds = new_dataset(client)
    one = tone(tmp_path / "in" / "one.wav", freq=1200)
    shutil.copy(one, tmp_path / "in" / "same as one.wav")
    tone(tmp_path / "in" / "two.wav", freq=1210)
    (tmp_path / "in" / "broken.wav").write_bytes(one.read_bytes()[:30])
    proc = _cli([ds, str(tmp_path / "in")], relay_server, tmp_path / "home")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err           # the broken file is an error
    assert "same as one.wav: skipped - Same content as one.wav, queued twice." in err
    assert "broken.wav: skipped - The file is corrupt" in err
    assert ("uploaded 2 of 2 file(s), 1 skipped, 1 duplicate(s) skipped" in err), err
    assert sorted(line.split("\t")[1] for line in out.splitlines()) == sorted(
        str(tmp_path / "in" / n) for n in ("one.wav", "two.wav"))
    (tmp_path / "in" / "broken.wav").unlink()
    proc = _cli([ds, str(tmp_path / "in"), "--duplicates", "upload"], relay_server,
                tmp_path / "home")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "uploaded 3 of 3 file(s)" in err
    assert server_files(client, ds) == sorted(
        ["one.wav", "one.wav", "same as one.wav", "two.wav", "two.wav"])


def _processing_rows(home: Path) -> int:
    found = list((home / "data" / "uploads").glob("cli-*.sqlite3"))
    if not found:
        return 0
    with contextlib.closing(sqlite3.connect(str(found[0]))) as db:
        try:
            return int(db.execute(
                "SELECT COUNT(*) FROM uploads WHERE state='processing'").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


@pytest.mark.slow
def test_cli_killed_mid_queue_resumes_with_every_file_once(
        client: RelayClient, relay_server: LiveServer, tmp_path: Path) -> None:
    ds = new_dataset(client)
    count = 30
    for i in range(count):
        tone(tmp_path / "in" / f"c{i:02d}.wav", seconds=20.0, freq=1300 + 13 * i)
    home = tmp_path / "home"
    proc = _cli([ds, str(tmp_path / "in")], relay_server, home)
    try:
        wait_until(lambda: _processing_rows(home) >= 4 or proc.poll() is not None,
                   timeout=60, what="a few files to go up")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.communicate(timeout=10)
    partial = len(server_files(client, ds))
    assert 4 <= partial <= count + 3
    proc = _cli([ds], relay_server, home)       # no --resume: nothing to do, and it says why
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "add --resume" in err and "nothing to upload" in err
    proc = _cli([ds, "--resume"], relay_server, home)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert Counter(server_files(client, ds)) == Counter(f"c{i:02d}.wav" for i in range(count))
    assert len(out.splitlines()) < count       # the files done before the kill were not redone
    # no orphan record left behind: every file's processing ends (an unconfirmed one never would)
    wait_until(lambda: all(a.processing_status == "ready" for a in client.audio.iter_items(ds)),
               timeout=90, what="every file to be processed")


@pytest.mark.slow
def test_files_dropped_on_an_inference_job(client: RelayClient, relay_server: LiveServer,
                                           make_engine: Callable[..., UploadEngine],
                                           tmp_path: Path) -> None:
    from tests.support.inference_model import DEMO_DIR, held_out, install_model

    job = client.inference_jobs.create(install_model(relay_server, relay_server.api_key))
    drop = tmp_path / "drop"
    drop.mkdir()
    for entry in held_out()[:2]:
        shutil.copy(DEMO_DIR / entry["filename"], drop / entry["filename"])
    (drop / "empty.ogg").write_bytes(b"")
    engine = make_engine()
    engine.start()
    engine.add_paths([drop], UploadTarget("inference_job", job.id, "job"))
    wait_until(lambda: settled(engine))
    rows = by_name(engine)
    assert rows["empty.ogg"].state is UploadState.SKIPPED
    sent = {n: r for n, r in rows.items() if r.state is UploadState.PROCESSING}
    assert set(sent) == {e["filename"] for e in held_out()[:2]}
    assert {r.content_type for r in sent.values()} == {"audio/ogg"}
    files = {f.id: f.original_filename for f in client.inference_jobs.get(job.id).files}
    assert files == {r.remote_id: n for n, r in sent.items()}
