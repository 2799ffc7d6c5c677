"""``python -m relay_desktop.api`` end to end, as a subprocess against real servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from relay_desktop.api import RelayClient
from relay_desktop.api.models import AnnotationCreate
from tests.api.conftest import unique, write_wav
from tests.support.fault_server import FaultServer, Reply
from tests.support.live_server import LiveServer

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, key: str | None, base_url: str | None = None,
        timeout: float = 60, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}
    if home is not None:  # where `upload` keeps its resumable queue
        env["RELAY_DESKTOP_HOME"] = str(home)
    if key is not None:
        env["RELAY_API_KEY"] = key
    if base_url is not None:
        env["RELAY_BASE_URL"] = base_url
    return subprocess.run([sys.executable, "-m", "relay_desktop.api", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_datasets_create_and_list(relay_server: LiveServer) -> None:
    key = relay_server.new_key(unique("cli"))
    made = cli("datasets", "create", "Voice QA", "--types", "glitch,long_pause",
               "--description", "cli test", key=key, base_url=relay_server.base_url)
    assert made.returncode == 0, made.stderr
    ds_id = made.stdout.strip()
    assert "glitch, long_pause" in made.stderr
    listed = cli("--base-url", relay_server.base_url, "datasets", "list", key=key)
    assert listed.returncode == 0, listed.stderr
    (line,) = listed.stdout.splitlines()
    assert line.split("\t")[:3] == [ds_id, "Voice QA", "glitch,long_pause"]


def test_upload_files_and_folders(relay_server: LiveServer, tmp_path: Path) -> None:
    key = relay_server.new_key(unique("cli-up"))
    with RelayClient(relay_server.base_url, key) as c:
        ds = c.datasets.create("up", ["glitch"])
    write_wav(tmp_path / "in" / "a.wav")
    write_wav(tmp_path / "in" / "sub" / "b.wav")
    (tmp_path / "in" / "notes.txt").write_text("not audio")
    single = write_wav(tmp_path / "c.wav")
    # write_wav makes identical files: sent anyway (the default skips duplicates)
    res = cli("upload", ds.id, str(tmp_path / "in"), str(single), "--duplicates", "upload",
              key=key, base_url=relay_server.base_url, home=tmp_path / "home")
    assert res.returncode == 0, res.stderr
    assert "uploaded 3 of 3 file(s)" in res.stderr
    assert len(res.stdout.splitlines()) == 3
    with RelayClient(relay_server.base_url, key) as c:
        names = sorted(a.filename for a in c.audio.iter_items(ds.id))
    assert names == ["a.wav", "b.wav", "c.wav"]


def test_upload_reports_failures_with_nonzero_exit(fault: FaultServer, other_host: FaultServer,
                                                   tmp_path: Path) -> None:
    fault.script("GET", "/api/v1/datasets/d", Reply(200, json={"id": "d", "name": "n"}))
    fault.script_dataset_upload(other_host.url + "/bucket", {"key": "k"})
    other_host.script("POST", "/bucket", [Reply(204), Reply.s3_error(
        403, "AccessDenied", "Invalid according to Policy: Policy Condition failed")])
    write_wav(tmp_path / "1.wav")
    write_wav(tmp_path / "2.wav")
    # one lane, and the two identical files both sent: the scripted replies go in file order
    res = cli("upload", "d", str(tmp_path / "1.wav"), str(tmp_path / "2.wav"),
              str(tmp_path / "missing.wav"), "--lanes", "1", "--duplicates", "upload",
              key="k" * 10, base_url=fault.url, home=tmp_path / "home")
    assert res.returncode == 1
    assert "2.wav: FAILED - Storage refused the upload (AccessDenied)" in res.stderr
    assert "uploaded 1 of 2 file(s), 1 failed, 1 skipped" in res.stderr
    assert "no such file" in res.stderr
    assert "Traceback" not in res.stderr


def test_sets_export_formats(relay_server: LiveServer, tmp_path: Path) -> None:
    key = relay_server.new_key(unique("cli-ex"))
    with RelayClient(relay_server.base_url, key) as c:
        ds = c.datasets.create("ex", ["glitch", "long_pause"])
        a1 = c.audio.upload(ds.id, write_wav(tmp_path / "one.wav")).audio_id
        a2 = c.audio.upload(ds.id, write_wav(tmp_path / "two.wav")).audio_id
        s = c.annotation_sets.create(ds.id)
        c.annotations.bulk_create(ds.id, s.id, [AnnotationCreate(a1, "glitch", 100, 250, 0.5),
                                                AnnotationCreate(a2, "long_pause", 0, 900)])
    env: dict[str, Any] = dict(key=key, base_url=relay_server.base_url)
    res = cli("sets", "export", ds.id, s.id, "--format", "json", **env)
    assert res.returncode == 0, res.stderr
    regions = json.loads(res.stdout)["regions"]
    assert {(r["filename"], r["artifact_type"], r["start_ms"], r["end_ms"]) for r in regions} == {
        ("one.wav", "glitch", 100, 250), ("two.wav", "long_pause", 0, 900)}
    out = tmp_path / "labels.csv"
    res = cli("sets", "export", ds.id, s.id, "--format", "csv", "-o", str(out), **env)
    assert res.returncode == 0 and out.read_text().startswith("audio_file_id,filename,")
    res = cli("sets", "export", ds.id, s.id, "--format", "textgrid", **env)
    assert res.returncode == 2 and "--audio" in res.stderr and "Traceback" not in res.stderr
    res = cli("sets", "export", ds.id, s.id, "--format", "audacity", "--audio", a1, **env)
    assert res.returncode == 0 and res.stdout == "0.100000\t0.250000\tglitch\n"
    res = cli("sets", "export", ds.id, s.id, "--format", "textgrid", "--audio", a2, **env)
    assert res.returncode == 0 and 'name = "long_pause"' in res.stdout


def test_jobs_watch_prints_changes_until_terminal(fault: FaultServer) -> None:
    job = {"id": "t1", "status": "queued"}
    fault.script("GET", "/api/v1/training-jobs/t1", [
        Reply(200, json=job), Reply(200, json=job), Reply(200, json={**job, "status": "training"}),
        Reply(200, json={**job, "status": "completed", "model_id": "m9"})])
    res = cli("jobs", "watch", "t1", "--interval", "0.01", key="k" * 10, base_url=fault.url)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert [ln.split(": ", 1)[1] for ln in lines[:3]] == ["queued", "training", "completed"]
    assert lines[-1] == "model: m9"


def test_jobs_watch_inference_failure(fault: FaultServer) -> None:
    fault.script("GET", "/api/v1/training-jobs/i1", Reply(404, json={"detail": "Job not found"}))
    fault.script("GET", "/api/v1/inference-jobs/i1", [
        Reply(200, json={"id": "i1", "status": "processing", "total_files": 2}),
        Reply(200, json={"id": "i1", "status": "failed", "error_message": "model missing"})])
    res = cli("jobs", "watch", "i1", "--interval", "0.01", key="k" * 10, base_url=fault.url)
    assert res.returncode == 1
    assert "inference job i1: processing (0/2 files" in res.stdout
    assert "error: model missing" in res.stdout


def test_clear_errors_without_tracebacks(relay_server: LiveServer) -> None:
    res = cli("datasets", "list", key=None, base_url=relay_server.base_url)
    assert res.returncode == 2 and res.stderr.strip() == "error: no API key: set RELAY_API_KEY"
    res = cli("datasets", "list", key="wrong-key-123")
    assert res.returncode == 2 and "RELAY_BASE_URL" in res.stderr
    res = cli("datasets", "list", key="wrong-key-123", base_url=relay_server.base_url)
    assert res.returncode == 1 and res.stderr.startswith("error: ")
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    res = cli("datasets", "list", key="k" * 10, base_url="http://127.0.0.1:9")
    assert res.returncode == 1 and "not reachable" in res.stderr
    res = cli("--api-key", "x", "datasets", "list", key="k" * 10)
    assert res.returncode == 2  # there is no way to pass the key as an argument


def test_jobs_watch_unknown_job(fault: FaultServer) -> None:
    res = cli("jobs", "watch", "nope", key="k" * 10, base_url=fault.url)
    assert res.returncode == 2
    assert res.stderr.strip() == ("error: no training or inference job nope on this server "
                                  "(or it belongs to another API key)")
