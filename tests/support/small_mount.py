"""A real, size-limited (or read-only) filesystem for disk-fault tests.

A tmpfs mounted with ``size=`` runs out of space exactly as a full disk does
(``ENOSPC`` from ``write``/``fsync``), and ``remount,ro`` makes it refuse every
write (``EROFS``), so the code under test meets the operating system's own
errors, not mocks. Mounting needs root (CAP_SYS_ADMIN), which CI has; where the
kernel refuses, :func:`require_mounts` skips with the reason, and with
``RELAY_TEST_DISK_FAULTS=1`` it fails instead.

    with SmallMount(tmp_path / "data", size="8m") as mnt:
        ...               # mnt.path is the mount point
        mnt.fill()        # leave (almost) no free space
        mnt.free()        # give the space back
        mnt.read_only()   # remount read-only; mnt.read_write() undoes it
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

FILLER = ".filler"


def _mount_error() -> str | None:
    """Why a tmpfs cannot be mounted here, or None when it can."""
    if os.name != "posix" or shutil.which("mount") is None:
        return "no mount(8) on this platform"
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    return None


def require_mounts() -> None:
    """Skip (or, with RELAY_TEST_DISK_FAULTS=1, fail) when tmpfs mounts are impossible."""
    reason = _mount_error()
    if reason is None:
        return
    if os.environ.get("RELAY_TEST_DISK_FAULTS") == "1":
        pytest.fail(f"disk-fault tests were asked for but cannot run: {reason}")
    pytest.skip(reason)


class SmallMount:
    """A tmpfs of ``size`` at ``path`` (created if needed), unmounted on exit."""

    def __init__(self, path: Path, size: str = "16m") -> None:
        self.path = path
        self.size = size
        self._mounted = False

    def __enter__(self) -> SmallMount:
        require_mounts()
        self.path.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={self.size},mode=0755",
                               "tmpfs", str(self.path)], capture_output=True, text=True)
        if done.returncode != 0:
            message = f"cannot mount a tmpfs at {self.path}: {done.stderr.strip()}"
            if os.environ.get("RELAY_TEST_DISK_FAULTS") == "1":
                pytest.fail(message)
            pytest.skip(message)
        self._mounted = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._mounted:
            subprocess.run(["umount", "-l", str(self.path)], capture_output=True)
            self._mounted = False

    def _remount(self, mode: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{mode}", str(self.path)], check=True,
                       capture_output=True)

    def read_only(self) -> None:
        """Remount read-only: every write now fails with EROFS.

        The kernel refuses ("mount point is busy") while any file on the mount is
        open for writing, so a process under test must not hold one open then (for
        example: stop it, remount, start it again on the read-only folder).
        """
        self._remount("ro")

    def read_write(self) -> None:
        """Remount read-write again."""
        self._remount("rw")

    def fill(self, leave_bytes: int = 0) -> None:
        """Write a filler file until the filesystem has ``leave_bytes`` or less free."""
        filler = self.path / FILLER
        chunk = b"\0" * (1 << 20)
        with open(filler, "ab") as out:
            while (free := shutil.disk_usage(self.path).free) > leave_bytes:
                try:
                    out.write(chunk[: max(1, min(len(chunk), free - leave_bytes))])
                    out.flush()
                except OSError:
                    break

    def free(self) -> None:
        """Remove the filler: the space is back."""
        (self.path / FILLER).unlink(missing_ok=True)

    def free_bytes(self) -> int:
        return shutil.disk_usage(self.path).free
