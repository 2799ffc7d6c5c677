import sys

from relay_server.cli import main

sys.exit(main())
