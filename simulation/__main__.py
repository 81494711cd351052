"""``python -m simulation``: the ``statebiz`` command."""

import sys

from .cli import main

sys.exit(main())
