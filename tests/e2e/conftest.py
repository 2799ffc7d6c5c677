"""Fixtures of the end-to-end tests: a fresh Relay Local behind a fault proxy, set up for a
session of labelling, uploading and training through the whole app."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from relay_desktop.api import RelayClient
from relay_desktop.api.models import AudioFile
from relay_desktop.ui.waveform.editor import AudioEditor
from tests.e2e.test_upload_in_the_app import _takes
from tests.gui.test_regions import drag
from tests.support.fault_proxy import FaultProxy
from tests.support.live_server import LiveServer
from tests.support.trainable import Trainable, trainable_dataset

UPLOADS = 4
SPANS = ((0.5, 1.0), (1.5, 2.0), (2.6, 3.1))
"""The regions the sessions draw, in seconds, on the 4-second take."""


def _ready_audio(client: RelayClient, dataset_id: str, path: Path) -> AudioFile:
    audio_id = client.audio.upload(dataset_id, path).audio_id
    deadline = time.monotonic() + 60
    while (audio := client.audio.get(dataset_id, audio_id)).processing_status != "ready":
        assert audio.processing_status != "failed" and time.monotonic() < deadline, audio
        time.sleep(0.1)
    return audio


class Setup:
    """What exists on the server before the session: made directly, not through the proxy."""

    def __init__(self, server: LiveServer, tmp_path: Path) -> None:
        self.trained: Trainable = trainable_dataset(server.base_url, server.api_key,
                                                    "Faults: demo recordings")
        wav = tmp_path / "take.wav"
        t = np.arange(16_000 * 4) / 16_000
        sf.write(wav, (0.3 * np.sin(2 * np.pi * 180 * t)).astype(np.float32), 16_000)
        with RelayClient(server.base_url, server.api_key) as client:
            labels = client.datasets.create(f"Faults: labels {uuid.uuid4().hex[:6]}",
                                            artifact_types=["glitch", "click"])
            self.label_dataset_id = labels.id
            self.audio = _ready_audio(client, labels.id, wav)
            self.draft_id = client.annotation_sets.create(labels.id).id
            self.upload_dataset_id = client.datasets.create("Faults: uploads").id
            self.dataset_ids = {d.id for d in client.datasets.iter_items()}
        self.files = _takes(tmp_path / "takes", UPLOADS)

    def assert_regions(self, client: RelayClient,
                       expected: dict[str, tuple[str, int, int]]) -> None:
        """The draft holds each region once, as ``expected`` (client id -> type, start, end)."""
        anns = client.annotation_sets.get(self.label_dataset_id, self.draft_id).annotations
        counts = Counter(a.extra_data.get("client_id") for a in anns)
        assert all(n == 1 for n in counts.values()), f"duplicated regions: {counts}"
        assert {a.extra_data["client_id"]: (a.artifact_type, a.start_ms, a.end_ms)
                for a in anns} == expected

    def assert_files(self, client: RelayClient) -> None:
        """The upload dataset holds each uploaded file once, ready."""
        audio = list(client.audio.iter_items(self.upload_dataset_id))
        assert sorted(a.filename for a in audio) == sorted(p.name for p in self.files), \
            [(a.filename, a.processing_status) for a in audio]
        assert {a.processing_status for a in audio} == {"ready"}


@pytest.fixture
def proxied(monkeypatch: pytest.MonkeyPatch, fresh_server: LiveServer,
            tmp_path: Path) -> Iterator[tuple[LiveServer, FaultProxy, Setup]]:
    setup = Setup(fresh_server, tmp_path)
    with FaultProxy(fresh_server.base_url) as proxy:
        monkeypatch.setenv("RELAY_BASE_URL", proxy.url)
        monkeypatch.setenv("RELAY_API_KEY", fresh_server.api_key)
        yield fresh_server, proxy, setup


def draw_spans(editor: AudioEditor) -> Any:
    """Drag :data:`SPANS` on the first channel of the whole take; return that plot."""
    view = editor.view
    view.set_view_range(0.0, 4.0)
    plot = view.plots()[0]
    for a, b in SPANS:
        drag(plot, a, b)
    return plot
