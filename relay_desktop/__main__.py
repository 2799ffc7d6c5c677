"""Entry point: ``relay-desktop`` / ``python -m relay_desktop``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from relay_desktop import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="relay-desktop",
        description="Label, train and detect artifacts in generated speech.",
    )
    parser.add_argument("--version", action="version", version=f"relay-desktop {__version__}")
    parser.add_argument("--local", action="store_true",
                        help="open the local workspace (Relay Local) without asking")
    parser.add_argument("--screenshot", metavar="PATH",
                        help="open the workspace (the local demo unless RELAY_BASE_URL and "
                             "RELAY_API_KEY are set), render the main window to a PNG and exit")
    parser.add_argument("--size", default="1400x860", metavar="WxH",
                        help="window size for --screenshot (default 1400x860)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from relay_desktop.app import run  # Qt is imported only once we know we need it

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
