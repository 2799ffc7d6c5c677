"""Entry point: ``relay-desktop`` / ``python -m relay_desktop``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence


class _VersionAction(argparse.Action):
    """``--version``: the app's and its libraries' versions, then exit."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0,
                         help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        from relay_desktop.services.versions import version_text

        print(version_text(), flush=True)
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="relay-desktop",
        description="Label, train and detect artifacts in generated speech.",
    )
    parser.add_argument("--version", action=_VersionAction,
                        help="show the versions of the app, Qt, PySide6, pyqtgraph and "
                             "libsndfile, then exit")
    parser.add_argument("--local", action="store_true",
                        help="open the local workspace (Relay Local) without asking")
    parser.add_argument("--screenshot", metavar="PATH",
                        help="open the workspace (the local demo unless RELAY_BASE_URL and "
                             "RELAY_API_KEY are set), render the main window to a PNG and exit")
    parser.add_argument("--size", default="1400x860", metavar="WxH",
                        help="window size for --screenshot (default 1400x860)")
    parser.add_argument("--view", default="label",
                        choices=("label", "jobs", "models", "inference", "review", "evaluate"),
                        help="the screen --screenshot shows (default label)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from relay_desktop.app import run  # Qt is imported only once we know we need it
    from relay_desktop.core.paths import AppPaths
    from relay_desktop.services.app_log import install_log_file

    install_log_file(AppPaths.default())
    if os.environ.get("RELAY_STARTUP_PROBE"):  # benchmarks/startup.py times the real start
        from relay_desktop.services.startup_probe import install_from_environment

        install_from_environment()  # the probe is the QApplication's child
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
