"""Design points: full factorial (itertools), Latin hypercube (scipy.stats.qmc), Sobol
(SALib's Saltelli scheme) and Morris (SALib). Samplers are seeded from the root seed."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..scenario import BY_NAME, resolve
from .seeds import design_seed

#: Show a progress bar (on a terminal, after 1 s) while a large design is prepared; the command
#: line turns it off with --quiet.
PROGRESS = True
#: Design points (or runs) from which their preparation shows a progress bar.
LARGE = 20_000
#: Seconds before that bar shows (a design prepared faster shows none).
DELAY = 1.0


def preparing(items: Iterable, total: int, what: str, show: bool = True) -> Iterable:
    """``items``, with a progress bar on stderr when ``total`` is :data:`LARGE` or more (shown
    after :data:`DELAY` seconds), so that a huge design is never silent; none without ``show``
    or :data:`PROGRESS`."""
    if not (show and PROGRESS) or total < LARGE:
        return items
    from tqdm import tqdm

    return tqdm(items, total=total, desc=what, unit="", file=sys.stderr, delay=DELAY, leave=False, mininterval=0.5)


def salib_problem(factors) -> dict[str, Any]:
    """The SALib problem definition (number of variables, names, bounds) for the factors."""
    return {"num_vars": len(factors), "names": [f.name for f in factors], "bounds": [[f.low, f.high] for f in factors]}


def design_matrix(design: dict[str, Any], factors, root_seed: int) -> np.ndarray:
    """The sampler's raw matrix (one row per design point, factors in columns, unrounded).

    Only for the sampling designs (lhs, sobol, morris); the analysis rebuilds it from the
    manifest to compute Morris elementary effects on the sampler's own grid.
    """
    kind, seed = design["type"], design_seed(root_seed)
    if kind == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(factors), seed=np.random.default_rng(seed)).random(design["samples"])
        low = np.array([f.low for f in factors])
        high = np.array([f.high for f in factors])
        return qmc.scale(unit, low, high)
    problem = salib_problem(factors)
    if kind == "sobol":
        from SALib.sample import sobol

        return sobol.sample(problem, design["samples"], calc_second_order=design["second_order"], seed=seed)
    if kind == "morris":
        from SALib.sample import morris

        return morris.sample(problem, design["trajectories"], num_levels=design["levels"], seed=seed)
    raise ValueError(f"no design matrix for a {kind} design")


def _typed(factor, value):
    kind = BY_NAME[factor.name].kind
    if kind is int:
        return int(round(float(value)))
    if kind is float:
        return float(value)
    return value


def states_seed(root: int) -> int:
    """The seed of the states' sampler in a crossed design (separate from the policies')."""
    return int(np.random.SeedSequence(root, spawn_key=(1, 1)).generate_state(1, np.uint32)[0])


def state_points(states: dict[str, Any], factors, root_seed: int) -> list[dict[str, Any]]:
    """The states of the world of a crossed design: a factorial over the uncertainties, or a Latin
    hypercube over the ranged ones crossed with every combination of the listed ones."""
    if states["type"] == "factorial":
        return raw_points({"type": "factorial"}, factors, root_seed)
    listed = [f for f in factors if f.values is not None]
    ranged = [f for f in factors if f.values is None]
    combos = raw_points({"type": "factorial"}, listed, root_seed)
    rows = [{}]
    if ranged:
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(ranged), seed=np.random.default_rng(states_seed(root_seed)))
        matrix = qmc.scale(unit.random(states["samples"]), [f.low for f in ranged], [f.high for f in ranged])
        rows = [{f.name: _typed(f, v) for f, v in zip(ranged, row)} for row in matrix]
    return [row | combo for row in rows for combo in combos]


def crossed_points(design: dict[str, Any], factors, root_seed: int) -> list[dict[str, Any]]:
    """Every policy (the levers, sampled by the main design) in every state of the world
    (the uncertainties, ``design["states"]``): point = policy x number of states + state."""
    levers = [f for f in factors if f.role == "lever"]
    uncertainties = [f for f in factors if f.role != "lever"]
    policies = raw_points({k: v for k, v in design.items() if k != "states"}, levers, root_seed)
    states = state_points(design["states"], uncertainties, root_seed)
    return [policy | state for policy in policies for state in states]


def raw_points(design: dict[str, Any], factors, root_seed: int) -> list[dict[str, Any]]:
    """Factor values of every design point, in design order (integer parameters rounded)."""
    if not factors:
        return [{}]
    if "states" in design:
        return crossed_points(design, factors, root_seed)
    if design["type"] == "factorial":
        grids = [f.factorial_values() for f in factors]
        return [{f.name: _typed(f, v) for f, v in zip(factors, combo)} for combo in itertools.product(*grids)]
    matrix = design_matrix(design, factors, root_seed)
    return [{f.name: _typed(f, v) for f, v in zip(factors, row)} for row in matrix]


def design_points(spec) -> list[dict[str, Any]]:
    """Validated design points of an experiment (cached on the spec).

    Raises:
        ScenarioError: a point gives an invalid parameter set (e.g. budget shares over 1).
    """
    if "points" in spec.extra:
        return spec.extra["points"]
    points = raw_points(spec.design, spec.factors, spec.seed)
    base = spec.base_params()
    params = []
    for i, point in preparing(enumerate(points), len(points), f"{spec.name}: checking design points"):
        params.append(resolve(base | point, f"{spec.path} (design point {i}: {point})"))
    spec.extra["points"] = points
    spec.extra["params"] = params
    return points


def point_params(spec) -> list[dict[str, Any]]:
    """The full resolved parameter set of every design point."""
    design_points(spec)
    return spec.extra["params"]
