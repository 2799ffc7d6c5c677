"""Command line: ``relay-server serve | worker | create-key | list-keys | revoke-key |
seed-demo``."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import socket
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from relay_server import __version__
from relay_server.config import ServerSettings

if TYPE_CHECKING:
    from relay_server.lifeline import ServeLock


def _settings(args: argparse.Namespace) -> ServerSettings:
    try:
        return ServerSettings.from_env(args.data_dir,
                                       queue_url=getattr(args, "queue_url", None))
    except ValueError as exc:  # a malformed RELAY_* value: say which, no traceback
        raise SystemExit(f"relay-server: {exc}") from None


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or a name) only reaches this machine."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def http_protocol() -> type[asyncio.Protocol] | str:
    """uvicorn's httptools protocol, minus two copies of every request-body piece.

    uvicorn appends each body piece the parser hands over to a ``bytearray``
    and copies it out again as ``bytes`` for the app's ``receive()``. When
    the app has already taken everything before (the usual case for a
    streamed upload), the piece can be handed on as it is: ``b"" + piece``
    and ``bytes(piece)`` are the piece itself. Falls back to uvicorn's own
    choice when httptools is missing.

    Relies on uvicorn internals, tested with uvicorn 0.55.0 (pinned to 0.55.x in
    pyproject.toml; tests/unit/test_dependency_internals.py fails when they move):
    the module path ``uvicorn.protocols.http.httptools_impl``, the parser calling
    ``on_body`` once per piece, ``self.cycle.body`` starting as an empty
    ``bytearray`` that ``on_body`` extends with ``+=``, and ``receive()`` handing
    over ``bytes(cycle.body)`` and then putting a new ``bytearray`` in its place.
    uvicorn has no public hook for the request-body buffer.
    """
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return "auto"

    class BodyPassingProtocol(HttpToolsProtocol):
        def on_body(self, body: bytes) -> None:
            cycle = getattr(self, "cycle", None)
            pending = getattr(cycle, "body", None)
            if pending is not None and not pending:
                cycle.body = b""  # type: ignore[union-attr]
            elif isinstance(pending, bytes):  # a second piece before receive(): append
                cycle.body = bytearray(pending)  # type: ignore[union-attr]
            super().on_body(body)

    return BodyPassingProtocol


def lower_priority(nice: int) -> None:
    """Run this process (every thread started from now on) ``nice`` steps below normal.

    Called before anything starts a thread (numpy's BLAS threads included), since on
    Linux each thread has its own nice value and inherits its creator's. Where the OS
    has no ``nice`` (Windows) the server runs at normal priority.
    """
    if nice <= 0:
        return
    if not hasattr(os, "nice"):
        logging.getLogger(__name__).info("--nice is not supported here; normal priority")
        return
    os.nice(min(nice, 19))


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve; on a full or read-only data folder, stop at once with a sentence, not a
    traceback (a server that cannot open its database has nothing to answer with)."""
    lower_priority(args.nice)
    from pathlib import Path

    from relay_server.config import default_data_dir
    from relay_server.diskfaults import EXIT_DISK_FAULT, cannot_start, disk_fault, probe

    folder = Path(args.data_dir or os.environ.get("RELAY_DATA_DIR")
                  or default_data_dir()).expanduser()
    fault = probe(folder) if folder.is_dir() else None
    try:
        if fault is None:
            return _serve(args)
    except Exception as exc:
        fault = disk_fault(exc, folder)
        if fault is None:
            raise
    print(f"relay-server: {cannot_start(folder, fault)}", file=sys.stderr)
    return EXIT_DISK_FAULT


def _serve(args: argparse.Namespace) -> int:
    from relay_server.lifeline import EXIT_FOLDER_IN_USE, FolderInUse, ServeLock

    settings = _settings(args)
    lock = ServeLock(settings.data_dir)
    try:
        lock.acquire()
    except FolderInUse as exc:
        print(f"relay-server: {exc}", file=sys.stderr)
        return EXIT_FOLDER_IN_USE
    try:
        return _serve_locked(args, settings, lock)
    finally:
        lock.release()


def _serve_locked(args: argparse.Namespace, settings: ServerSettings, lock: ServeLock) -> int:
    import uvicorn

    from relay_server.app import create_app
    from relay_server.lifeline import watch_parent_pipe

    app = create_app(settings)
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say
    # so, and without it every keep-alive response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET,
                         socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        sock.close()
        print(f"relay-server: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    sock.set_inheritable(True)
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    lock.describe(f"http://{host}:{port}")
    print(f"Relay Local listening on http://{host}:{port}", flush=True)
    if not is_loopback(args.host):
        print(f"relay-server: WARNING: listening on {args.host}, beyond this machine, over "
              "plain HTTP: API keys and data cross the network unencrypted. Put a TLS "
              "proxy in front (and firewall the port), or listen on 127.0.0.1.",
              file=sys.stderr, flush=True)
    config = uvicorn.Config(app, log_level=args.log_level, access_log=args.access_log,
                            timeout_graceful_shutdown=5, http=http_protocol())
    server = uvicorn.Server(config)
    if args.exit_with_parent:
        def parent_gone() -> None:
            print("relay-server: the parent process is gone; shutting down", file=sys.stderr,
                  flush=True)
            server.should_exit = True
            # a hard stop if the graceful one hangs (a task that never reaches a safe point)
            threading.Timer(20.0, os._exit, args=(0,)).start()

        watch_parent_pipe(parent_gone)
    server.run(sockets=[sock])
    return 0


def cmd_create_key(args: argparse.Namespace) -> int:
    from relay_server.auth import create_api_key
    from relay_server.db.session import make_engine, make_session_factory, upgrade_database

    tenant = args.tenant.strip()
    if not 1 <= len(tenant) <= 200:
        print("relay-server: --tenant must be 1 to 200 characters", file=sys.stderr)
        return 2
    args.tenant = tenant
    settings = _settings(args)
    engine = make_engine(settings.database_url)
    upgrade_database(engine)
    with make_session_factory(engine).begin() as session:
        key = create_api_key(session, args.tenant)
    engine.dispose()
    print(f"Created an API key for tenant {args.tenant!r}. It is shown only once:",
          file=sys.stderr)
    print(key, flush=True)
    return 0


def cmd_list_keys(args: argparse.Namespace) -> int:
    """One line per key: prefix, tenant, created, state (the key itself is never shown)."""
    from relay_server.db.session import make_engine, make_session_factory, upgrade_database
    from relay_server.keys import list_keys

    settings = _settings(args)
    engine = make_engine(settings.database_url)
    upgrade_database(engine)
    with make_session_factory(engine)() as session:
        keys = list_keys(session, args.tenant)
    engine.dispose()
    if not keys:
        print("No API keys" + (f" for tenant {args.tenant!r}." if args.tenant else "."),
              file=sys.stderr)
        return 0
    for k in keys:
        state = f"revoked {k.revoked_at:%Y-%m-%d %H:%M:%S}" if k.revoked_at else "active"
        ident = f"  {k.id}" if args.ids else ""
        print(f"{k.prefix}…  {k.tenant}  created {k.created_at:%Y-%m-%d %H:%M:%S}  "
              f"{state}{ident}", flush=True)
    return 0


def cmd_revoke_key(args: argparse.Namespace) -> int:
    """Revoke a key by prefix, id or value; servers on this data folder stop it at once."""
    from relay_server.db.session import make_engine, make_session_factory, upgrade_database
    from relay_server.keys import KeyNotFound, announce_revocation, revoke_key

    settings = _settings(args)
    engine = make_engine(settings.database_url)
    upgrade_database(engine)
    try:
        with make_session_factory(engine).begin() as session:
            key, was_active = revoke_key(session, args.key)
            prefix = key.prefix
    except KeyNotFound as exc:
        print(f"relay-server: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    announce_revocation(settings.data_dir)
    print(f"Revoked the key {prefix}…" if was_active
          else f"The key {prefix}… was already revoked.", flush=True)
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from relay_server.demo import seed_demo

    settings = _settings(args)
    dataset_id = seed_demo(settings, args.tenant, queue_jobs=not args.no_jobs)
    print(f"Demo dataset ready: {dataset_id}", flush=True)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    lower_priority(args.nice)
    from relay_server.jobs.worker import run_worker

    return run_worker(_settings(args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="relay-server", description="Relay Local server")
    parser.add_argument("--version", action="version", version=f"relay-server {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def add_data_dir(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data-dir", default=None,
                       help="data folder (default: $RELAY_DATA_DIR or the user data dir)")

    def add_queue_url(p: argparse.ArgumentParser) -> None:
        p.add_argument("--queue-url", default=None,
                       help="redis://host:port/db: the task queue on Redis, shared by workers "
                            "on other machines (default: $RELAY_QUEUE_URL, else SQLite in the "
                            "data folder)")

    def add_nice(p: argparse.ArgumentParser) -> None:
        p.add_argument("--nice", type=int, default=0, metavar="N",
                       help="run N steps (1-19) below normal CPU priority, so interactive "
                            "programs on the same machine go first (the desktop app starts "
                            "Relay Local with 10)")

    serve = sub.add_parser("serve", help="run the API server")
    add_data_dir(serve)
    add_queue_url(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8400, help="0 picks a free port")
    serve.add_argument("--log-level", default="warning")
    serve.add_argument("--access-log", action="store_true")
    serve.add_argument("--exit-with-parent", action="store_true",
                       help="shut down when stdin closes (the app that started it is gone)")
    add_nice(serve)
    serve.set_defaults(func=cmd_serve)

    key = sub.add_parser("create-key", help="create an API key (printed as the last line)")
    add_data_dir(key)
    key.add_argument("--tenant", default="default")
    key.set_defaults(func=cmd_create_key)

    keys = sub.add_parser("list-keys", help="list the API keys: prefix, tenant, created, "
                                            "revoked (never the key itself)")
    add_data_dir(keys)
    keys.add_argument("--tenant", default=None, help="only this tenant's keys")
    keys.add_argument("--ids", action="store_true", help="also print each key's id")
    keys.set_defaults(func=cmd_list_keys)

    revoke = sub.add_parser("revoke-key", help="revoke an API key (by the prefix list-keys "
                                               "shows, its id, or the key); it stops at once")
    add_data_dir(revoke)
    revoke.add_argument("key", help="the key's prefix, id or value")
    revoke.set_defaults(func=cmd_revoke_key)

    seed = sub.add_parser("seed-demo", help="create the demo dataset and queue its demo "
                                            "training and inference jobs (idempotent)")
    add_data_dir(seed)
    add_queue_url(seed)
    seed.add_argument("--no-jobs", action="store_true",
                      help="only the dataset: queue no demo training or inference job")
    seed.add_argument("--tenant", default="default")
    seed.set_defaults(func=cmd_seed_demo)

    worker = sub.add_parser("worker", help="consume background tasks from the shared queue")
    add_data_dir(worker)
    add_queue_url(worker)
    add_nice(worker)
    worker.set_defaults(func=cmd_worker)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
