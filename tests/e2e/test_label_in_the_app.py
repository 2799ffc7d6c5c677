"""The whole app, as a user labels: pick a dataset, open a file, open a draft, draw, it syncs.

Everything is real: the Application with its ApiWorker, the waveform editor
(fetching the file through the server's download URL), the Labels dock and
the sync journal, against a live Relay Local.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from relay_desktop.api import RelayClient
from tests.gui.test_regions import drag
from tests.support.app_driver import open_draft, running_app
from tests.support.live_server import LiveServer


def _ready_audio(client: RelayClient, dataset_id: str, path: Path) -> Any:
    audio_id = client.audio.upload(dataset_id, path).audio_id
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        audio = client.audio.get(dataset_id, audio_id)
        if audio.processing_status in ("ready", "failed"):
            assert audio.processing_status == "ready", audio.error_message
            return audio
        time.sleep(0.2)
    raise AssertionError("the upload never finished processing")


def test_draw_a_region_in_the_app_and_it_reaches_the_server(
        qtbot: Any, tmp_path: Path, relay_server: LiveServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    wav = tmp_path / "take.wav"
    t = np.arange(16_000 * 3) / 16_000
    sf.write(wav, (0.3 * np.sin(2 * np.pi * 180 * t)).astype(np.float32), 16_000)
    with RelayClient(relay_server.base_url, relay_server.api_key) as client:
        ds = client.datasets.create(f"app-e2e-{uuid.uuid4().hex[:8]}", artifact_types=[
            {"name": "glitch", "color": "#ff4444"}, {"name": "click", "color": "#ffaa00"}])
        audio = _ready_audio(client, ds.id, wav)
        draft = client.annotation_sets.create(ds.id)

        monkeypatch.setenv("RELAY_BASE_URL", relay_server.base_url)
        monkeypatch.setenv("RELAY_API_KEY", relay_server.api_key)
        with running_app(qtbot, tmp_path) as shell:
            session, editor = open_draft(qtbot, shell, ds.id, audio, draft.id)
            qtbot.waitUntil(lambda: session.document.type_names() == ["glitch", "click"],
                            timeout=15_000)
            view = editor.view
            view.set_view_range(0.0, 3.0)
            drag(view.plots()[0], 0.5, 1.25)
            regions = list(session.document)
            assert len(regions) == 1 and regions[0].audio_file_id == audio.id
            assert regions[0].artifact_type == "glitch"

            def on_server() -> list[tuple[str, int, int]]:
                got = client.annotation_sets.get(ds.id, draft.id).annotations
                return [(a.artifact_type, a.start_ms, a.end_ms) for a in got]

            qtbot.waitUntil(lambda: len(on_server()) == 1, timeout=20_000)
            kind, start, end = on_server()[0]
            assert kind == "glitch" and abs(start - 500) <= 15 and abs(end - 1250) <= 15
            qtbot.waitUntil(lambda: session.state.kind == "saved", timeout=10_000)
