"""statebiz: an agent-based model of akimats (regional governments) and firms in Kazakhstan.

Public API:
    StateBusinessModel   the Mesa model (keyword parameters + ``rng``)
    run_model            plain function: parameters in, end-of-run outcomes out
    load_scenario        read and validate a scenario TOML file
"""

from .model import StateBusinessModel
from .runner import run_model
from .scenario import GOVERNANCE_PRESETS, PARAMETERS, Scenario, ScenarioError, load_scenario

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
