"""Reading a model's ``eval_metrics``: overall figures, per-type rows, baseline and extras.

The documented shape is ``precision``, ``recall``, ``f1_score`` and
``per_class{type: precision, recall, f1_score, support}``. Anything else a
server adds is kept: a ``baseline`` (or ``baseline_metrics``) block of the same
shape is shown beside the model's figures, extra numbers in ``per_class``
become extra columns, and other top-level values are listed as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

STANDARD = ("precision", "recall", "f1_score")
PER_TYPE = (*STANDARD, "support")
BASELINE_KEYS = ("baseline", "baseline_metrics")
GOOD = 0.8
"""The guide calls precision, recall and F1 above this good."""


def number(value: Any) -> float | None:
    """A finite float, or None for anything else (bools included)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if value == value and abs(value) != float("inf") else None


def ratio_text(value: float | None) -> str:
    """0.8734 -> '0.873'; '—' when missing."""
    return "—" if value is None else f"{value:.3f}"


def value_text(value: Any) -> str:
    """An extra figure as text: numbers to 3 decimals (integers whole), others as given."""
    num = number(value)
    if num is None:
        if isinstance(value, Mapping):
            return ", ".join(f"{k} {value_text(v)}" for k, v in value.items())
        if isinstance(value, list | tuple):
            return ", ".join(value_text(v) for v in value)
        return str(value)
    return str(int(num)) if float(num).is_integer() and not isinstance(value, float) \
        else f"{num:.3f}"


@dataclass(frozen=True)
class Overall:
    precision: float | None
    recall: float | None
    f1: float | None

    @classmethod
    def of(cls, metrics: Mapping[str, Any]) -> Overall:
        return cls(number(metrics.get("precision")), number(metrics.get("recall")),
                   number(metrics.get("f1_score")))

    @property
    def empty(self) -> bool:
        return self.precision is None and self.recall is None and self.f1 is None


@dataclass(frozen=True)
class TypeRow:
    """One artifact type's figures (and its baseline's, when the server gave one)."""

    artifact_type: str
    precision: float | None
    recall: float | None
    f1: float | None
    support: int | None
    baseline_f1: float | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelFigures:
    """Everything the details view shows from ``eval_metrics``."""

    overall: Overall
    rows: tuple[TypeRow, ...]
    baseline: Overall | None
    extra_columns: tuple[str, ...]
    others: tuple[tuple[str, Any], ...]

    @property
    def empty(self) -> bool:
        return self.overall.empty and not self.rows


def _baseline(metrics: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for key in BASELINE_KEYS:
        value = metrics.get(key)
        if isinstance(value, Mapping):
            return value
    return None


def read_figures(metrics: Mapping[str, Any], types: Sequence[str] = ()) -> ModelFigures:
    """The figures of ``eval_metrics``; rows in the model's type order, then any others."""
    per_class = metrics.get("per_class")
    per_class = per_class if isinstance(per_class, Mapping) else {}
    base = _baseline(metrics)
    base_per_class = base.get("per_class") if base is not None else None
    base_per_class = base_per_class if isinstance(base_per_class, Mapping) else {}
    order = [t for t in types if t in per_class] + [t for t in per_class if t not in types]
    extra_columns: list[str] = []
    rows: list[TypeRow] = []
    for name in order:
        entry = per_class.get(name)
        entry = entry if isinstance(entry, Mapping) else {}
        extras = {k: v for k, v in entry.items() if k not in PER_TYPE and number(v) is not None}
        extra_columns += [k for k in extras if k not in extra_columns]
        support = number(entry.get("support"))
        base_entry = base_per_class.get(name)
        rows.append(TypeRow(
            artifact_type=str(name), precision=number(entry.get("precision")),
            recall=number(entry.get("recall")), f1=number(entry.get("f1_score")),
            support=None if support is None else int(support),
            baseline_f1=(number(base_entry.get("f1_score"))
                         if isinstance(base_entry, Mapping) else None),
            extras=extras))
    skip = {*STANDARD, "per_class", *BASELINE_KEYS}
    others = tuple((str(k), v) for k, v in metrics.items() if k not in skip)
    return ModelFigures(overall=Overall.of(metrics), rows=tuple(rows),
                        baseline=Overall.of(base) if base is not None else None,
                        extra_columns=tuple(extra_columns), others=others)


def heading(key: str) -> str:
    """'median_start_error_ms' -> 'Median start error (ms)'."""
    words = key.split("_")
    unit = ""
    if len(words) > 1 and words[-1] in ("ms", "s", "hz", "db"):
        unit = f" ({words.pop()})"
    text = " ".join(words)
    return (text[:1].upper() + text[1:] + unit) if text else key
