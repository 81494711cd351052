"""``python -m simulation.cli``: the ``statebiz`` command (as ``python -m simulation``)."""

import sys

from .main import main

if __name__ == "__main__":  # not when a spawned worker imports the main module
    sys.exit(main())
