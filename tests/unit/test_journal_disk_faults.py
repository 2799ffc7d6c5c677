"""The journal on a full or read-only disk: it refuses what it cannot store, says why, and
keeps everything it stored before.

The disk is a real size-limited tmpfs (``tests.support.small_mount``), so SQLite meets
the kernel's own ``ENOSPC``/``EROFS``. A filesystem cannot be remounted read-only while
a file on it is open for writing (the kernel answers "busy"), so the read-only case is
the journal being opened on a disk that is read-only: cleanly closed (it cannot open),
or left by a crash (SQLite opens it read-only, and writes fail as they would on a disk
turned read-only under the app; a forced remount reaches SQLite as an I/O error with
``EROFS``, checked by ``classify``).
"""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from relay_desktop.core.annotations import Region
from relay_desktop.core.journal import Journal, JournalError
from relay_desktop.core.journal_faults import FULL, READ_ONLY, classify
from tests.support.small_mount import SmallMount


def reg(local_id: str, start: int = 0, end: int = 100) -> Region:
    return Region(local_id, "audio-1", "click", start, end)


def test_a_full_disk_refuses_edits_and_keeps_what_was_saved(tmp_path: Path) -> None:
    with SmallMount(tmp_path / "data", size="2m") as mnt:
        journal = Journal(mnt.path / "journal.sqlite3")
        journal.ensure_set("S", "D")
        journal.ensure_set("T", "D")
        journal.record("S", [("a", reg("a")), ("b", reg("b", 200, 300))])
        mnt.fill()

        with pytest.raises(JournalError) as refused:
            journal.record("S", [("c", reg("c", 400, 500)), ("a", reg("a", 0, 150))])
        assert refused.value.kind == FULL
        assert str(refused.value) == (
            f"Not saved: the disk holding your journal is full ({journal.path}). "
            "Free some space and try again.")
        with pytest.raises(JournalError):  # a group commit of several sets: none of it
            journal.record_batch([("S", [("d", reg("d"))]), ("T", [("e", reg("e"))])])
        assert journal.local_regions("S") == [reg("a"), reg("b", 200, 300)]
        assert journal.local_regions("T") == []
        assert journal.pending_count("S") == 2
        assert [op.local_id for op in journal.plan("S").creates] == ["a", "b"]

        mnt.free()  # the space is back: the next edit works on the same connection
        assert journal.record("S", [("f", reg("f", 600, 700))]) == 3
        journal.close()
        again = Journal(mnt.path / "journal.sqlite3")
        assert [r.local_id for r in again.local_regions("S")] == ["a", "b", "f"]
        assert again.local_regions("S")[0] == reg("a")  # the refused resize never landed
        assert again.local_regions("T") == []
        again.close()


def test_opening_on_a_full_disk_says_so(tmp_path: Path) -> None:
    with SmallMount(tmp_path / "data", size="1m") as mnt:
        mnt.fill()
        with pytest.raises(JournalError) as refused:
            Journal(mnt.path / "journal.sqlite3")
        assert refused.value.kind == FULL
        assert str(refused.value).startswith(
            "The annotation journal cannot be opened: the disk holding your journal is full")
        mnt.free()
        Journal(mnt.path / "journal.sqlite3").close()


def test_a_read_only_disk_is_named_and_the_journal_is_intact(tmp_path: Path) -> None:
    with SmallMount(tmp_path / "data", size="2m") as mnt:
        path = mnt.path / "journal.sqlite3"
        with Journal(path) as journal:
            journal.ensure_set("S", "D")
            journal.record("S", [("a", reg("a"))])
        mnt.read_only()
        try:
            with pytest.raises(JournalError) as refused:
                Journal(path)
            assert refused.value.kind == READ_ONLY
            assert str(refused.value) == (
                f"The annotation journal cannot be opened: the disk holding your journal is "
                f"read-only ({path}). Make it writable and try again.")
            with pytest.raises(JournalError, match="read-only"):  # nor a new folder on it
                Journal(mnt.path / "sub" / "journal.sqlite3")
        finally:
            mnt.read_write()
        with Journal(path) as journal:
            assert journal.local_regions("S") == [reg("a")]
            assert journal.record("S", [("b", reg("b", 200, 300))]) == 2


def test_errors_of_a_disk_turned_read_only_under_an_open_journal(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    assert classify(OSError(errno.EROFS, "Read-only file system"), path) == READ_ONLY
    assert classify(OSError(errno.ENOSPC, "No space left on device"), path) == FULL
    readonly = sqlite3.OperationalError("attempt to write a readonly database")
    readonly.sqlite_errorcode = 8  # type: ignore[attr-defined]
    assert classify(readonly, path) == READ_ONLY


CRASHED_APP = """
import os, sys
from relay_desktop.core.annotations import Region
from relay_desktop.core.journal import Journal
journal = Journal(sys.argv[1])
journal.ensure_set("S", "D")
journal.record("S", [("a", Region("a", "audio-1", "click", 0, 100))])
os._exit(0)  # killed: the write-ahead log stays behind, un-checkpointed
"""


def journal_left_by_a_crash(path: Path) -> None:
    """A process journals an edit and dies without closing the journal."""
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", CRASHED_APP, str(path)], check=True, cwd=root,
                   env={**os.environ, "PYTHONPATH": str(root)}, timeout=60)


def test_a_journal_on_a_disk_turned_read_only_refuses_edits_until_writable(
        tmp_path: Path) -> None:
    with SmallMount(tmp_path / "data", size="2m") as mnt:
        path = mnt.path / "journal.sqlite3"
        journal_left_by_a_crash(path)
        mnt.read_only()
        try:
            journal = Journal(path)  # SQLite opens it read-only: it can be read
            assert journal.local_regions("S") == [reg("a")]
            journal.ensure_set("S", "D")  # known: nothing to write
            with pytest.raises(JournalError) as refused:
                journal.record("S", [("b", reg("b", 200, 300))])
            assert refused.value.kind == READ_ONLY
            assert str(refused.value) == (
                f"Not saved: the disk holding your journal is read-only ({path}). Make it "
                "writable and try again.")
            assert journal.local_regions("S") == [reg("a")]
        finally:
            mnt.read_write()
        assert journal.record("S", [("c", reg("c", 400, 500))]) == 2  # no restart needed
        journal.close()
        with Journal(path) as again:
            assert [r.local_id for r in again.local_regions("S")] == ["a", "c"]
