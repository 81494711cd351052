"""Shared helpers for the statebiz tests: small model sizes, cached runs, scenario files.

Every model run in the suite is small (a few thousand firms, a few quarters) so that the
whole suite runs in well under five minutes on two cores. Runs that several tests only
read are cached per session by ``run_cached``; tests that check reproducibility build
their models afresh.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

import simulation  # noqa: F401 - first: applies the portable mode (STATEBIZ_PORTABLE=1) before numpy is imported

REPO_ROOT = Path(__file__).resolve().parents[1]
SCENARIO_DIR = REPO_ROOT / "scenarios"

#: A small single-region run (Turkestan): fast, but with enough firms for stable shares.
SMALL = {"firms": 2000, "residents_per_region": 300, "burn_in": 8, "steps": 12}


@functools.cache
def _run(seed: int, items: tuple):
    from simulation.model import StateBusinessModel

    model = StateBusinessModel(rng=seed, **dict(items))
    model.run()
    return model


def run_cached(seed: int, **params):
    """A finished model for (seed, params), shared across tests. Treat it as read-only."""
    return _run(seed, tuple(sorted(params.items())))


def outcomes_cached(seed: int, **params) -> dict[str, float]:
    return run_cached(seed, **params).outcomes()


SMALL_SCENARIO_TOML = """\
name = "tiny"
description = "a small Turkestan run for the tests"
governance = "partnership"

[run]
steps = 6
burn_in = 3

[world]
regions = "turkestan"
firms = 800
residents_per_region = 200
"""


@pytest.fixture
def write_scenario(tmp_path):
    """Write a scenario file into tmp_path: ``write_scenario(text_or_bytes, name="s.toml") -> Path``."""

    def write(content: str | bytes, name: str = "scenario.toml") -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write


@pytest.fixture
def small_scenario(write_scenario) -> Path:
    """A valid, small scenario file (800 firms, 3 + 6 quarters)."""
    return write_scenario(SMALL_SCENARIO_TOML, "tiny.toml")


def pytest_report_header(config):
    """How the regression baseline is compared on this machine (bit for bit, or within tolerance)."""
    import regression

    return regression.mode_line()


def pytest_terminal_summary(terminalreporter):
    """The same line at the end of the run (``-q`` hides the header)."""
    import regression

    terminalreporter.write_line(regression.mode_line())
