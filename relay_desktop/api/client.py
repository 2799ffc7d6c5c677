"""``RelayClient``: one ``requests.Session`` and the one request path every call takes.

The request path adds the ``X-API-Key`` header (only for the API's own origin),
applies (connect, read) timeouts, follows redirects itself (dropping the key
for any other scheme, host or port), retries idempotent requests on
connection errors and 429/502/503/504 with backoff, and maps errors to
``relay_desktop.api.errors``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from relay_desktop import __version__
from relay_desktop.api import redact
from relay_desktop.api.cancel import CancelToken
from relay_desktop.api.errors import (
    ApiConnectionError,
    ApiStatusError,
    ApiTimeoutError,
    Cancelled,
    NotSupported,
    RelayError,
    error_for_status,
)
from relay_desktop.api.retry import IDEMPOTENT_METHODS, RetryPolicy

log = logging.getLogger(__name__)

Timeout = tuple[float, float]
MAX_REDIRECTS = 5
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Starlette's answer for a route that does not exist; a resource that does not
# exist says "<Thing> not found".
_ROUTE_MISSING_DETAILS = frozenset({"Not Found", "Method Not Allowed"})


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, effective port) of ``url``: what decides where the key may go."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def _json_detail(resp: requests.Response) -> Any:
    """The ``detail`` of a Relay JSON error body, or None when the body is not one."""
    if "json" not in resp.headers.get("Content-Type", "").lower():
        return None
    try:
        body = resp.json()
    except ValueError:
        return None
    return body.get("detail") if isinstance(body, dict) else None


def _not_sent(exc: BaseException) -> bool:
    """True when a connection error happened before any byte of the request was sent."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        name = type(cur).__name__
        if name in ("NewConnectionError", "ConnectTimeoutError", "NameResolutionError"):
            return True
        if isinstance(cur, ConnectionRefusedError):
            return True
        nxt = getattr(cur, "reason", None)
        if not isinstance(nxt, BaseException):
            nxt = cur.args[0] if cur.args and isinstance(cur.args[0], BaseException) else None
        cur = nxt or cur.__cause__ or cur.__context__
    return False


