"""A calibration's posterior as a file: weighted draws of the free parameters, per model.

``statebiz calibrate`` writes ``posterior.csv`` (and copies it to ``docs/calibration/``): one row
per particle of the final ABC-SMC generation::

    model,weight,moral_cost,choice_sensitivity,...,symbiosis,overdispersion
    fitted,0.0049,0.0113,41.2,...,0.62,0.031
    partnership,0.0051,0.0098,55.0,...,0.0,0.028

- ``model``: ``fitted`` (the symbiosis index s drawn from its prior) or a governance model whose
  s is fixed (``partnership`` s = 0, ``symbiotic`` s = 1), all with the same free parameters;
- ``weight``: the particle's importance weight (normalised per model when read);
- one column per free parameter: scenario parameters (names of the registry) and the
  likelihood's ``overdispersion`` (not a model parameter: it only enters the survey's sampling).

Everything that uses the calibration (the report, validation, the app) reads it through
:func:`load_posterior`, and draws from it with :meth:`Posterior.draws` so that a draw is a
dict of scenario parameters, ready to pass as overrides.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .io import InputError
from .scenario import BY_NAME

#: Columns of a posterior file that are not free parameters.
META = ("model", "weight")
#: Free parameters of the likelihood (not of the model): they shape the survey's sampling only.
LIKELIHOOD = ("design_effect", "overdispersion")  # overdispersion: files of the previous error model


@dataclass(frozen=True)
class Posterior:
    """Weighted particles of one model: ``values[i, j]`` is particle i's value of ``names[j]``."""

    path: str
    model: str
    names: tuple[str, ...]
    values: np.ndarray
    weights: np.ndarray

    @property
    def parameters(self) -> tuple[str, ...]:
        """The free parameters that are scenario parameters (not the likelihood's)."""
        return tuple(n for n in self.names if n not in LIKELIHOOD)

    def row(self, i: int, likelihood: bool = False) -> dict[str, float]:
        """Particle ``i`` as a dict of scenario parameters (with the likelihood's if asked)."""
        keep = self.names if likelihood else self.parameters
        return {n: float(self.values[i, self.names.index(n)]) for n in keep}

    def draws(self, n: int, rng: np.random.Generator | int, likelihood: bool = False) -> list[dict[str, float]]:
        """``n`` particles drawn with replacement in proportion to their weights (a seed or a Generator)."""
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        picks = rng.choice(len(self.weights), size=int(n), p=self.weights)
        return [self.row(int(i), likelihood) for i in picks]

    def quantile(self, name: str, q) -> np.ndarray:
        """Weighted quantiles of one parameter (midpoint rule on the weighted CDF)."""
        v = self.values[:, self.names.index(name)]
        order = np.argsort(v)
        w = self.weights[order]
        cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
        return np.interp(q, cdf, v[order])

    def median(self, likelihood: bool = False) -> dict[str, float]:
        """The marginal posterior medians, as scenario parameters."""
        keep = self.names if likelihood else self.parameters
        return {n: float(self.quantile(n, 0.5)) for n in keep}

    def ess(self) -> float:
        """Kish's effective sample size of the weights."""
        return float(1.0 / np.sum(self.weights**2))


def load_posterior(path: str | Path, model: str = "fitted") -> Posterior:
    """Read the particles of ``model`` from a posterior file.

    Raises:
        InputError: a missing or malformed file, an unknown column, a value out of its
            parameter's range, or no particle of ``model`` (one line naming file and key).
    """
    path = Path(path)
    origin = str(path)
    if not path.is_file():
        raise InputError(f"{origin}: posterior file not found (written by `statebiz calibrate`)")
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise InputError(f"{origin}: cannot read the posterior file ({err})") from None
    if not rows or rows[0][:2] != list(META):
        raise InputError(f"{origin}: the header must start with 'model,weight' followed by free parameters")
    names = tuple(rows[0][2:])
    for n in names:
        if n not in BY_NAME and n not in LIKELIHOOD:
            raise InputError(f"{origin}: unknown column '{n}'; expected scenario parameters or {', '.join(LIKELIHOOD)}")
    if len(set(names)) != len(names) or not names:
        raise InputError(f"{origin}: the columns after 'model,weight' must be distinct free parameters")
    values, weights, models = [], [], set()
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(rows[0]):
            raise InputError(f"{origin}: line {line} has {len(row)} fields; expected {len(rows[0])}")
        models.add(row[0])
        if row[0] != model:
            continue
        try:
            nums = [float(x) for x in row[1:]]
        except ValueError:
            raise InputError(f"{origin}: line {line} has a value that is not a number") from None
        if not all(math.isfinite(x) for x in nums) or nums[0] < 0:
            raise InputError(f"{origin}: line {line}: 'weight' and every value must be finite, weight >= 0")
        for n, x in zip(names, nums[1:]):
            if n in BY_NAME and not BY_NAME[n].low <= x <= BY_NAME[n].high:
                raise InputError(
                    f"{origin}: line {line}: '{n}' = {x:g} is not allowed; expected a number in "
                    f"[{BY_NAME[n].low:g}, {BY_NAME[n].high:g}]"
                )
        weights.append(nums[0])
        values.append(nums[1:])
    total = float(np.sum(weights)) if weights else 0.0
    if not values or total <= 0:
        raise InputError(
            f"{origin}: no particle of model '{model}' with positive weight; models in the file: "
            f"{', '.join(sorted(models)) or 'none'}"
        )
    return Posterior(origin, model, names, np.asarray(values, dtype=float), np.asarray(weights) / total)


def write_posterior_rows(models: dict[str, tuple[list[str], np.ndarray, np.ndarray]]) -> str:
    """The text of a posterior file from ``model -> (names, values, weights)`` (same names for all)."""
    names = next(iter(models.values()))[0]
    lines = [",".join(META + tuple(names))]
    for model, (cols, values, weights) in models.items():
        if list(cols) != list(names):
            raise ValueError("every model of a posterior file must have the same free parameters")
        for w, row in zip(weights, values):
            lines.append(",".join([model, repr(float(w))] + [repr(float(x)) for x in row]))
    return "\n".join(lines) + "\n"
