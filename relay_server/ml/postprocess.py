"""The documented post-processing of detections: threshold, merge, minimum duration."""

from __future__ import annotations

from collections.abc import Iterable

from relay_server.ml.config import InferenceConfig
from relay_server.ml.records import Detection


def postprocess(events: Iterable[Detection], config: InferenceConfig) -> list[Detection]:
    """Filter and merge candidate detections exactly as the API documents.

    1. Keep detections whose confidence is at least ``threshold``.
    2. Merge detections of the SAME type whose gap (next start minus current
       end) is smaller than ``merge_window_ms``; overlapping ones always merge.
       A merged detection spans from the first start to the last end, and its
       confidence is the highest confidence among the merged ones.
    3. Drop detections shorter than ``min_duration_ms`` (``end - start``).

    The guide's example holds: with a 200 ms window, glitches 1000-1100,
    1150-1250 and 1280-1380 become one glitch 1000-1380. The result is sorted
    by start, then type.
    """
    kept = sorted((e for e in events if e.confidence >= config.threshold),
                  key=lambda e: (e.artifact_type, e.start_ms, e.end_ms))
    merged: list[Detection] = []
    for event in kept:
        last = merged[-1] if merged else None
        if (last is not None and last.artifact_type == event.artifact_type
                and (event.start_ms - last.end_ms < config.merge_window_ms
                     or event.start_ms < last.end_ms)):
            merged[-1] = Detection(last.artifact_type, last.start_ms,
                                   max(last.end_ms, event.end_ms),
                                   max(last.confidence, event.confidence))
        else:
            merged.append(event)
    out = [e for e in merged if e.end_ms - e.start_ms >= config.min_duration_ms]
    return sorted(out, key=lambda e: (e.start_ms, e.artifact_type, e.end_ms))
