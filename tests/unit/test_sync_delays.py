"""The annotation_sync benchmark's replay: edits matched to the requests that carried them.

Exchanges are built as the fault proxy records them (method, path, bodies, times);
:func:`benchmarks._sync_delays.match_edits` must find each edit's answer, skip
regions drawn and deleted before any sync, and flag what no request carried
and requests that changed nothing.
"""

from __future__ import annotations

import json
from typing import Any

from benchmarks._sync_delays import EditRecord, match_edits, percentile
from tests.support.fault_proxy import Exchange

SET = "/api/v1/datasets/d1/annotation-sets/s1/annotations"


def _fields(start: int, end: int, kind: str = "click") -> dict[str, Any]:
    return {"audio_file_id": "a1", "artifact_type": kind, "start_ms": start, "end_ms": end}


def _exchange(method: str, path: str, started: float, answered: float, request: Any = None,
              response: Any = None, status: int = 200) -> Exchange:
    ex = Exchange(method, path, "", forwarded=True, upstream_status=status, answered=status,
                  started=started, ended=answered)
    ex.upstream_answered = answered
    ex.request_body = json.dumps(request).encode() if request is not None else b""
    ex.response_body = json.dumps(response).encode() if response is not None else b""
    return ex


def _created(local_id: str, server_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {"id": server_id, **fields, "extra_data": {"client_id": local_id}}


def test_each_edit_is_timed_to_the_answer_that_carried_it() -> None:
    edits = [
        EditRecord("r1", "draw", _fields(0, 100), made=1.0, journaled=1.01),
        EditRecord("r1", "drag", _fields(0, 150), made=1.2, journaled=1.21),   # coalesced
        EditRecord("r2", "draw", _fields(500, 600), made=1.3, journaled=1.31),
        EditRecord("r2", "delete", None, made=1.35, journaled=1.36),          # never sent
        EditRecord("r1", "relabel", _fields(0, 150, "hum"), made=2.0, journaled=2.02),
        EditRecord("r1", "delete", None, made=3.0, journaled=3.01),
    ]
    exchanges = [
        _exchange("GET", "/api/v1/datasets/d1/annotation-sets/s1", 0.5, 0.6),
        _exchange("POST", f"{SET}/bulk", 1.6, 1.7,
                  {"annotations": [_fields(0, 150)]},
                  {"annotations": [_created("r1", "x1", _fields(0, 150))]}, status=201),
        _exchange("PATCH", f"{SET}/x1", 2.4, 2.5, {"artifact_type": "hum"},
                  _created("r1", "x1", _fields(0, 150, "hum"))),
        _exchange("DELETE", f"{SET}/x1", 3.4, 3.5, status=204),
    ]
    report = match_edits(edits, exchanges)
    assert [e.on_server for e in edits] == [1.7, 1.7, None, None, 2.5, 3.5]
    assert [round(d, 2) for d in report.delays_s] == [0.69, 0.49, 0.48, 0.49]
    assert (report.never_sent, report.unmatched, report.redundant_requests,
            report.unknown_targets) == (2, 0, 0, 0)
    assert report.summary()["delay_p95_ms"] == 690.0


def test_lost_edits_and_wasted_requests_are_flagged() -> None:
    edits = [
        EditRecord("r1", "draw", _fields(0, 100), made=1.0, journaled=1.0),
        EditRecord("r1", "drag", _fields(0, 120), made=1.5, journaled=1.5),   # started after
    ]
    created = {"annotations": [_created("r1", "x1", _fields(0, 100))]}
    exchanges = [
        _exchange("POST", f"{SET}/bulk", 1.4, 1.6, {"annotations": [_fields(0, 100)]}, created),
        _exchange("POST", f"{SET}/bulk", 1.7, 1.8, {"annotations": [_fields(0, 100)]}, created),
        _exchange("PATCH", f"{SET}/x1", 1.9, 2.0, {"end_ms": 100},
                  _created("r1", "x1", _fields(0, 100))),
        _exchange("DELETE", f"{SET}/x9", 2.1, 2.2, status=204),
        _exchange("PATCH", f"{SET}/x1", 2.3, 2.4, {"end_ms": 120}, status=503),
    ]
    report = match_edits(edits, exchanges)
    assert [e.on_server for e in edits] == [1.6, None]
    assert (report.unmatched, report.redundant_requests, report.unknown_targets) == (1, 2, 1)


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 100)) == (
        10.0, 19.0, 20.0)
    assert percentile([], 95) != percentile([], 95)   # NaN


def test_a_request_carries_no_edit_made_after_it_started() -> None:
    edits = [
        EditRecord("r1", "draw", _fields(0, 100), made=1.0, journaled=1.0),
        EditRecord("r1", "drag", _fields(0, 120), made=1.5, journaled=1.5),
        EditRecord("r1", "undo", _fields(0, 100), made=1.55, journaled=1.55),  # as sent
    ]
    created = {"annotations": [_created("r1", "x1", _fields(0, 100))]}
    report = match_edits(edits, [
        _exchange("POST", f"{SET}/bulk", 1.4, 1.6, {"annotations": [_fields(0, 100)]}, created)])
    assert [e.on_server for e in edits] == [1.6, None, None]
    assert report.unmatched == 2
