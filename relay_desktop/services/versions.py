"""The versions of the app and the libraries it runs on (About, --version, problem reports).

Gathering them imports soundfile (for libsndfile's version), so it belongs here
and not in the UI; call it off the GUI thread when the app is running.
"""

from __future__ import annotations

import platform
import sys
from importlib import metadata

from relay_desktop import __version__

#: the rows of :func:`versions`, in display order
NAMES = ("Relay Desktop", "Qt", "PySide6", "pyqtgraph", "libsndfile", "NumPy", "Python")


def _module_version(module: str, dist: str) -> str:
    try:
        mod = __import__(module)
        value = getattr(mod, "__version__", None)
        if value:
            return str(value)
        return metadata.version(dist)
    except Exception as exc:  # a missing or broken library is reported, not raised
        return f"unavailable ({type(exc).__name__})"


def libsndfile_version() -> str:
    """``"1.2.2"`` from soundfile's ``libsndfile-1.2.2``, or why it is unavailable."""
    try:
        import soundfile
    except Exception as exc:  # OSError when libsndfile itself cannot be loaded
        return f"unavailable ({type(exc).__name__})"
    text = str(getattr(soundfile, "__libsndfile_version__", ""))
    return text.removeprefix("libsndfile-") or "unknown"


def qt_version() -> str:
    try:
        from PySide6.QtCore import qVersion
    except Exception as exc:
        return f"unavailable ({type(exc).__name__})"
    return str(qVersion())


def build_kind() -> str:
    """``"packaged"`` in a frozen (PyInstaller) build, ``"source"`` otherwise."""
    return "packaged" if getattr(sys, "frozen", False) else "source"


def versions() -> dict[str, str]:
    """Name -> version of the app and its runtime (see :data:`NAMES`)."""
    return {
        "Relay Desktop": f"{__version__} ({build_kind()})",
        "Qt": qt_version(),
        "PySide6": _module_version("PySide6", "PySide6-Essentials"),
        "pyqtgraph": _module_version("pyqtgraph", "pyqtgraph"),
        "libsndfile": libsndfile_version(),
        "NumPy": _module_version("numpy", "numpy"),
        "Python": platform.python_version(),
    }


def platform_summary() -> str:
    """The operating system and machine, e.g. ``Linux-6.1.0-x86_64-with-glibc2.36 (x86_64)``."""
    return f"{platform.platform()} ({platform.machine() or 'unknown machine'})"


def format_versions(values: dict[str, str], server: str | None = None) -> str:
    """Aligned ``name: version`` lines; ``server`` adds the connected server's line."""
    rows = list(values.items())
    if server is not None:
        rows.append(("Server", server))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name + ':':<{width + 1}} {value}" for name, value in rows)


def version_text() -> str:
    """What ``relay-desktop --version`` prints."""
    return (f"relay-desktop {__version__}\n" + format_versions(versions())
            + f"\n{'Platform:':<{len('Relay Desktop') + 1}} {platform_summary()}")
