"""Upload row states and the queue totals the status bar shows."""

from __future__ import annotations

from pathlib import Path

from relay_desktop.core.uploads.state import (
    UploadRow,
    UploadState,
    UploadTarget,
    UploadTotals,
    compute_totals,
)

T = UploadTarget("dataset", "ds", "Voices")


def r(state: UploadState, size: int = 100, sent: int = 0, speed: float = 0.0) -> UploadRow:
    return UploadRow(id=f"{state}-{size}-{sent}", path=Path(f"/x/{state}.wav"), target=T,
                     size=size, state=state, bytes_sent=sent, speed_bps=speed)


def test_state_helpers() -> None:
    terminal = {s for s in UploadState if s.is_terminal}
    assert terminal == {UploadState.READY, UploadState.FAILED, UploadState.SKIPPED,
                        UploadState.CANCELLED}
    assert {s for s in UploadState if s.is_active} == {UploadState.UPLOADING,
                                                       UploadState.CONFIRMING}
    assert {s for s in UploadState if s.is_done} == {UploadState.PROCESSING, UploadState.READY}
    assert UploadState("waiting") is UploadState.WAITING


def test_totals_count_what_will_be_uploaded() -> None:
    rows = [r(UploadState.READY, 1000), r(UploadState.PROCESSING, 500, 0),
            r(UploadState.UPLOADING, 400, 100, speed=100.0),
            r(UploadState.UPLOADING, 600, 300, speed=50.0),
            r(UploadState.WAITING, 200), r(UploadState.FAILED, 300, 10),
            r(UploadState.SKIPPED, 9999), r(UploadState.CANCELLED, 9999),
            r(UploadState.DUPLICATE, 9999)]
    totals = compute_totals(rows, paused=False)
    assert totals.files_total == 6 and totals.files_done == 2 and totals.files_failed == 1
    assert totals.bytes_total == 1000 + 500 + 400 + 600 + 200 + 300
    assert totals.bytes_sent == 1000 + 500 + 100 + 300 + 0 + 10
    assert totals.active == 2 and totals.speed_bps == 150.0
    assert totals.eta_s == (3000 - 1910) / 150.0
    assert 0 < totals.fraction < 1 and not totals.paused


def test_totals_of_nothing_and_without_speed() -> None:
    assert compute_totals([], paused=True) == UploadTotals.empty(paused=True)
    assert compute_totals([r(UploadState.WAITING)], paused=False).eta_s is None


def test_row_fraction_and_target_round_trip() -> None:
    assert r(UploadState.UPLOADING, 200, 50).fraction == 0.25
    assert r(UploadState.PROCESSING, 200, 0).fraction == 1.0
    assert r(UploadState.WAITING, 0).fraction == 0.0
    assert UploadTarget.from_json(T.to_json()) == T


def test_the_running_counter_always_equals_a_full_recount() -> None:
    import random

    from relay_desktop.api.batch_upload.rows import TotalsCounter

    rng = random.Random(5)
    counter = TotalsCounter()
    rows: dict[int, UploadRow] = {}
    for step in range(3000):
        key = rng.randrange(60)
        old = rows.get(key)
        if old is not None and rng.random() < 0.1:
            counter.add(rows.pop(key), -1)
            continue
        size = rng.randrange(1, 1000)
        new = UploadRow(id=str(key), path=Path(f"/x/{key}"), target=T, size=size,
                        state=rng.choice(list(UploadState)), bytes_sent=rng.randrange(0, 1200),
                        speed_bps=float(rng.randrange(0, 500)))
        if old is not None:
            counter.add(old, -1)
        counter.add(new, +1)
        rows[key] = new
        if step % 97 == 0:
            full = compute_totals(list(rows.values()), paused=False)
            fast = counter.totals(paused=False)
            assert fast.files_total == full.files_total and fast.bytes_sent == full.bytes_sent
            assert (fast.files_done, fast.files_failed, fast.active, fast.bytes_total) == (
                full.files_done, full.files_failed, full.active, full.bytes_total)
            assert abs(fast.speed_bps - full.speed_bps) < 1e-6
