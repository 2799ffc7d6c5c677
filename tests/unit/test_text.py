"""relay_desktop.core.text: words and times as lists and panels show them."""

from __future__ import annotations

import builtins
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from relay_desktop.core.text import local_minutes, plural


def test_plural_counts_one_and_many() -> None:
    assert plural(1, "region") == "1 region"
    assert plural(0, "region") == "0 regions"
    assert plural(3, "child", "children") == "3 children"


@pytest.mark.parametrize("when", [
    datetime(2026, 12, 5, 23, 59, 59, tzinfo=UTC),
    datetime(1999, 1, 2, 3, 4, tzinfo=timezone(timedelta(hours=-7))),
    datetime(2026, 6, 30, 12, 0),  # naive: taken as local time
])
def test_local_minutes_is_strftime_s_local_minute(when: datetime) -> None:
    assert local_minutes(when) == when.astimezone().strftime("%Y-%m-%d %H:%M")


def test_local_minutes_of_nothing_is_empty() -> None:
    assert local_minutes(None) == ""


def test_local_minutes_imports_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """strftime imports ``time`` per call (through PySide6's Python import hook in the app)."""
    imports: list[str] = []
    real = builtins.__import__

    def counting(name: str, *args: Any, **kwargs: Any) -> Any:
        imports.append(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", counting)
    when = datetime(2026, 12, 5, 14, 3, tzinfo=UTC)
    when.strftime("%H")
    assert imports, "the probe sees strftime's import"
    imports.clear()
    local_minutes(when)
    assert imports == []
