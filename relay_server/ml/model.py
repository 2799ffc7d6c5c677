"""A trained detector: feature settings, scaler, networks, per-type thresholds and edge rules.

Stored as ``MAGIC`` + a 4-byte little-endian header length + a JSON header
+ an ``.npz`` archive of float32 arrays (loaded with ``allow_pickle=False``):
no pickle, so loading a model file cannot run code. ``from_bytes`` raises
ValueError for anything that is not such a model.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from relay_server.ml.boundaries import STRATEGIES
from relay_server.ml.network import forward, sigmoid
from relay_server.ml.windows import FEATURE_NAMES

MAGIC = b"RELAYDET"
VERSION = 1


def calibrate(p: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Shift probabilities in logit space so each type's tuned threshold maps to 0.5.

    Order within a type is preserved, so thresholding the result at 0.5 is
    the same as thresholding the raw probability at the tuned threshold.
    """
    p = np.clip(p, 1e-7, 1 - 1e-7)
    t = np.clip(thresholds, 1e-6, 1 - 1e-6)
    return sigmoid(np.log(p / (1 - p)) - np.log(t / (1 - t)))


@dataclass
class TrainedModel:
    """What ``train_model`` returns and ``detect`` uses."""

    artifact_types: tuple[str, ...]
    chunk_size_ms: int
    stride_ms: int
    mean: np.ndarray
    scale: np.ndarray
    networks: list[tuple[list[np.ndarray], list[np.ndarray]]]  # (weights, biases); mean output
    thresholds: tuple[float, ...]  # raw probability that maps to confidence 0.5, per type
    strategies: tuple[str, ...]  # edge refinement per type, see boundaries.py
    eval_metrics: dict[str, Any] = field(default_factory=dict)
    validation_audio_ids: tuple[str, ...] = ()
    train_audio_ids: tuple[str, ...] = ()
    info: dict[str, Any] = field(default_factory=dict)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """(windows, types) raw probabilities for raw window features."""
        if not len(features):
            return np.zeros((0, len(self.artifact_types)))
        x = (features - self.mean) / self.scale
        return np.mean([sigmoid(forward(w, b, x)) for w, b in self.networks], axis=0)

    def confidences(self, features: np.ndarray) -> np.ndarray:
        """(windows, types) calibrated confidences: 0.5 is each type's tuned threshold."""
        return calibrate(self.probabilities(features), np.asarray(self.thresholds))

    def to_bytes(self) -> bytes:
        header = {
            "format": "relay-detector", "version": VERSION,
            "artifact_types": list(self.artifact_types),
            "chunk_size_ms": self.chunk_size_ms, "stride_ms": self.stride_ms,
            "feature_names": list(FEATURE_NAMES),
            "networks": [len(w) for w, _ in self.networks],
            "thresholds": list(self.thresholds), "strategies": list(self.strategies),
            "eval_metrics": self.eval_metrics,
            "validation_audio_ids": list(self.validation_audio_ids),
            "train_audio_ids": list(self.train_audio_ids),
            "info": self.info,
        }
        arrays: dict[str, np.ndarray] = {"mean": self.mean, "scale": self.scale}
        for j, (weights, biases) in enumerate(self.networks):
            for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
                arrays[f"n{j}_w{i}"] = w
                arrays[f"n{j}_b{i}"] = b
        buf = io.BytesIO()
        stored: dict[str, Any] = {k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()}
        np.savez_compressed(buf, **stored)
        head = json.dumps(header).encode("utf-8")
        return MAGIC + struct.pack("<I", len(head)) + head + buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> TrainedModel:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ValueError("model data must be bytes")
        data = bytes(data)
        body = len(MAGIC) + 4
        if len(data) < body or not data.startswith(MAGIC):
            raise ValueError("not a Relay detector model (bad magic)")
        (size,) = struct.unpack("<I", data[len(MAGIC):body])
        try:
            header = json.loads(data[body:body + size].decode("utf-8"))
            archive = np.load(io.BytesIO(data[body + size:]), allow_pickle=False)
            arrays = {name: archive[name] for name in archive.files}
        except (ValueError, UnicodeDecodeError, OSError, zipfile.BadZipFile, EOFError) as exc:
            raise ValueError(f"damaged Relay detector model: {exc}") from exc
        try:
            return cls._build(header, arrays)
        except (KeyError, TypeError, IndexError, AttributeError) as exc:
            raise ValueError(f"damaged Relay detector model: missing or bad {exc}") from exc

    @classmethod
    def _build(cls, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> TrainedModel:
        if header.get("format") != "relay-detector" or header.get("version") != VERSION:
            raise ValueError("unsupported model format or version")
        if header["feature_names"] != list(FEATURE_NAMES):
            raise ValueError("the model was trained on other features than this server computes")
        types = tuple(str(t) for t in header["artifact_types"])
        n = len(FEATURE_NAMES)
        networks = []
        for j, layers in enumerate(header["networks"]):
            weights = [arrays[f"n{j}_w{i}"] for i in range(int(layers))]
            biases = [arrays[f"n{j}_b{i}"] for i in range(int(layers))]
            width = n
            for w, b in zip(weights, biases, strict=True):
                if w.ndim != 2 or w.shape[0] != width or b.shape != (w.shape[1],):
                    raise ValueError("model weights have inconsistent shapes")
                width = w.shape[1]
            if not layers or width != len(types):
                raise ValueError("a model network does not end in one output per type")
            networks.append((weights, biases))
        thresholds = tuple(float(t) for t in header["thresholds"])
        strategies = tuple(str(s) for s in header["strategies"])
        mean, scale = arrays["mean"], arrays["scale"]
        if (not networks or len(thresholds) != len(types)
                or len(strategies) != len(types) or mean.shape != (n,) or scale.shape != (n,)
                or not all(s in STRATEGIES for s in strategies)):
            raise ValueError("model header and arrays disagree")
        return cls(artifact_types=types, chunk_size_ms=int(header["chunk_size_ms"]),
                   stride_ms=int(header["stride_ms"]), mean=mean, scale=scale,
                   networks=networks, thresholds=thresholds,
                   strategies=strategies,
                   eval_metrics=dict(header.get("eval_metrics") or {}),
                   validation_audio_ids=tuple(header.get("validation_audio_ids") or ()),
                   train_audio_ids=tuple(header.get("train_audio_ids") or ()),
                   info=dict(header.get("info") or {}))
