"""Decompression bombs: a ~1 MB FLAC that decodes to 3 hours of 8-channel 192 kHz silence
(16.6 billion samples, 33 GB as 16-bit PCM), through the desktop's local check, the CLI
and straight at the server.

The server refuses it from its header before decoding (relay_server.processing.decode
limits: 12 hours, 8.3 billion samples per file): the file ends ``failed`` with a
sentence, within seconds, the server's peak memory barely moves, and it keeps
answering. The desktop check reads only the header and a few blocks, so it stays
quick and small whatever the file declares.
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
import requests
import soundfile as sf

from relay_desktop.api.batch_upload.probe import check_file
from relay_server.processing import decode
from relay_server.processing.errors import AudioError
from tests.support.live_server import LiveServer

RATE, CHANNELS, SECONDS = 192_000, 8, 3 * 3600
BLOCK = 65_535
REFUSAL = "too large to decode"
MAX_GROWTH = 300 * 2**20   # bytes of peak-RSS growth the server may show


def _crc_table(bits: int, poly: int) -> list[int]:
    top, mask = 1 << (bits - 1), (1 << bits) - 1
    table = []
    for byte in range(256):
        crc = byte << (bits - 8)
        for _ in range(8):
            crc = ((crc << 1) ^ poly) & mask if crc & top else (crc << 1) & mask
        table.append(crc)
    return table


CRC8, CRC16 = _crc_table(8, 0x07), _crc_table(16, 0x8005)


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = CRC8[crc ^ byte]
    return crc


def _crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ CRC16[(crc >> 8) ^ byte]
    return crc


def _utf8_number(n: int) -> bytes:
    """A FLAC frame number, coded like UTF-8 (up to 36 bits)."""
    if n < 0x80:
        return bytes([n])
    size = next(k for k, limit in ((2, 0x800), (3, 0x10000), (4, 0x200000),
                                   (5, 0x4000000), (6, 0x80000000)) if n < limit)
    tail = []
    for _ in range(size - 1):
        tail.append(0x80 | (n & 0x3F))
        n >>= 6
    return bytes([((0xFF << (8 - size)) & 0xFF) | n, *reversed(tail)])


def flac_bomb(rate: int = RATE, channels: int = CHANNELS, seconds: int = SECONDS) -> bytes:
    """A valid FLAC stream of silence: every frame is 65,535 samples of CONSTANT subframes."""
    total = rate * seconds
    streaminfo = (struct.pack(">HH", BLOCK, BLOCK) + bytes(6)
                  + ((rate << 44) | ((channels - 1) << 41) | (15 << 36) | total).to_bytes(8, "big")
                  + bytes(16))
    parts = [b"fLaC", b"\x80" + len(streaminfo).to_bytes(3, "big"), streaminfo]
    count = -(-total // BLOCK)
    silence = b"\x00\x00\x00" * channels   # per channel: CONSTANT subframe header, value 0
    for i in range(count):
        size = BLOCK if i < count - 1 else total - BLOCK * (count - 1)
        head = (bytes([0xFF, 0xF8, 0x70, ((channels - 1) << 4) | 0x08]) + _utf8_number(i)
                + struct.pack(">H", size - 1))
        frame = head + bytes([_crc8(head)]) + silence
        parts.append(frame + struct.pack(">H", _crc16(frame)))
    return b"".join(parts)


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "three-hours-of-nothing.flac"
    path.write_bytes(flac_bomb())
    return path


def test_the_bomb_is_what_it_claims(bomb: Path) -> None:
    assert bomb.stat().st_size < 2 * 2**20
    with sf.SoundFile(str(bomb)) as handle:
        assert (handle.samplerate, handle.channels, handle.frames) == (RATE, CHANNELS,
                                                                       RATE * SECONDS)
        assert not handle.read(BLOCK * 2, dtype="float32").any()


def test_the_desktop_check_stays_quick_and_small(bomb: Path) -> None:
    started = time.monotonic()
    info, digest, reason = check_file(str(bomb))
    assert time.monotonic() - started < 10
    if info is None:  # refused: then in a sentence
        assert reason.rstrip().endswith(".") and "Traceback" not in reason
    else:             # accepted as what its header says; the server decides
        assert (info.channels, info.frames) == (CHANNELS, RATE * SECONDS) and digest


def test_decoding_stops_at_the_limit_when_the_header_understates(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "one-second.wav"
    sf.write(path, np.zeros(16_000, dtype="float32"), 16_000)
    monkeypatch.setattr(decode, "MAX_DECODED_SAMPLES", 10_000)
    with decode.open_audio(path) as handle:
        handle_frames = handle.frames
        blocks = decode.mono_blocks(handle, block_frames=4096)
        with pytest.raises(AudioError, match=REFUSAL):
            for _ in blocks:
                pass
    assert handle_frames == 16_000


def _peak_rss(pid: int) -> int:
    """VmHWM: the most resident memory the process has ever had, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def _dataset(server: LiveServer) -> str:
    r = requests.post(f"{server.base_url}/api/v1/datasets", timeout=10,
                      headers={"X-API-Key": server.api_key},
                      json={"name": f"bombs-{uuid.uuid4().hex[:6]}",
                            "artifact_types": [{"name": "glitch"}]})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _wait_failed(server: LiveServer, dataset: str, audio_id: str,
                 timeout: float = 60) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        item = requests.get(f"{server.base_url}/api/v1/datasets/{dataset}/audio/{audio_id}",
                            headers={"X-API-Key": server.api_key}, timeout=10).json()
        if item["processing_status"] in ("ready", "failed"):
            return dict(item)
        time.sleep(0.1)
    raise AssertionError(f"{audio_id} still processing after {timeout}s")


