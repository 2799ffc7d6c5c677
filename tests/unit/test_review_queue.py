"""ReviewQueue and ReviewStore: order, filter, cursor, decisions with undo, persistence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from relay_desktop.api.models import Detection
from relay_desktop.core.review import ACCEPTED, PENDING, REJECTED, ReviewQueue, ReviewStore


def det(t: str, start: int, conf: float, length: int = 100) -> Detection:
    return Detection(t, start, start + length, conf)


def queue(**kwargs: object) -> ReviewQueue:
    return ReviewQueue.from_files([
        ("b", [det("click", 500, 0.9), det("glitch", 100, 0.5)]),
        ("a", [det("glitch", 300, 0.7), det("click", 50, 0.95), det("long_pause", 900, 0.3)]),
    ], **kwargs)  # type: ignore[arg-type]


def test_orders_by_confidence_then_time() -> None:
    q = queue()
    assert [q.at(r).confidence for r in range(len(q))] == [0.95, 0.9, 0.7, 0.5, 0.3]
    assert q.cursor == ("a", 1)
    q.set_cursor(("b", 1))
    q.set_order("time")
    assert q.ordered_keys() == [("a", 1), ("a", 0), ("a", 2), ("b", 1), ("b", 0)]
    assert q.cursor == ("b", 1)  # the cursor is a key: it survives re-sorting


def test_threshold_filters_and_moves_the_cursor() -> None:
    q = queue()
    q.set_cursor(("a", 2))  # 0.3
    q.set_threshold(0.6)
    assert len(q) == 3 and q.total() == 5
    assert q.cursor in q.ordered_keys()
    assert q.progress().total == 3
    q.set_threshold(0.0)
    assert len(q) == 5


def test_decisions_undo_and_next_pending() -> None:
    q = queue()
    first = q.current()
    assert first is not None
    step = q.accept(region_id="r1")
    assert step is not None and step.before.decision == PENDING
    assert q.item(first.key).decision == ACCEPTED and q.item(first.key).region_id == "r1"
    nxt = q.next_pending()
    assert nxt is not None and nxt.key == ("b", 0)
    q.reject()
    q.next_pending()
    q.relabel("click")
    assert q.item(("a", 0)).artifact_type == "click"
    q.nudge("start", -20)
    q.nudge("end", 1000, duration_ms=450)
    cur = q.current()
    assert cur is not None and (cur.start_ms, cur.end_ms) == (280, 450)
    assert q.item(("a", 0)).edited
    p = q.progress()
    assert (p.accepted, p.rejected, p.pending, p.decided) == (1, 1, 3, 2)

    for _ in range(3):  # nudge, nudge, relabel
        q.undo()
    back = q.item(("a", 0))
    assert (back.artifact_type, back.start_ms, back.end_ms) == ("glitch", 300, 400)
    undone = q.undo()
    assert undone is not None and undone.after.decision == REJECTED
    assert q.item(("b", 0)).decision == PENDING and q.cursor == ("b", 0)
    undone = q.undo()
    assert undone is not None and undone.after.region_id == "r1"
    assert q.item(first.key).decision == PENDING
    assert q.item(first.key).region_id == "r1"  # kept: the caller removes that region
    assert q.cursor == first.key and q.undo() is None


def test_nudge_keeps_a_positive_length() -> None:
    q = queue()
    q.nudge("end", -500)
    cur = q.current()
    assert cur is not None and cur.end_ms == cur.start_ms + 1
    q.nudge("start", -10_000)
    cur = q.current()
    assert cur is not None and cur.start_ms == 0
    with pytest.raises(ValueError):
        q.nudge("middle", 1)


def test_next_pending_skips_decided_and_stops_when_none() -> None:
    q = queue(order="time")
    for _ in range(5):
        q.accept()
        q.next_pending()
    assert q.progress().pending == 0
    assert q.next_pending() is None and q.first_pending() is None


def test_store_round_trip_is_atomic(tmp_path: Path) -> None:
    q = queue()
    q.accept(region_id="r9")
    q.next_pending()
    q.relabel("glitch")
    q.set_threshold(0.4)
    store = ReviewStore(tmp_path)
    path = store.save("http://server", "job-1", q.to_json())
    assert path.parent == tmp_path / "review" and json.loads(path.read_text())["job_id"] == "job-1"
    assert list(path.parent.glob(".review-*")) == []  # no temporary file left behind

    again = queue()
    assert again.restore(store.load("http://server", "job-1")) == 2
    assert again.item(("a", 1)).decision == ACCEPTED and again.item(("a", 1)).region_id == "r9"
    assert again.item(("b", 0)).artifact_type == "glitch"
    assert again.cursor == q.cursor and again.threshold == 0.4
    assert store.load("other scope", "job-1") is None
    path.write_text("{not json")
    assert store.load("http://server", "job-1") is None


def test_the_next_file_is_the_first_other_file_down_the_visible_queue() -> None:
    q = queue(order="time")   # a: 50, 300, 900; b: 100, 500
    assert q.next_file_after(("a", 1)) == "b" and q.next_file_after(("a", 2)) == "b"
    assert q.next_file_after(("b", 1)) is None   # the last file: nothing after it
    q.set_order("confidence")   # a 0.95, b 0.9, a 0.7, b 0.5, a 0.3
    assert q.next_file_after(("a", 1)) == "b" and q.next_file_after(("b", 0)) == "a"
    q.set_threshold(0.6)        # a 0.95, b 0.9, a 0.7: b's 0.5 is hidden
    assert q.next_file_after(("a", 0)) is None
    assert q.next_file_after(("b", 1)) is None   # hidden itself
    assert q.next_file_after(None) is None
