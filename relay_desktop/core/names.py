"""Names that people type: dataset and artifact-type names compare normalised.

"glitch", "Glitch " and "GLITCH" are one name: surrounding whitespace is dropped,
inner runs of whitespace become one space, and comparison ignores case.
Relay Local applies the same rule (``relay_server.schemas.datasets``).
"""

from __future__ import annotations


def normalise_name(value: str) -> str:
    """``value`` trimmed, with inner runs of whitespace collapsed to one space."""
    return " ".join(value.split())


def name_key(value: str) -> str:
    """What two names share when they count as the same name."""
    return normalise_name(value).casefold()
