"""Regions on the clipboard: JSON that any file of any draft can take back.

Copied regions keep their type, confidence and their offsets from the first
one; pasting places the first at a time of the target file (the playhead) and
gives every region a fresh local id. The text is plain JSON, so a paste into a
text editor shows what was copied::

    {"relay_regions": 1, "regions": [{"artifact_type": "click", "start_ms": 0,
                                      "end_ms": 120, "confidence": 1.0}, ...]}
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from relay_desktop.core.annotations.document import Region, new_local_id

MIME_TYPE = "application/x-relay-regions+json"
FORMAT_VERSION = 1
_NOT_COPIED = ("local_id", "audio_file_id")


def regions_to_json(regions: Iterable[Region]) -> str:
    """The clipboard text of ``regions`` (times relative to the earliest start)."""
    ordered = sorted(regions, key=lambda r: (r.start_ms, r.end_ms))
    if not ordered:
        raise ValueError("No regions to copy.")
    origin = ordered[0].start_ms
    items = []
    for region in ordered:
        item = {k: v for k, v in region.to_json().items() if k not in _NOT_COPIED}
        item["start_ms"] = region.start_ms - origin
        item["end_ms"] = region.end_ms - origin
        items.append(item)
    return json.dumps({"relay_regions": FORMAT_VERSION, "regions": items})


def regions_from_json(text: str, audio_file_id: str, at_ms: int,
                      duration_ms: int | None = None) -> list[Region]:
    """New regions of ``audio_file_id`` from clipboard text, the first starting at ``at_ms``.

    Regions running past ``duration_ms`` are cut at the end; ones starting at or
    after it are left out. ValueError (a sentence) when the text holds no regions.
    """
    try:
        data: Any = json.loads(text)
    except ValueError:
        raise ValueError("The clipboard holds no copied regions.") from None
    items = data.get("regions") if isinstance(data, dict) and "relay_regions" in data else None
    if not isinstance(items, list) or not items:
        raise ValueError("The clipboard holds no copied regions.")
    regions = []
    for item in items:
        if not isinstance(item, dict):
            raise ValueError("The copied regions are damaged: each must be an object.")
        try:
            start = max(0, int(at_ms) + int(item["start_ms"]))
            end = int(at_ms) + int(item["end_ms"])
            fields = {**item, "local_id": new_local_id(), "audio_file_id": audio_file_id,
                      "start_ms": start, "end_ms": end}
            region = Region.from_json(fields)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"The copied regions are damaged ({exc}).") from None
        if duration_ms is not None:
            if region.start_ms >= duration_ms:
                continue
            region = region.with_fields(end_ms=min(region.end_ms, duration_ms))
        if region.end_ms > region.start_ms:
            regions.append(region)
    if not regions:
        raise ValueError("The copied regions would all fall after the end of this file.")
    return regions
