"""Object keys: where each tenant's objects live, and safe file names inside them."""

from __future__ import annotations

import re
import unicodedata
import uuid

_UNSAFE = re.compile(r"[^\w.\- ]+", re.UNICODE)
_SPACES = re.compile(r"[\s_]+")
MAX_NAME_BYTES = 180
NORMALIZED_NAME = "normalized.flac"
FEATURES_NAME = "features.npy"


def safe_filename(filename: str) -> str:
    """A file name safe as the last segment of an object key and of a local path.

    Drops any folder part (``/`` or ``\\``), control characters and anything
    outside letters, digits, ``.``, ``-`` and ``_``; never returns ``.``,
    ``..``, a hidden name or an empty string; keeps the extension when it
    has to shorten the name.
    """
    name = unicodedata.normalize("NFKC", filename)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name)
    name = _SPACES.sub("_", name).strip("._ -")
    if not name:
        name = "audio"
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ext = ext[:16]
    suffix = f".{ext}" if ext else ""
    while len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES and stem:
        stem = stem[:-1]
    return (stem or "audio") + suffix


def dataset_prefix(tenant_id: uuid.UUID, dataset_id: uuid.UUID) -> str:
    """Every object of one dataset lives under this prefix (ends with ``/``)."""
    return f"tenants/{tenant_id}/datasets/{dataset_id}/"


def audio_prefix(tenant_id: uuid.UUID, dataset_id: uuid.UUID, audio_id: uuid.UUID) -> str:
    """Every object of one audio file (original and derived) lives under this prefix."""
    return f"{dataset_prefix(tenant_id, dataset_id)}audio/{audio_id}/"


def audio_key(tenant_id: uuid.UUID, dataset_id: uuid.UUID, audio_id: uuid.UUID,
              filename: str) -> str:
    """The key of an uploaded original: ``tenants/T/datasets/D/audio/A/<safe name>``."""
    return audio_prefix(tenant_id, dataset_id, audio_id) + safe_filename(filename)


def inference_file_prefix(tenant_id: uuid.UUID, job_id: uuid.UUID, file_id: uuid.UUID) -> str:
    """Every object of one uploaded inference file lives under this prefix."""
    return f"tenants/{tenant_id}/inference-jobs/{job_id}/files/{file_id}/"


def inference_file_key(tenant_id: uuid.UUID, job_id: uuid.UUID, file_id: uuid.UUID,
                       filename: str) -> str:
    """The key of an uploaded inference file: ``tenants/T/inference-jobs/J/files/F/<name>``."""
    return inference_file_prefix(tenant_id, job_id, file_id) + safe_filename(filename)


def derived_key(original_key: str, name: str) -> str:
    """A derived object next to an original (in a ``derived/`` folder no upload can use)."""
    return original_key.rsplit("/", 1)[0] + "/derived/" + name


def check_key(key: str) -> str:
    """Validate a key taken from outside; raise ValueError when it could escape the store."""
    if not key or len(key) > 1024 or key.startswith("/") or "\\" in key:
        raise ValueError("invalid object key")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in key):
        raise ValueError("invalid object key")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError("invalid object key")
    return key