class RelayClient:
    """A client for one Relay server and one API key.

    Not thread-safe: use it from one thread (the desktop's ApiWorker owns one).
    Also a context manager; ``close()`` releases the connection pool.
    """

    def __init__(self, base_url: str, api_key: str, timeout: Timeout = (5.0, 30.0), *,
                 retry: RetryPolicy | None = None) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._origin = origin(self.base_url)
        self.timeout: Timeout = (float(timeout[0]), float(timeout[1]))
        self.retry = retry or RetryPolicy()
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"relay-desktop/{__version__}"
        # The key is added per request for the API origin only, never to session headers.
        redact.register(api_key)

        from relay_desktop.api.resources import (
            AnnotationSetsResource,
            AnnotationsResource,
            AudioResource,
            DatasetsResource,
            InferenceJobsResource,
            ModelsResource,
            TrainingJobsResource,
        )

        self.datasets = DatasetsResource(self)
        self.audio = AudioResource(self)
        self.annotation_sets = AnnotationSetsResource(self)
        self.annotations = AnnotationsResource(self)
        self.training_jobs = TrainingJobsResource(self)
        self.models = ModelsResource(self)
        self.inference_jobs = InferenceJobsResource(self)

    def __repr__(self) -> str:
        return f"RelayClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> RelayClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- the one request path -------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``GET /healthz`` (a Relay Local extension): the server's identity and version."""
        data = self._request("GET", "/healthz", extension="The health probe")
        return dict(data) if isinstance(data, Mapping) else {}

    def _request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                 json: Any = None, cancel: CancelToken | None = None,
                 extension: str | None = None, retry: RetryPolicy | None = None) -> Any:
        """Send one API call; return the parsed JSON body (None for an empty body).

        ``extension`` names a Relay Local extension: a 405, or a 404 that is not a
        Relay "... not found", then raises ``NotSupported``.
        """
        method = method.upper()
        policy = retry or self.retry
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        clean_params = {k: v for k, v in (params or {}).items() if v is not None}
        attempt = 0
        while True:
            if cancel is not None:
                cancel.raise_if_cancelled()
            attempt += 1
            error: RelayError
            try:
                resp = self._send(method, url, clean_params, json)
            except requests.ReadTimeout:
                error = ApiTimeoutError(
                    f"{self.base_url} did not answer within {self.timeout[1]:g} s.")
                retryable = method in IDEMPOTENT_METHODS
            except requests.exceptions.SSLError as exc:
                raise ApiConnectionError(
                    f"The secure connection to {self.base_url} failed (certificate or TLS "
                    "problem); verification stays on.") from exc
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                error = ApiConnectionError(self._connection_message(exc))
                retryable = method in IDEMPOTENT_METHODS or _not_sent(exc)
            except requests.RequestException as exc:
                raise ApiConnectionError(
                    f"Request to {self.base_url} failed: {redact.redact(str(exc))}") from exc
            else:
                if resp.status_code < 400:
                    return self._parse(resp)
                if attempt <= policy.max_retries and policy.should_retry_status(
                        method, resp.status_code):
                    delay = policy.delay(attempt, resp.headers.get("Retry-After"))
                    resp.close()
                    log.info("%s %s -> %s; retry %d in %.2f s", method, url, resp.status_code,
                             attempt, delay)
                    self._sleep(delay, cancel)
                    continue
                raise self._error(resp, extension)
            if retryable and attempt <= policy.max_retries:
                delay = policy.delay(attempt)
                log.info("%s %s failed (%s); retry %d in %.2f s", method, url, error, attempt,
                         delay)
                self._sleep(delay, cancel)
                continue
            raise error

    def _send(self, method: str, url: str, params: Mapping[str, Any],
              json: Any) -> requests.Response:
        """Send, following redirects here so the key never leaves the API's origin."""
        body = json
        for _hop in range(MAX_REDIRECTS + 1):
            headers = {"Accept": "application/json"}
            if origin(url) == self._origin:
                headers["X-API-Key"] = self._api_key
            resp = self.session.request(method, url, params=params or None, json=body,
                                        headers=headers, timeout=self.timeout,
                                        allow_redirects=False)
            log.debug("%s %s -> %s", method, url.split("?", 1)[0], resp.status_code)
            location = resp.headers.get("Location")
            if resp.status_code not in _REDIRECT_STATUSES or not location:
                return resp
            resp.close()
            url = urljoin(resp.url, location)
            params = {}
            if resp.status_code == 303 or (resp.status_code in (301, 302) and method == "POST"):
                method, body = "GET", None
        raise ApiConnectionError(f"{self.base_url} redirected more than {MAX_REDIRECTS} times.")

    @staticmethod
    def _parse(resp: requests.Response) -> Any:
        if resp.status_code == 204 or not resp.content:
            return None
        try:
            return resp.json()
        except ValueError as exc:
            raise RelayError(
                f"The server sent a response that is not JSON (HTTP {resp.status_code}).") from exc

    @staticmethod
    def _error(resp: requests.Response, extension: str | None) -> ApiStatusError | RelayError:
        detail = _json_detail(resp)
        if extension and (resp.status_code == 405 or (
                resp.status_code == 404
                and (not isinstance(detail, str) or detail in _ROUTE_MISSING_DETAILS))):
            return NotSupported(f"{extension} is not supported by this server.")
        text = "" if detail is not None else resp.text[:500]
        return error_for_status(resp.status_code, detail, text, resp.reason or "")

    def _connection_message(self, exc: BaseException) -> str:
        if isinstance(exc, requests.ConnectTimeout):
            return (f"Could not connect to {self.base_url} within {self.timeout[0]:g} s.")
        if _not_sent(exc):
            return f"Could not connect to {self.base_url}: the server is not reachable."
        return f"The connection to {self.base_url} broke before the server answered."

    @staticmethod
    def _sleep(seconds: float, cancel: CancelToken | None) -> None:
        if cancel is None:
            time.sleep(seconds)
        elif cancel.wait(seconds):
            raise Cancelled()
