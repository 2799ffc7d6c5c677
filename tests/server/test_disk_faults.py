"""A full or read-only data folder, end to end over HTTP on a real filesystem.

- Full (a size-limited tmpfs, :class:`SmallMount`): every write answers 507 with a
  sentence saying the data folder is full (the storage endpoint: S3-style XML
  ``InsufficientStorage``), a broken upload leaves no partial object and no
  confirmed record, everything committed before stays readable, the server stays
  up, and once space is back the same requests succeed without a restart.
- Read-only (an ext4 image that the kernel turns read-only after an error, the
  way a failing disk does; a tmpfs cannot be remounted read-only while the server
  holds files open for writing): writes answer 503 saying the folder is read-only,
  reads keep working; after a repair and a restart everything is there and writes
  work again.
- Start-up on a full or read-only folder: the server refuses at once with a
  sentence on stderr and exit status 4, and starts normally once the folder is fixed.

With ``RELAY_TEST_DATABASE_URL`` (PostgreSQL) the database is not on the mount,
so its writes succeed; the storage and the task queue still are.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine

from tests.server.conftest import Api, add_audio, server_database_url
from tests.server.test_audio_upload import (
    leftovers,
    make_audio,
    request_upload,
    storage_post,
    upload,
    wait_processed,
)
from tests.support.live_server import LiveServer, server_env
from tests.support.small_mount import SmallMount, require_mounts

SQLITE = not os.environ.get("RELAY_TEST_DATABASE_URL")
FULL = "data folder is full"
READ_ONLY = "data folder is read-only"
EXIT_DISK_FAULT = 4


# ---- helpers --------------------------------------------------------------------------------
def start_server(data_dir: Path, log: Path, again: LiveServer | None = None) -> LiveServer:
    """A live server on ``data_dir`` whose log lives off the mount (it must outlive it);
    ``again``: a stopped server whose database and key to use."""
    data_dir.mkdir(parents=True, exist_ok=True)
    link = data_dir / "server.log"
    if not link.is_symlink():
        link.symlink_to(log)
    if again is not None:
        return LiveServer(data_dir, env=again.env, api_key=again.api_key).start()
    return LiveServer(data_dir, env=server_env({"RELAY_WORKERS": "1"})).start()


def refused(r: requests.Response, status: int, words: str) -> None:
    """A refused write: ``status``, a JSON ``detail`` sentence containing ``words``."""
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and words in detail and detail.endswith("."), detail


def refused_xml(r: requests.Response, status: int, code: str, words: str) -> None:
    assert r.status_code == status, r.text
    assert f"<Code>{code}</Code>" in r.text and words in r.text, r.text


def db_write(r: requests.Response, status: int, words: str, ok: int = 201) -> None:
    """A database write: refused on SQLite (the database is on the mount), done on PostgreSQL."""
    if SQLITE:
        refused(r, status, words)
    else:
        assert r.status_code == ok, r.text


def new_dataset(api: Api, name: str) -> requests.Response:
    return api.post("/api/v1/datasets", json={"name": name, "artifact_types": [{"name": "glitch"}]})


def annotation(api: Api, dataset_id: str, set_id: str, audio_id: str) -> requests.Response:
    return api.post(f"/api/v1/datasets/{dataset_id}/annotation-sets/{set_id}/annotations",
                    json={"audio_file_id": audio_id, "artifact_type": "glitch",
                          "start_ms": 100, "end_ms": 200})


def training_job(api: Api, train: dict[str, str]) -> requests.Response:
    return api.post("/api/v1/training-jobs", json={
        "dataset_id": train["dataset"], "annotation_set_id": train["set"],
        "config": {"artifact_types": ["glitch"], "epochs": 1}})


def trainable_dataset(api: Api, server: LiveServer) -> dict[str, str]:
    """A dataset that meets every training precondition (5 ready minutes, published set)."""
    dataset = api.new_dataset("train", ("glitch",))
    engine = create_engine(server_database_url(server))
    try:
        audio = add_audio(engine, dataset["id"], 5, duration_ms=60_000)
    finally:
        engine.dispose()
    draft = api.new_set(dataset["id"])
    assert annotation(api, dataset["id"], draft["id"], audio[0]).status_code == 201
    published = api.post(f"/api/v1/datasets/{dataset['id']}/annotation-sets/{draft['id']}/publish")
    assert published.status_code == 200, published.text
    return {"dataset": dataset["id"], "set": draft["id"], "audio": audio[0]}


def committed_state(api: Api, dataset_id: str, set_id: str, audio_id: str,
                    data: bytes) -> dict[str, Any]:
    """What was committed, read back over HTTP (the stored audio's bytes included)."""
    datasets = api.get("/api/v1/datasets", params={"page_size": 100})
    assert datasets.status_code == 200, datasets.text
    audio = api.get(f"/api/v1/datasets/{dataset_id}/audio")
    assert audio.status_code == 200, audio.text
    aset = api.get(f"/api/v1/datasets/{dataset_id}/annotation-sets/{set_id}")
    assert aset.status_code == 200, aset.text
    link = api.get(f"/api/v1/datasets/{dataset_id}/audio/{audio_id}/download-url")
    assert link.status_code == 200, link.text
    stored = requests.get(link.json()["download_url"], timeout=30)
    assert stored.status_code == 200 and stored.content == data
    return {"datasets": sorted(d["id"] for d in datasets.json()["items"]),
            "audio": sorted((a["id"], a["processing_status"]) for a in audio.json()["items"]),
            "annotations": sorted(a["id"] for a in aset.json()["annotations"])}


def seed(api: Api) -> dict[str, Any]:
    """A dataset with a processed upload, a draft set and one annotation of it."""
    dataset = api.new_dataset("kept")
    data = make_audio(1.0)
    audio_id = upload(api, dataset["id"], data)
    assert wait_processed(api, dataset["id"], audio_id)["processing_status"] == "ready"
    draft = api.new_set(dataset["id"])
    assert annotation(api, dataset["id"], draft["id"], audio_id).status_code == 201
    return {"dataset": dataset["id"], "set": draft["id"], "audio": audio_id, "data": data}


def state_of(api: Api, kept: dict[str, Any]) -> dict[str, Any]:
    return committed_state(api, kept["dataset"], kept["set"], kept["audio"], kept["data"])


def assert_no_bare_500(server: LiveServer) -> None:
    assert server.proc is not None and server.proc.poll() is None, server.log_tail()
    log = server.log_tail(400)
    assert "Unhandled error" not in log and "Database error on" not in log, log


# ---- a full data folder ---------------------------------------------------------------------
def test_full_data_folder_answers_507_keeps_data_and_recovers(tmp_path: Path) -> None:
    with SmallMount(tmp_path / "data", size="48m") as mnt:
        server = start_server(mnt.path, tmp_path / "server.log")
        try:
            api = Api(server.base_url, server.api_key)
            kept = seed(api)
            train = trainable_dataset(api, server)
            before = state_of(api, kept)
            big = make_audio(24.0)  # ~4 MB: the disk fills up in the middle of it
            ticket = request_upload(api, kept["dataset"], "big.wav", len(big))
            early = make_audio(2.0)
            early_ticket = request_upload(api, kept["dataset"], "early.wav", len(early))
            assert storage_post(early_ticket, early).status_code == 204  # stored, not confirmed
            small_ticket = request_upload(api, kept["dataset"], "small.wav", len(early))
            audio_folder = (mnt.path / "objects" / ticket["key"]).parent

            mnt.fill(leave_bytes=1 << 20)
            refused_xml(storage_post(ticket, big), 507, "InsufficientStorage", FULL)
            assert leftovers(audio_folder) == []  # no partial object, no temp file
            r = api.post(f"/api/v1/datasets/{kept['dataset']}/audio/confirm",
                         json={"audio_id": ticket["audio_id"]})
            assert r.status_code == 400 and "not been uploaded" in r.json()["detail"]

            mnt.fill()
            refused_xml(storage_post(small_ticket, early), 507, "InsufficientStorage", FULL)
            db_write(new_dataset(api, "during"), 507, FULL)
            db_write(api.post(f"/api/v1/datasets/{kept['dataset']}/annotation-sets"), 507, FULL)
            db_write(annotation(api, kept["dataset"], kept["set"], kept["audio"]), 507, FULL)
            db_write(api.post(f"/api/v1/datasets/{kept['dataset']}/audio/upload-url",
                              json={"filename": "x.wav", "content_type": "audio/wav",
                                    "file_size": 100}), 507, FULL)
            # on PostgreSQL the confirmation commits, the full queue refuses its task and the
            # confirmation is taken back: either way it can simply be repeated later
            refused(api.post(f"/api/v1/datasets/{kept['dataset']}/audio/confirm",
                             json={"audio_id": early_ticket["audio_id"]}), 507, FULL)
            if SQLITE:
                refused(training_job(api, train), 507, FULL)
            else:  # the job is stored, the full queue refuses it: 503 in words
                refused(training_job(api, train), 503, "task queue is unavailable")
            during = state_of(api, kept)
            assert_no_bare_500(server)

            mnt.free()
            assert new_dataset(api, "after").status_code == 201
            assert annotation(api, kept["dataset"], kept["set"], kept["audio"]).status_code == 201
            r = storage_post(ticket, big)  # the same upload, retried
            assert r.status_code == 204, r.text
            for audio_id in (ticket["audio_id"], early_ticket["audio_id"]):
                c = api.post(f"/api/v1/datasets/{kept['dataset']}/audio/confirm",
                             json={"audio_id": audio_id})
                assert c.status_code == 200, c.text
                item = wait_processed(api, kept["dataset"], audio_id)
                assert item["processing_status"] == "ready", item
            job = training_job(api, train)
            assert job.status_code == 201, job.text
            api.post(f"/api/v1/training-jobs/{job.json()['id']}/cancel")
            after = state_of(api, kept)
            for key in ("datasets", "annotations"):  # nothing committed was lost
                assert set(before[key]) <= set(during[key]) <= set(after[key])
            assert set(before["audio"]) <= set(during["audio"])
            assert_no_bare_500(server)
        finally:
            server.stop()


# ---- a read-only data folder ----------------------------------------------------------------
class Ext4Image:
    """An ext4 image on a loop device, mounted ``errors=remount-ro`` at ``path``.

    :meth:`fail` reports a filesystem error to the kernel (the ext4 sysfs
    ``trigger_fs_error``), which turns the mount read-only at once, for files
    already open too, as a failing disk does. :meth:`repair` unmounts, checks
    the image with e2fsck and mounts it read-write again.
    """

    def __init__(self, image: Path, path: Path, size: str = "64M") -> None:
        self.image, self.path, self.size = image, path, size

    def _mount(self) -> None:
        subprocess.run(["mount", "-o", "loop,errors=remount-ro", str(self.image),
                        str(self.path)], check=True, capture_output=True)

    def __enter__(self) -> Ext4Image:
        require_mounts()
        if shutil.which("mkfs.ext4") is None or shutil.which("e2fsck") is None:
            pytest.skip("no mkfs.ext4/e2fsck here")
        subprocess.run(["truncate", "-s", self.size, str(self.image)], check=True)
        subprocess.run(["mkfs.ext4", "-q", str(self.image)], check=True, capture_output=True)
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            self._mount()
        except subprocess.CalledProcessError as exc:
            pytest.skip(f"cannot mount an ext4 image: {exc.stderr.strip()}")
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.run(["umount", "-l", str(self.path)], capture_output=True)

    def fail(self) -> None:
        os.sync()  # what was committed has reached the image (a disk failing later)
        source = subprocess.run(["findmnt", "-no", "SOURCE", str(self.path)], check=True,
                                capture_output=True, text=True).stdout.strip()
        trigger = Path("/sys/fs/ext4", Path(source).name, "trigger_fs_error")
        if not trigger.exists():
            pytest.skip("this kernel has no ext4 trigger_fs_error")
        trigger.write_text("disk-fault test\n")

    def repair(self) -> None:
        subprocess.run(["umount", str(self.path)], check=True, capture_output=True)
        done = subprocess.run(["e2fsck", "-fy", str(self.image)], capture_output=True, text=True)
        assert done.returncode in (0, 1), done.stdout + done.stderr  # 1: errors corrected
        self._mount()


def test_read_only_data_folder_answers_503_reads_work_then_recovers(tmp_path: Path) -> None:
    with Ext4Image(tmp_path / "disk.img", tmp_path / "disk") as disk:
        data_dir = disk.path / "relay"
        server = start_server(data_dir, tmp_path / "server.log")
        try:
            api = Api(server.base_url, server.api_key)
            kept = seed(api)
            before = state_of(api, kept)
            data = make_audio(2.0)
            ticket = request_upload(api, kept["dataset"], "late.wav", len(data))

            disk.fail()
            refused_xml(storage_post(ticket, data), 503, "ServiceUnavailable", READ_ONLY)
            db_write(new_dataset(api, "during"), 503, READ_ONLY)
            db_write(api.post(f"/api/v1/datasets/{kept['dataset']}/annotation-sets"), 503,
                     READ_ONLY)
            db_write(annotation(api, kept["dataset"], kept["set"], kept["audio"]), 503,
                     READ_ONLY)
            during = state_of(api, kept)  # reads keep working
            for key in before:
                assert set(before[key]) <= set(during[key])
            assert_no_bare_500(server)
            server.stop()
        finally:
            server.stop()

        disk.repair()
        server = start_server(data_dir, tmp_path / "server.log", again=server)
        try:
            api = Api(server.base_url, server.api_key)
            after = state_of(api, kept)
            for key in before:
                assert set(before[key]) <= set(after[key])
            assert new_dataset(api, "after").status_code == 201
            ticket["upload_url"] = server.base_url + "/storage/relay-local"  # a new port
            assert storage_post(ticket, data).status_code == 204  # the same upload, retried
            c = api.post(f"/api/v1/datasets/{kept['dataset']}/audio/confirm",
                         json={"audio_id": ticket["audio_id"]})
            assert c.status_code == 200, c.text
            item = wait_processed(api, kept["dataset"], ticket["audio_id"])
            assert item["processing_status"] == "ready", item
        finally:
            server.stop()


# ---- starting on a full or read-only data folder --------------------------------------------
def serve_once(data_dir: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "relay_server", "serve", "--data-dir",
                           str(data_dir), "--host", "127.0.0.1", "--port", "0"],
                          capture_output=True, text=True, env=env, timeout=60)


