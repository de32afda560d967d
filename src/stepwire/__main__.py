"""``python -m stepwire``: the ``stepwire`` command (docs/cli.md)."""

import sys

from stepwire._cli import main

if __name__ == "__main__":
    sys.exit(main())
