"""statebiz: an agent-based model of akimats (regional governments) and firms in Kazakhstan.

Public API:
    StateBusinessModel   the Mesa model (keyword parameters + ``rng``)
    run_model            plain function: parameters in, end-of-run outcomes out
    load_scenario        read and validate a scenario TOML file
"""

import os as _os
import sys as _sys

try:
    _os.getcwd()
except OSError:  # numba's import (through coverage) and every relative path fail there: one line, exit 2
    print(
        "statebiz: error: the working directory no longer exists (it was removed or moved); "
        "cd to an existing directory",
        file=_sys.stderr,
    )
    raise SystemExit(2) from None

from . import machine as _machine  # noqa: E402 - imports no numpy

_machine.apply_portable_from_environment()  # before numpy is imported (STATEBIZ_PORTABLE=1)

from .model import StateBusinessModel  # noqa: E402 - after the portable mode is applied
from .runner import run_model  # noqa: E402
from .scenario import GOVERNANCE_PRESETS, PARAMETERS, Scenario, ScenarioError, load_scenario  # noqa: E402

__all__ = [
    "StateBusinessModel",
    "run_model",
    "load_scenario",
    "Scenario",
    "ScenarioError",
    "PARAMETERS",
    "GOVERNANCE_PRESETS",
]
__version__ = "0.1.0"
