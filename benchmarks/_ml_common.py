"""Shared by the detector benchmarks: the demo set as training files, a cached default model.

The cache lives in the temp folder (``relay-benchmarks/ml``); the model is
keyed by a hash of relay_server/ml's source, so any change retrains it.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

from relay_server.ml import Region, TrainedModel, TrainingConfig, TrainingFile, train_model

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "resources" / "demo"
TYPES = ("glitch", "long_pause", "click")


def cache_dir() -> Path:
    folder = Path(tempfile.gettempdir()) / "relay-benchmarks" / "ml"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def demo_files() -> list[TrainingFile]:
    """The shipped demo audio with its manifest's regions, as training files."""
    manifest = json.loads((DEMO / "manifest.json").read_text())
    return [TrainingFile(f["filename"], DEMO / f["filename"], f["duration_ms"],
                         tuple(Region(a["artifact_type"], a["start_ms"], a["end_ms"])
                               for a in f["annotations"]))
            for f in manifest["files"]]


def _code_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted((ROOT / "relay_server" / "ml").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def demo_model(seed: int = 0) -> TrainedModel:
    """The model trained on the demo set at the default config (cached)."""
    path = cache_dir() / f"demo-model-{_code_hash()}-{seed}.bin"
    if path.exists():
        return TrainedModel.from_bytes(path.read_bytes())
    model = train_model(demo_files(), TrainingConfig(TYPES), seed=seed)
    path.write_bytes(model.to_bytes())
    return model
