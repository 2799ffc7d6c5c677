"""Hostile files and names, through every way in: the desktop's local check, the CLI,
and straight at the server's three-step upload.

Each gets a clear answer (a reason on the desktop and in the CLI; a 4xx with a
``detail`` or a file that ends "failed" with an ``error_message`` on the server),
nothing crashes, nothing answers 5xx, and storage writes nowhere but its own
folder.
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import requests
import soundfile as sf

from relay_desktop.api.batch_upload.probe import check_file
from tests.support.live_server import LiveServer


def _wav(seconds: float = 0.3, rate: int = 16_000) -> bytes:
    buf = io.BytesIO()
    t = np.arange(int(seconds * rate)) / rate
    sf.write(buf, (0.2 * np.sin(2 * np.pi * 330 * t)).astype("float32"), rate,
             format="WAV", subtype="PCM_16")
    return buf.getvalue()


def _encoded(fmt: str, subtype: str | None = None) -> bytes:
    buf = io.BytesIO()
    rng = np.random.default_rng(5)
    sf.write(buf, (0.1 * rng.standard_normal(16_000)).astype("float32"), 16_000,
             format=fmt, subtype=subtype)
    return buf.getvalue()


def _huge_declared_wav() -> bytes:
    """A RIFF header that declares 65,535 channels and 4 GiB of data, then stops."""
    fmt = struct.pack("<HHIIHH", 1, 65_535, 48_000, 0xFFFFFFFF, 2 * 65_535 % 65_536, 16)
    return (b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE" + b"fmt "
            + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", 0xFFFFFFF0)
            + b"\x00" * 64)


#: name -> bytes: every one is refused (locally) or fails processing (on the server)
HOSTILE_CONTENT: dict[str, Callable[[], bytes]] = {
    "empty.wav": lambda: b"",
    "header-only.wav": lambda: _wav()[:30],
    "truncated.flac": lambda: _encoded("FLAC")[:90],
    "truncated.ogg": lambda: _encoded("OGG", "VORBIS")[:120],
    "fake-id3.mp3": lambda: b"ID3\x04\x00\x00\x00\x00\x00\x21" + os.urandom(600),
    "huge-declared.wav": _huge_declared_wav,
    "text-named.wav": lambda: b"this is a shopping list, not audio\n" * 20,
    "random.flac": lambda: os.urandom(4096),
    "zip-named.ogg": lambda: b"PK\x03\x04" + os.urandom(2048),
}

#: file names that must be kept as given (display) yet never become paths
HOSTILE_NAMES = [
    "../../escape-attempt.wav",
    "..\\..\\windows-escape.wav",
    "/etc/absolute-path.wav",
    "bell\x07and\x1b[31mescape.wav",
    "CON.wav",
    "nul.wav",
    "LPT1",
    "i unicode ñ 测试 ✓ 🎧.wav",
    "\u202eevaw.exe",
    "x" * 250 + ".wav",
    " leading and trailing spaces .wav ",
]


def _corpus(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, make in HOSTILE_CONTENT.items():
        path = folder / name
        path.write_bytes(make())
        out[name] = path
    return out


def _files_outside(root: Path, allowed: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and allowed not in p.parents]


def test_the_desktop_check_refuses_each_hostile_file_with_a_reason(tmp_path: Path) -> None:
    for name, path in _corpus(tmp_path / "corpus").items():
        info, digest, reason = check_file(str(path))
        assert info is None and digest == "", f"{name} passed the local check"
        assert reason and len(reason) < 300 and "Traceback" not in reason, (name, reason)
        assert reason.rstrip().endswith("."), (name, reason)   # a sentence


def test_the_cli_skips_each_hostile_file_and_says_why(fresh_server: LiveServer,
                                                      tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "corpus")
    good = tmp_path / "corpus" / "fine.wav"
    good.write_bytes(_wav())
    api = {"X-API-Key": fresh_server.api_key}
    r = requests.post(f"{fresh_server.base_url}/api/v1/datasets", headers=api, timeout=10,
                      json={"name": f"cli-{uuid.uuid4().hex[:6]}",
                            "artifact_types": [{"name": "glitch"}]})
    assert r.status_code == 201, r.text
    dataset = r.json()["id"]
    env = dict(os.environ, RELAY_BASE_URL=fresh_server.base_url,
               RELAY_API_KEY=fresh_server.api_key, RELAY_DESKTOP_HOME=str(tmp_path / "home"))
    done = subprocess.run([sys.executable, "-m", "relay_desktop.api", "upload", dataset,
                           str(tmp_path / "corpus")], capture_output=True, text=True,
                          env=env, timeout=180)
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    for name in corpus:
        assert name in output, f"{name} is not reported:\n{output}"
    listed = requests.get(f"{fresh_server.base_url}/api/v1/datasets/{dataset}/audio",
                          headers=api, timeout=10).json()
    assert [a["filename"] for a in listed["items"]] == ["fine.wav"]   # only the good one
    assert done.returncode != 0   # something was skipped: the exit status says so


def _three_steps(base: str, key: str, dataset: str, name: str, data: bytes,
                 content_type: str = "audio/wav") -> tuple[int, dict[str, object]]:
    """upload-url, storage POST, confirm; returns the first non-2xx (or the last) answer."""
    headers = {"X-API-Key": key}
    r = requests.post(f"{base}/api/v1/datasets/{dataset}/audio/upload-url", headers=headers,
                      json={"filename": name, "content_type": content_type,
                            "file_size": len(data)}, timeout=10)
    if r.status_code != 201:
        return r.status_code, r.json()
    ticket = r.json()
    stored = requests.post(ticket["upload_url"], data=ticket["fields"],
                           files={"file": (name, data, content_type)}, timeout=30)
    assert stored.status_code < 500, (name, stored.status_code, stored.text)
    if stored.status_code != 204:
        return stored.status_code, {"detail": stored.text}
    r = requests.post(f"{base}/api/v1/datasets/{dataset}/audio/confirm", headers=headers,
                      json={"audio_id": ticket["audio_id"]}, timeout=10)
    return r.status_code, r.json()


def test_hostile_files_and_names_straight_at_the_server(fresh_server: LiveServer,
                                                        tmp_path: Path) -> None:
    base, key = fresh_server.base_url, fresh_server.api_key
    headers = {"X-API-Key": key}
    r = requests.post(f"{base}/api/v1/datasets", headers=headers, timeout=10,
                      json={"name": "hostile", "artifact_types": [{"name": "glitch"}]})
    assert r.status_code == 201
    dataset = r.json()["id"]
    before_outside = set(_files_outside(tmp_path, fresh_server.data_dir))

    # hostile bytes with an honest-looking content type: accepted, then "failed" in words
    confirmed: dict[str, str] = {}
    for name, make in HOSTILE_CONTENT.items():
        data = make()
        status, body = _three_steps(base, key, dataset, name, data)
        assert status < 500, (name, status, body)
        if status == 200:
            confirmed[name] = str(body["audio_id"])
        else:
            assert isinstance(body.get("detail"), (str, list)), (name, body)
    deadline = time.monotonic() + 120
    pending = dict(confirmed)
    while pending and time.monotonic() < deadline:
        for name, audio_id in list(pending.items()):
            item = requests.get(f"{base}/api/v1/datasets/{dataset}/audio/{audio_id}",
                                headers=headers, timeout=10).json()
            if item["processing_status"] in ("ready", "failed"):
                assert item["processing_status"] == "failed", (name, item)
                message = item.get("error_message") or ""
                assert message and "Traceback" not in message, (name, item)
                del pending[name]
        time.sleep(0.2)
    assert not pending, f"still processing: {sorted(pending)}"

    # hostile names on a real file: kept as the display name, never a path
    for name in HOSTILE_NAMES:
        status, body = _three_steps(base, key, dataset, name, _wav())
        assert status < 500, (name, status, body)
        if status == 200:
            item = requests.get(f"{base}/api/v1/datasets/{dataset}/audio/{body['audio_id']}",
                                headers=headers, timeout=10).json()
            assert item["filename"] == name, (name, item["filename"])
        else:
            assert status == 422 and body.get("detail"), (name, status, body)
    nul = requests.post(f"{base}/api/v1/datasets/{dataset}/audio/upload-url", headers=headers,
                        json={"filename": "a\x00b.wav", "content_type": "audio/wav",
                              "file_size": 10}, timeout=10)
    assert nul.status_code in (201, 422), nul.text

    # storage wrote nowhere but the server's own folder
    assert set(_files_outside(tmp_path, fresh_server.data_dir)) == before_outside
    objects = fresh_server.data_dir / "objects" / "tenants"
    named = [p for p in fresh_server.data_dir.rglob("*")
             if p.is_file() and ("escape" in p.name or "absolute-path" in p.name)]
    assert len(named) == 3, named   # the three path-like names, each stored once...
    for path in named:             # ...as a plain name in its own audio file's folder
        assert objects in path.parents and path.parent.parent.name == "audio", path
    assert fresh_server.proc is not None and fresh_server.proc.poll() is None  # still up
    assert "Traceback" not in fresh_server.log_tail(400)


@pytest.mark.parametrize("size", [0, -1, 524_288_001, 10**15])
def test_declared_sizes_outside_the_limits_are_refused(relay_server: LiveServer,
                                                       size: int) -> None:
    headers = {"X-API-Key": relay_server.api_key}
    r = requests.post(f"{relay_server.base_url}/api/v1/datasets", headers=headers, timeout=10,
                      json={"name": f"sizes-{uuid.uuid4().hex[:8]}",
                            "artifact_types": [{"name": "glitch"}]})
    dataset = r.json()["id"]
    r = requests.post(f"{relay_server.base_url}/api/v1/datasets/{dataset}/audio/upload-url",
                      headers=headers, json={"filename": "x.wav", "content_type": "audio/wav",
                                             "file_size": size}, timeout=10)
    assert r.status_code == 422, r.text
    assert r.json()["detail"]
