"""``python -m simulation``: the ``statebiz`` command."""

import sys

from .cli import main

if __name__ == "__main__":  # not when a spawned worker (multiprocessing, MPI) imports the main module
    sys.exit(main())
