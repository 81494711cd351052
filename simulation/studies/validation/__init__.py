"""Validation out of sample: the calibrated model against published Kazakhstan figures it was not fitted to.

Nothing here is fitted. The calibration (``statebiz calibrate``) sees only the paper's Turkestan
survey (Tables 5-9); its posterior is drawn from here, the model is run, and the runs are asked
the questions of other sources (``simulation/data/validation.toml``, every number with its page):

1. **Turkestan** (``scenarios/turkestan.toml`` at the posterior's parameters, the calibration's
   sizes): the Enterprise Surveys instrument (``simulation/observe/enterprise_survey.py``, bribery
   incidence) and the other quantities the published figures ask for (the share of firms that
   met a bribe demand in their dealings with officials, the share that paid one, who initiates).
2. **National** (``scenarios/kazakhstan.toml``: the 20 akimats): the Turkestan calibration's free
   parameters applied to every region, so that regions differ only by their official data
   (population, GRP, mining share, subventions, neighbours; ``power_spread`` is set to 0 so that
   no random draw of akimat power tells them apart). The symbiosis index s is one scenario
   parameter set on every akimat at the start (``initialisation._akimats``), so the posterior's s
   applies to all 20 regions alike. Per region: corruption incidence and business satisfaction
   (means over the last 4 reported quarters), their ranks, and the Spearman correlation of the
   simulated corruption ranking with the independent regional rankings of the data file.

Uncertainty: every simulated interval is over posterior draws x seeds (each draw runs on its own
seeds, all derived from one root seed); a published figure's own sampling error is added where
its sample size is known (binomial, no design effect: an approximation, labelled so), and the
difference between the two carries both (Monte Carlo). Every run goes through
``simulation.runs.evaluator`` (serial, processes, Dask, MPI), so every backend gives the same
numbers.

The package: ``data`` (the published figures and rankings), ``runs`` (design, parameter draws,
evaluator tasks), ``stats`` (the comparisons), ``output`` (summary, figures, manifest, reading a
result back); :class:`Validation` is the study ``statebiz validate`` runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, override

import pandas as pd

from ..base import Runs, Study
from .data import (
    LEVEL,
    QUANTITIES,
    REGIONAL,
    PublishedFigure,
    Ranking,
    ValidationData,
    load_validation_data,
)
from .output import format_summary, manifest, plot_figures, plot_ranking, read_result
from .runs import (
    QUICK,
    ParameterSource,
    ValidationDesign,
    ValidationRunError,
    ValidationRuns,
    collect,
    from_posterior,
    national_run,
    plan,
    run_quantities,
    run_validation,
    scenario_params,
    turkestan_run,
    uncalibrated,
    with_settings,
)
from .stats import (
    ValidationResult,
    compare_figures,
    quantity_summary,
    ranking_correlations,
    region_summary,
    spearman,
    validate,
)

__all__ = [
    "LEVEL",
    "QUANTITIES",
    "QUICK",
    "REGIONAL",
    "ParameterSource",
    "PublishedFigure",
    "Ranking",
    "Validation",
    "ValidationData",
    "ValidationDesign",
    "ValidationResult",
    "ValidationRunError",
    "ValidationRuns",
    "collect",
    "compare_figures",
    "format_summary",
    "from_posterior",
    "load_validation_data",
    "manifest",
    "national_run",
    "plan",
    "plot_figures",
    "plot_ranking",
    "quantity_summary",
    "ranking_correlations",
    "read_result",
    "region_summary",
    "run_quantities",
    "run_validation",
    "scenario_params",
    "spearman",
    "turkestan_run",
    "uncalibrated",
    "validate",
    "with_settings",
]


class Validation(Study):
    """``statebiz validate``: the model at its parameter draws (``source``) against the published
    figures (``data``) it was not fitted to. Set ``source`` once the design is known."""

    name = "validation"

    def __init__(self, data: ValidationData | None = None, source: ParameterSource | None = None):
        self.data, self.source, self.result = data, source, None

    @override
    def default(self) -> ValidationDesign:
        return ValidationDesign()

    @override
    def quick(self) -> ValidationDesign:
        return QUICK

    @override
    def size(self, design: ValidationDesign) -> int:
        return design.runs()

    @override
    def compute(self, design: ValidationDesign, runs: Runs) -> dict[str, pd.DataFrame]:
        self.result = validate(design, self.source, self.data, runs=runs)
        return self.result.tables()

    @override
    def summary(self, design: ValidationDesign, tables: dict[str, pd.DataFrame], wall: float) -> str:
        return format_summary(self.result)

    @override
    def manifest(self, design: ValidationDesign, tables: dict[str, pd.DataFrame], wall: float) -> dict[str, Any]:
        return manifest(self.result)

    @override
    def draw(self, design: ValidationDesign, tables: dict[str, pd.DataFrame], tmp: Path) -> None:
        plot_ranking(self.result, tmp / "ranking.png")
        plot_figures(self.result, tmp / "figures.png")
