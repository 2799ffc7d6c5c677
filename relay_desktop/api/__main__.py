"""``python -m relay_desktop.api``."""

import sys

from relay_desktop.api.cli import main

if __name__ == "__main__":
    sys.exit(main())
