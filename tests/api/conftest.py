"""Fixtures for the client tests: clients on the live server and on fault servers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from relay_desktop.api import RelayClient, RetryPolicy
from tests.api.test_sync import Workspace, make_workspace
from tests.support.fault_server import FaultServer
from tests.support.live_server import LiveServer

FAST_RETRY = RetryPolicy(max_retries=3, backoff_base=0.01, backoff_max=0.05, jitter=0.1)


@pytest.fixture
def client(relay_server: LiveServer) -> Iterator[RelayClient]:
    """A client of the shared live Relay Local."""
    with RelayClient(relay_server.base_url, relay_server.api_key, timeout=(5.0, 30.0)) as c:
        yield c


@pytest.fixture
def ws(relay_server: LiveServer) -> Iterator[Workspace]:
    """A new dataset with two audio records and an empty draft (``test_sync.make_workspace``)."""
    workspace = make_workspace(relay_server.base_url, relay_server.api_key)
    yield workspace
    workspace.client.close()


@pytest.fixture
def fault() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


@pytest.fixture
def other_host() -> Iterator[FaultServer]:
    """A second fault server: another port, i.e. another origin."""
    with FaultServer() as srv:
        yield srv


@pytest.fixture
def fault_client(fault: FaultServer) -> Iterator[RelayClient]:
    """A client of the fault server with fast retries."""
    with RelayClient(fault.url, "fault-key-" + uuid.uuid4().hex, timeout=(2.0, 5.0),
                     retry=FAST_RETRY) as c:
        yield c


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def write_wav(path: Path, seconds: float = 1.0, rate: int = 16000) -> Path:
    """A real, decodable mono WAV (a quiet sine with a click)."""
    import numpy as np
    import soundfile as sf

    t = np.arange(int(seconds * rate)) / rate
    signal = 0.2 * np.sin(2 * np.pi * 440 * t)
    signal[len(signal) // 2] = 0.9
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), signal.astype("float32"), rate, subtype="PCM_16")
    return path


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    return write_wav(tmp_path / "take-1.wav")
