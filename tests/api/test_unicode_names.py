"""File names in any script upload through the real storage endpoint and keep their exact name."""

from __future__ import annotations

from pathlib import Path

import pytest

from relay_desktop.api import RelayClient
from tests.api.conftest import unique, write_wav

NAMES = [
    "i unicode ñ 测试.wav",
    "Ärger — «ça» 日本語 한국어.wav",
    "العربية עברית ελληνικά кириллица.wav",
    "emoji 🎙️ take 2.wav",
    'quote " and back\\slash.wav',
]


@pytest.mark.parametrize("name", NAMES)
def test_name_in_any_script_uploads_and_is_kept(client: RelayClient, tmp_path: Path,
                                                name: str) -> None:
    dataset = client.datasets.create(unique("unicode"), artifact_types=["glitch"])
    path = write_wav(tmp_path / name, seconds=0.2)
    confirmed = client.audio.upload(dataset.id, path)
    stored = client.audio.get(dataset.id, confirmed.audio_id)
    assert stored.filename == name
    listed = [a.filename for a in client.audio.iter_items(dataset.id)]
    assert listed == [name]
