"""PyInstaller entry point of the one-folder build: the app, or Relay Local inside it.

A frozen bundle has no ``python -m relay_server``: ``sys.executable`` is this
binary. So ``relay-desktop --run-server ARGS`` runs the server's command line
(``serve``, ``create-key``, ``seed-demo``, ``worker``) in this process, and
anything else starts the desktop app. ``relay_desktop.services.local_workspace``
launches the server this way when it runs frozen.
"""

from __future__ import annotations

import sys

RUN_SERVER = "--run-server"


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == RUN_SERVER:
        from relay_server.cli import main as server_main

        return server_main(sys.argv[2:])
    from relay_desktop.__main__ import main as app_main

    return app_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