@pytest.fixture
def used_mount(tmp_path: Path) -> Iterator[tuple[SmallMount, LiveServer]]:
    """A tmpfs data folder that a server has used (and left), with its data."""
    with SmallMount(tmp_path / "data", size="24m") as mnt:
        server = start_server(mnt.path, tmp_path / "server.log")
        server.stop()
        yield mnt, server


def test_server_refuses_to_start_on_a_full_or_read_only_folder(
        used_mount: tuple[SmallMount, LiveServer]) -> None:
    mnt, first = used_mount
    mnt.fill()
    done = serve_once(mnt.path, first.env)
    assert done.returncode == EXIT_DISK_FAULT, done.stderr
    assert f"the data folder {mnt.path} is full" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""

    mnt.free()
    mnt.read_only()
    try:
        done = serve_once(mnt.path, first.env)
    finally:
        mnt.read_write()
    assert done.returncode == EXIT_DISK_FAULT, done.stderr
    assert f"the data folder {mnt.path} is read-only" in done.stderr
    assert "Traceback" not in done.stderr

    server = start_server(mnt.path, mnt.path / "unused", again=first)
    try:
        assert Api(server.base_url, server.api_key).get("/api/v1/datasets").status_code == 200
        assert new_dataset(Api(server.base_url, server.api_key), "fixed").status_code == 201
    finally:
        server.stop()