def test_straight_at_the_server_it_fails_in_words_without_the_memory(
        fresh_server: LiveServer, bomb: Path) -> None:
    assert fresh_server.proc is not None
    base, headers = fresh_server.base_url, {"X-API-Key": fresh_server.api_key}
    dataset = _dataset(fresh_server)
    data = bomb.read_bytes()
    before = _peak_rss(fresh_server.proc.pid)
    started = time.monotonic()
    r = requests.post(f"{base}/api/v1/datasets/{dataset}/audio/upload-url", headers=headers,
                      json={"filename": bomb.name, "content_type": "audio/flac",
                            "file_size": len(data)}, timeout=10)
    assert r.status_code == 201, r.text
    ticket = r.json()
    stored = requests.post(ticket["upload_url"], data=ticket["fields"],
                           files={"file": (bomb.name, data, "audio/flac")}, timeout=30)
    assert stored.status_code == 204, stored.text
    r = requests.post(f"{base}/api/v1/datasets/{dataset}/audio/confirm", headers=headers,
                      json={"audio_id": ticket["audio_id"]}, timeout=10)
    assert r.status_code == 200, r.text
    item = _wait_failed(fresh_server, dataset, ticket["audio_id"])
    elapsed = time.monotonic() - started
    growth = _peak_rss(fresh_server.proc.pid) - before
    print(f"bomb refused in {elapsed:.2f}s; server peak RSS {before / 2**20:.0f} MB "
          f"-> +{growth / 2**20:.1f} MB")
    assert item["processing_status"] == "failed", item
    assert REFUSAL in str(item["error_message"]), item
    assert growth < MAX_GROWTH, growth
    assert requests.get(f"{base}/healthz", timeout=5).ok   # still up, still answering
    assert fresh_server.proc.poll() is None
    assert "Traceback" not in fresh_server.log_tail(400)


def test_the_cli_uploads_it_and_the_server_refuses_it(fresh_server: LiveServer, bomb: Path,
                                                      tmp_path: Path) -> None:
    folder = tmp_path / "to-upload"
    folder.mkdir()
    (folder / bomb.name).write_bytes(bomb.read_bytes())
    dataset = _dataset(fresh_server)
    env = dict(os.environ, RELAY_BASE_URL=fresh_server.base_url,
               RELAY_API_KEY=fresh_server.api_key, RELAY_DESKTOP_HOME=str(tmp_path / "home"))
    done = subprocess.run([sys.executable, "-m", "relay_desktop.api", "upload", dataset,
                           str(folder)], capture_output=True, text=True, env=env, timeout=120)
    output = done.stdout + done.stderr
    assert "Traceback" not in output and bomb.name in output, output
    listed = requests.get(f"{fresh_server.base_url}/api/v1/datasets/{dataset}/audio",
                          headers={"X-API-Key": fresh_server.api_key}, timeout=10).json()
    if listed["items"]:  # the local check let it through: the server refuses it in words
        item = _wait_failed(fresh_server, dataset, listed["items"][0]["id"])
        assert item["processing_status"] == "failed" and REFUSAL in str(item["error_message"])
    else:                # refused locally: the CLI said why and exited non-zero
        assert done.returncode != 0, output
    assert fresh_server.proc is not None and fresh_server.proc.poll() is None


def test_a_bomb_in_memory_is_tiny() -> None:
    """The generator itself stays cheap (so the corpus can grow without slowing CI)."""
    started = time.monotonic()
    data = flac_bomb(seconds=600)
    assert len(data) < 200_000 and time.monotonic() - started < 2
    assert sf.info(io.BytesIO(data)).frames == RATE * 600
