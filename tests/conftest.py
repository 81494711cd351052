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


#: Test files that run the whole model or a ``statebiz`` command (seconds a test): every test in
#: them is marked ``runs_model``, so that ``make test-fast`` (``-m "not runs_model"``) leaves them
#: out. A new file that does so belongs here (or its tests carry the marker themselves).
MODEL_FILES = frozenset(
    {
        "test_app_browser",
        "test_app_model",
        "test_app_safety",
        "test_add_models",
        "test_burn_in_tools",
        "test_equivalence",
        "test_bad_inputs",
        "test_calibration",
        "test_determinism",
        "test_dynamics",
        "test_effects",
        "test_evaluator",
        "test_experiments",
        "test_fast_path",
        "test_identification_run",
        "test_firm_sizes",
        "test_invariants",
        "test_kernels",
        "test_ppp_delivery",
        "test_ppp_terms",
        "test_regression",
        "test_reliability",
        "test_reliability2",
        "test_rents",
        "test_report",
        "test_report_posterior",
        "test_scenarios",
        "test_speed_money",
        "test_table1",
        "test_thin_agents",
        "test_validation",
        "test_warm_start",
    }
)
#: Single tests of the other files that run the model or a command (file::test, without parameters).
MODEL_TESTS = frozenset(
    {
        "test_discovery.py::test_discovery_recovers_the_planted_box",
        "test_discovery.py::test_ema_adapter_runs_a_small_sample",
        "test_discovery.py::test_discover_cli_exit_codes",
        "test_discovery.py::test_regret_and_target_shares",
        "test_networks.py::test_small_world_statistics_match_networkx",
        "test_akim_choice.py::test_with_the_choice_off_s_is_a_setting",
        "test_akim_choice.py::test_akims_choose_symbiosis_where_it_pays_and_leave_it_where_it_costs",
        "test_survey_mechanisms.py::test_the_youth_window_gives_owners_under_30_a_second_chance",
        "test_survey_mechanisms.py::test_model_young_owners_run_young_firms_and_the_youth_window_funds_them",
        "test_machine.py::test_the_portable_flag_reruns_the_command_in_portable_mode",
        "test_machine.py::test_a_portable_run_equals_a_run_on_an_x86_64_v3_cpu_to_the_bit",
        "test_machine.py::test_portable_mode_caps_numpy_at_v3_and_numba_at_a_generic_cpu",
        "test_sensitivity.py::test_the_sensitivity_command_at_a_small_size",
        "test_sensitivity.py::test_a_sensitivity_run_surveys_as_the_fit_does_and_adds_the_headline_outcomes",
        "test_sbc.py::test_the_sbc_command_at_a_smoke_test_size",
        "test_transient.py::test_the_check_reads_the_fits_own_survey_and_follows_the_seed",
        "test_transient.py::test_the_command_writes_the_table_with_its_provenance",
        "test_submodels.py::test_with_the_lapse_the_fund_stays_within_a_years_ppp_line_and_without_it_grows",
    }
)


def pytest_collection_modifyitems(config, items):
    """Mark the tests of :data:`MODEL_FILES` and :data:`MODEL_TESTS` ``runs_model`` (the slow lane)."""
    for item in items:
        path = item.path
        if path.stem in MODEL_FILES or f"{path.name}::{getattr(item, 'originalname', item.name)}" in MODEL_TESTS:
            item.add_marker(pytest.mark.runs_model)


def pytest_report_header(config):
    """How the regression baseline is compared on this machine (bit for bit, or within tolerance)."""
    import regression

    return regression.mode_line()


def pytest_terminal_summary(terminalreporter):
    """The same line at the end of the run (``-q`` hides the header)."""
    import regression

    terminalreporter.write_line(regression.mode_line())
