"""Stream a file from a (signed) storage URL to disk: temp file, then rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import requests

from relay_desktop.api.cancel import CancelToken
from relay_desktop.api.errors import ApiConnectionError, ApiTimeoutError
from relay_desktop.api.uploads import CHUNK_SIZE, storage_error

Progress = Callable[[int, int], None]


def download_to_file(session: requests.Session, url: str, dest: str | os.PathLike[str], *,
                     timeout: tuple[float, float], progress: Progress | None = None,
                     cancel: CancelToken | None = None, chunk_size: int = CHUNK_SIZE) -> Path:
    """GET ``url`` (no API key: the session never carries it) into ``dest``.

    Bytes go to a temporary file next to ``dest`` that replaces it only once the
    whole body arrived; on failure or cancel nothing is left behind and an
    existing ``dest`` is untouched.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if cancel is not None:
        cancel.raise_if_cancelled()
    try:
        resp = session.get(url, stream=True, timeout=timeout)
    except requests.ReadTimeout as exc:
        raise ApiTimeoutError("Storage did not answer the download in time.") from exc
    except requests.ConnectionError as exc:
        raise ApiConnectionError(f"The download broke off: {type(exc).__name__}.") from exc
    with resp:
        if not 200 <= resp.status_code < 300:
            err = storage_error(resp)
            err.message = err.message.replace("refused the upload", "refused the download")
            raise err
        total = int(resp.headers.get("Content-Length") or 0)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part",
                                        dir=dest.parent)
        tmp = Path(tmp_name)
        try:
            done = 0
            with os.fdopen(fd, "wb") as out:
                if progress is not None:
                    progress(0, total)
                try:
                    for chunk in resp.iter_content(chunk_size):
                        if cancel is not None:
                            cancel.raise_if_cancelled()
                        out.write(chunk)
                        done += len(chunk)
                        if progress is not None:
                            progress(done, max(total, done))
                except requests.RequestException as exc:
                    raise ApiConnectionError("The download broke off before it finished.") \
                        from exc
            if total and done != total:
                raise ApiConnectionError(
                    f"The download ended early ({done} of {total} bytes).")
            os.replace(tmp, dest)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
    return dest
