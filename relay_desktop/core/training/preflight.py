"""Pre-flight: the documented training preconditions (REFERENCE §7.1) checked before sending.

Each check says whether it passed, what was found and, when it failed, what to
do. :func:`refusal_checks` turns the server's own refusal (Relay Local's one
400 ``"Cannot train yet. ..."``) into the same shape, so both read alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

MIN_AUDIO_MS = 5 * 60_000
NAMES_SHOWN = 5
REFUSAL_PREFIX = "Cannot train yet."

PUBLISHED, FILES_READY, ENOUGH_AUDIO, TYPES_LABELLED, SERVER = (
    "published", "files_ready", "enough_audio", "types_labelled", "server")
TITLES = {
    PUBLISHED: "Annotation set is published",
    FILES_READY: "Every audio file is ready",
    ENOUGH_AUDIO: "At least 5 minutes of audio",
    TYPES_LABELLED: "At least one annotation per chosen type",
    SERVER: "Accepted by the server",
}


class SetLike(Protocol):
    @property
    def version(self) -> int: ...
    @property
    def status(self) -> str: ...


class AudioLike(Protocol):
    @property
    def filename(self) -> str: ...
    @property
    def processing_status(self) -> str: ...
    @property
    def duration_ms(self) -> int | None: ...


@dataclass(frozen=True)
class Check:
    """One precondition: passed or not, what was found, and the fix in words ("" if passed)."""

    key: str
    title: str
    passed: bool
    detail: str
    fix: str = ""


def format_duration(ms: int) -> str:
    """``4 min 12 s``, ``5 min``, ``38 s``."""
    minutes, seconds = divmod(max(0, ms) // 1000, 60)
    if not minutes:
        return f"{seconds} s"
    return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"


def ready_audio_ms(files: Iterable[AudioLike]) -> int:
    """Total duration of the files that are ready."""
    return sum(int(f.duration_ms or 0) for f in files if f.processing_status == "ready")


def _names(items: Sequence[str]) -> str:
    shown = ", ".join(items[:NAMES_SHOWN])
    extra = len(items) - NAMES_SHOWN
    return f"{shown} and {extra} more" if extra > 0 else shown


def preflight(annotation_set: SetLike, files: Sequence[AudioLike],
              annotations_by_type: Mapping[str, int], chosen_types: Sequence[str]
              ) -> list[Check]:
    """The four documented checks, in order, for training ``chosen_types`` on this set."""
    checks: list[Check] = []
    v = annotation_set.version
    if annotation_set.status == "published":
        checks.append(Check(PUBLISHED, TITLES[PUBLISHED], True, f"Set v{v} is published."))
    else:
        checks.append(Check(PUBLISHED, TITLES[PUBLISHED], False,
                            f"Set v{v} is a {annotation_set.status or 'draft'}.",
                            "Publish the set first (Publish in the editor); drafts cannot "
                            "be trained on."))
    not_ready = [f"{f.filename} ({f.processing_status})" for f in files
                 if f.processing_status != "ready"]
    if not files:
        checks.append(Check(FILES_READY, TITLES[FILES_READY], False,
                            "The dataset has no audio files.", "Upload audio to the dataset."))
    elif not_ready:
        what = "file is" if len(not_ready) == 1 else "files are"
        failed = any(f.processing_status == "failed" for f in files)
        checks.append(Check(
            FILES_READY, TITLES[FILES_READY], False,
            f"{len(not_ready)} of {len(files)} audio {what} not ready: {_names(not_ready)}.",
            "Wait for processing to finish" + (", and delete or re-upload the failed files."
                                               if failed else ".")))
    else:
        checks.append(Check(FILES_READY, TITLES[FILES_READY], True,
                            f"All {len(files)} audio files are ready."))
    total = ready_audio_ms(files)
    if total >= MIN_AUDIO_MS:
        checks.append(Check(ENOUGH_AUDIO, TITLES[ENOUGH_AUDIO], True,
                            f"{format_duration(total)} of ready audio."))
    else:
        checks.append(Check(ENOUGH_AUDIO, TITLES[ENOUGH_AUDIO], False,
                            f"Only {format_duration(total)} of ready audio; training needs "
                            f"at least {format_duration(MIN_AUDIO_MS)}.",
                            f"Upload {format_duration(MIN_AUDIO_MS - total)} more audio "
                            "to the dataset."))
    if not chosen_types:
        checks.append(Check(TYPES_LABELLED, TITLES[TYPES_LABELLED], False,
                            "No artifact type is chosen.", "Tick at least one artifact type."))
    else:
        missing = [t for t in chosen_types if int(annotations_by_type.get(t, 0) or 0) < 1]
        if missing:
            listed = ", ".join(missing)
            checks.append(Check(
                TYPES_LABELLED, TITLES[TYPES_LABELLED], False,
                f"Set v{v} has no annotation of type {listed}.",
                f"Untick {listed}, or label at least one in a new version of the set."))
        else:
            counts = ", ".join(f"{t} {int(annotations_by_type.get(t, 0))}"
                               for t in chosen_types)
            checks.append(Check(TYPES_LABELLED, TITLES[TYPES_LABELLED], True, counts + "."))
    return checks


def all_passed(checks: Iterable[Check]) -> bool:
    return all(c.passed for c in checks)


# the server's problems each start with one of these (relay_server training_problems)
_PROBLEM_STARTS = (
    (PUBLISHED, r"Annotation set v\d+ is a draft"),
    (FILES_READY, r"\d+ audio files? (?:is|are) not ready"),
    (ENOUGH_AUDIO, r"The dataset has [^;.]* of ready audio"),
    (TYPES_LABELLED, r"Annotation set v\d+ has no annotation of type"),
)
_SPLIT = re.compile("|".join(f"(?P<{key}>{pattern})" for key, pattern in _PROBLEM_STARTS))


def refusal_checks(detail: str) -> list[Check]:
    """The server's refusal as failed checks: one per recognised problem, else one in all.

    The fix is the server's own words (each of its problems says what to do).
    """
    text = detail.strip()
    body = text[len(REFUSAL_PREFIX):].strip() if text.startswith(REFUSAL_PREFIX) else text
    starts = [(m.start(), m.lastgroup or SERVER) for m in _SPLIT.finditer(body)]
    if not starts or starts[0][0] != 0:
        return [Check(SERVER, TITLES[SERVER], False, "The server refused to start training.",
                      text)]
    checks = []
    for i, (pos, key) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(body)
        checks.append(Check(key, TITLES.get(key, TITLES[SERVER]), False,
                            "The server refused to start training.", body[pos:end].strip()))
    return checks
