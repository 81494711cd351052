"""Answer rules: how a resident's latent satisfaction becomes an answer on the survey's scales.

These rules are part of the survey instrument, fixed before any fitting (ODD 7, "Observation";
``simulation.observe.survey`` asks the paper's questions with them, and the records count the same
answers over the whole population). They are not behaviour: no agent reads an answer.
The cut-points sit at the latent scale's half-units, the same for every table: there are
no cut-points per table.
"""

from __future__ import annotations

import numpy as np

#: Table 7's business satisfaction: satisfied above this satisfaction S, dissatisfied below
#: its negative, partially in between (the same cut for the population counts).
SATISFACTION_CUT = 1.0 / 3.0
#: Table 5's 1-5 scale: scores 1 | 2 | 3 | 4 | 5 between these latent values.
AUTHORITY_CUTS = np.array([-1.5, -0.5, 0.5, 1.5])
#: Table 6's three answers: dissatisfied | partially | satisfied between these latent values.
UTILITY_CUTS = np.array([-0.5, 0.5])


def authority_scores(latent: np.ndarray) -> np.ndarray:
    """Answer on Table 5's 1-5 scale for latent satisfaction values."""
    return 1 + np.searchsorted(AUTHORITY_CUTS, latent, side="right")


def utility_answers(latent: np.ndarray) -> np.ndarray:
    """0 satisfied, 1 partially, 2 dissatisfied (Table 6's column order)."""
    return 2 - np.searchsorted(UTILITY_CUTS, latent, side="right")
