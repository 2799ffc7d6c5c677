"""Small helpers for sentences shown to people."""

from __future__ import annotations


def plural(count: int, one: str, many: str | None = None) -> str:
    """``"1 region"``, ``"2 regions"``; ``many`` for irregular plurals."""
    return f"{count} {one if count == 1 else (many or one + 's')}"
