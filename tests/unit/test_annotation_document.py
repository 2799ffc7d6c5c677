"""The Qt-free annotation document, commands, validation, diff and pre-publish check."""

from __future__ import annotations

import pytest

from relay_desktop.core.annotations import (
    AddRegions,
    AnnotationDocument,
    ArtifactTypeInfo,
    Batch,
    DeleteRegions,
    Region,
    fmt_ms,
    update,
)
from relay_desktop.core.annotations.diff import LocalEntry, RemoteEntry, diff
from relay_desktop.core.annotations.validation import clamp_to_file, validate_region
from relay_desktop.core.prepublish import FileInfo, check


def make_doc() -> AnnotationDocument:
    return AnnotationDocument("ds", "set", [ArtifactTypeInfo("click", "#ff0000"),
                                            ArtifactTypeInfo("pause", "#00ff00")],
                              durations_ms={"a": 10_000, "b": 5_000})


def reg(local_id: str, start: int, end: int, t: str = "click", audio: str = "a") -> Region:
    return Region(local_id, audio, t, start, end)


def test_add_delete_update_and_their_inverses_restore_the_document() -> None:
    doc = make_doc()
    changes = []
    doc.subscribe(changes.append)
    add = AddRegions((reg("r1", 100, 200), reg("r2", 150, 400)))
    add.apply(doc)
    assert [r.local_id for r in doc.regions_of_file("a")] == ["r1", "r2"]
    move = update(doc, "r1", "move", start_ms=1000, end_ms=1100)
    move.apply(doc)
    assert doc.region("r1").start_ms == 1000
    move.inverted().apply(doc)
    assert doc.region("r1").start_ms == 100
    delete = DeleteRegions((doc.region("r2"),))
    delete.apply(doc)
    assert "r2" not in doc
    delete.inverted().apply(doc)
    assert doc.region("r2").end_ms == 400
    add.inverted().apply(doc)
    assert len(doc) == 0
    assert len(changes) == 6


def test_batch_undoes_in_reverse_order() -> None:
    doc = make_doc()
    second = AddRegions((reg("y", 5, 50),))
    batch = Batch((AddRegions((reg("x", 0, 10),)), second), "two")
    batch.apply(doc)
    assert len(doc) == 2 and second.text.startswith("Add click")
    relabel = update(doc, "x", "relabel", artifact_type="pause")
    relabel.apply(doc)
    assert relabel.text == "Relabel click → pause"
    relabel.inverted().apply(doc)
    batch.inverted().apply(doc)
    assert len(doc) == 0


def test_adding_an_existing_id_is_refused_and_changes_nothing() -> None:
    doc = make_doc()
    AddRegions((reg("x", 0, 10),)).apply(doc)
    with pytest.raises(ValueError, match="already exists"):
        AddRegions((reg("y", 0, 10), reg("x", 0, 10))).apply(doc)
    assert len(doc) == 1


def test_nudges_of_one_region_merge_into_one_step() -> None:
    doc = make_doc()
    AddRegions((reg("x", 100, 200),)).apply(doc)
    first = update(doc, "x", "nudge", start_ms=101)
    first.apply(doc)
    second = update(doc, "x", "nudge", start_ms=111)
    merged = first.merged_with(second)
    assert merged is not None
    assert merged.before.start_ms == 100 and merged.after.start_ms == 111
    assert first.merged_with(update(doc, "x", "move", start_ms=5)) is None


def test_range_and_stack_queries() -> None:
    doc = make_doc()
    many = tuple(reg(f"r{i}", i * 100, i * 100 + 50) for i in range(100))
    AddRegions((*many, reg("long", 0, 9000), reg("other", 0, 100, audio="b"))).apply(doc)
    visible = {r.local_id for r in doc.regions_in_range("a", 1000, 1200)}
    assert visible == {"r10", "r11", "r12", "long"}
    assert {r.local_id for r in doc.regions_at("a", 20)} == {"long", "r0"}
    assert doc.regions_at("a", 75) == [doc.region("long")]
    # the longest region is cached per file: a region made longer is still found
    assert {r.local_id for r in doc.regions_in_range("a", 20000, 20100)} == set()
    update(doc, "r3", "resize", end_ms=25000).apply(doc)
    assert {r.local_id for r in doc.regions_in_range("a", 20000, 20100)} == {"r3"}


def test_validation_messages() -> None:
    types = ["click", "pause"]
    assert validate_region(reg("x", 0, 10), types, 100) == []
    msgs = [str(p) for p in validate_region(Region("x", "a", "hum", 50, 50, 1.5), types, 40)]
    assert any("not one of the dataset's artifact types" in m for m in msgs)
    assert any("zero-length" in m for m in msgs)
    assert any("past the end of the file" in m for m in msgs)
    assert any("between 0 and 1" in m for m in msgs)
    assert [p.field for p in validate_region(reg("x", -5, 10), types, None)] == ["start_ms"]
    assert clamp_to_file(900, -20, 500) == (0, 500)


def test_diff_coalesces_edits_of_one_region() -> None:
    region = reg("n", 0, 10)
    local = [
        LocalEntry("n", region.with_fields(end_ms=99), 7),          # new, edited 7 times
        LocalEntry("gone", None, 3),                                # created+deleted locally
        LocalEntry("s", reg("s", 5, 50, "pause"), 4),               # synced at 2, relabelled
        LocalEntry("d", None, 2),                                   # synced, then deleted
        LocalEntry("clean", reg("clean", 0, 1), 1),
        LocalEntry("same", reg("same", 0, 1), 5),                   # edited back to server state
    ]
    remote = {
        "s": RemoteEntry("s", "S1", reg("s", 5, 50).fields(), 2),
        "d": RemoteEntry("d", "D1", reg("d", 0, 1).fields(), 1),
        "clean": RemoteEntry("clean", "C1", reg("clean", 0, 1).fields(), 1),
        "same": RemoteEntry("same", "M1", reg("same", 0, 1).fields(), 3),
    }
    plan = diff(local, remote)
    assert [op.local_id for op in plan.creates] == ["n"]
    assert plan.creates[0].payload["end_ms"] == 99
    assert plan.creates[0].payload["extra_data"] == {"client_id": "n"}
    updates = [(op.server_id, op.payload) for op in plan.updates]
    assert updates == [("S1", {"artifact_type": "pause"})]
    assert [op.server_id for op in plan.deletes] == ["D1"]
    assert {op.local_id for op in plan.forgets} == {"gone", "same"}
    assert plan.requests_needed == 3


def test_prepublish_lists_problems_and_unlabelled_files() -> None:
    regions = [reg("ok", 0, 10), reg("zero", 5, 5), reg("late", 100, 20_000),
               reg("bad", 0, 10, "hum")]
    files = [FileInfo("a", "a.wav", 10_000), FileInfo("b", "b.wav", 5_000),
             FileInfo("c", "c.wav", 1_000)]
    report = check(regions, ["click"], files, reviewed=["c"])
    cats = sorted(i.category for i in report.region_issues)
    assert cats == ["out_of_range", "unknown_type", "zero_length"]
    assert [f.filename for f in report.unlabeled_files] == ["b.wav"]
    assert [f.filename for f in report.reviewed_files] == ["c.wav"]
    assert report.blocking
    assert "1 file with no labels" in report.summary()
    clean = check([reg("ok", 0, 10)], ["click"], files[:1])
    assert not clean.blocking and clean.unlabeled_files == []


def test_fmt_ms() -> None:
    assert fmt_ms(83_456) == "1:23.456"
    assert fmt_ms(3_600_000 + 61_001) == "1:01:01.001"
