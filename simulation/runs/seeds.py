"""Per-replication seeds derived from an experiment's root seed (common random numbers).

Replication *r* gets the same seed at every design point, so differences between design
points (policies) are paired: they share the random draws of the model's streams. The
seeds come from ``numpy.random.SeedSequence(root, spawn_key=(0, r))``, so adding
replications never changes the seeds of the earlier ones, and the design's own sampler
(LHS, Sobol scrambling, Morris trajectories) draws from a separate child ``(1,)``.
"""

from __future__ import annotations

import numpy as np

REPLICATIONS_KEY = 0
DESIGN_KEY = 1


def replication_seed(root: int, replication: int) -> int:
    """The run seed of replication ``replication`` (a non-negative 63-bit integer)."""
    state = np.random.SeedSequence(root, spawn_key=(REPLICATIONS_KEY, replication)).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def replication_seeds(root: int, replications: int) -> list[int]:
    """The run seeds of replications 0 .. ``replications`` - 1."""
    return [replication_seed(root, r) for r in range(replications)]


def design_seed(root: int) -> int:
    """The seed of the design's sampler (32 bits, as SALib and scipy accept it)."""
    return int(np.random.SeedSequence(root, spawn_key=(DESIGN_KEY,)).generate_state(1, np.uint32)[0])
