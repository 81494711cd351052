"""Design points: full factorial (itertools), Latin hypercube (scipy.stats.qmc), Sobol
(SALib's Saltelli scheme) and Morris (SALib). Samplers are seeded from the root seed."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ..scenario import BY_NAME, resolve
from .seeds import design_seed


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


def raw_points(design: dict[str, Any], factors, root_seed: int) -> list[dict[str, Any]]:
    """Factor values of every design point, in design order (integer parameters rounded)."""
    if not factors:
        return [{}]
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
    for i, point in enumerate(points):
        params.append(resolve(base | point, f"{spec.path} (design point {i}: {point})"))
    spec.extra["points"] = points
    spec.extra["params"] = params
    return points


def point_params(spec) -> list[dict[str, Any]]:
    """The full resolved parameter set of every design point."""
    design_points(spec)
    return spec.extra["params"]
