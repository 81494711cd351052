"""Warm starts (simulation/snapshots.py): the stationary state from a warm start equals the cold
start's, and snapshot files are handled safely (atomic, never replaced, one-line errors).

The equivalence test (TOST: two one-sided Yuen-Welch t-tests on the 10% trimmed means at 5%
each, i.e. the 90% interval of the difference within the margin) compares, over ``SEEDS`` seeds
per arm, every statistic the calibration and the report read at the stationary state: the
survey's statistics (Tables 5-9, totals and cohort rows: calibration.likelihood.statistics_from_shares),
the end-of-run outcomes (corruption incidence, corrupt share, business and population
satisfaction, the six KPIs, PPP counts, support and the insiders' share of it, regime shares,
HHI, informality, power...: records.outcomes) and the symbiosis index, 162 statistics, of the
calibrated Turkestan scenario at a small size, after the full burn-in (cold) or a warm start
with the default re-burn (warm, one pool member per seed). Trimmed means, because a run now and
then falls into a runaway state (a regional budget 100 times the usual, 190 captors: about one
run in 60 to 100 at this size), which sets a plain mean alone.

Margins: MARGIN = 1.5 standard deviations (10% winsorized) of the statistic across cold seeds,
the spread a single run's result already carries (Turkestan's runs differ much between seeds:
business satisfaction 0.34 +- 0.13 at 1,000 firms). A statistic constant across cold seeds must
not be off that value significantly more often in warm runs (and the same for a rare event,
where over 80% of the cold runs share one value, e.g. no captor at the end: one-sided Fisher
exact test at 1%; the capture statistics are such, with a captor in 4 of 80 cold runs: a warm
rate fails from 15 of 80, so for these rare events the test has little power).

Power, from a measured run of this test (n = 80 per arm; tools and figures in docs/ODD.md 5):
the margins are at least 5.0 standard errors of the difference (median 7.3; the budget, with its
runaway tail, has the smallest), and a statistic passes while its estimated difference is
within the margin less 1.67 standard errors. With no true difference the 162 statistics all
pass with probability 0.998 (the product of their pass probabilities, normal approximation). A
statistic whose true difference equals the margin fails with probability 0.95 or more, one of
twice the margin with probability above 0.999. The check fails on a deliberate change (warm
runs at s = 0.33 started from snapshots of the symbiotic arm, s = 1): docs/ODD.md 5; that
change is not part of the suite.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from simulation import snapshots
from simulation.calibration.likelihood import statistics_from_shares
from simulation.io import InputError
from simulation.model import StateBusinessModel
from simulation.observe.survey import simulate_survey
from simulation.scenario import load_scenario
from simulation.studies.warm import SCENARIO

SEEDS = 80
MARGIN = 1.5
TRIM = 0.1
RARE_ALPHA = 0.01
SIZE = {"firms": 500, "residents_per_region": 300, "steps": 4}


def statistics(model: StateBusinessModel) -> dict[str, float]:
    """Every statistic of the stationary state the calibration and the report read, flat."""
    model.run()
    out = {f"outcome:{k}": v for k, v in model.outcomes().items()}
    for table, values in statistics_from_shares(simulate_survey(model).population_shares).items():
        out |= {f"survey:{table}[{i}]": float(v) for i, v in enumerate(np.asarray(values).ravel())}
    out["symbiosis"] = float(model.world.akimats.symbiosis.mean())
    return out


def trimmed(x: np.ndarray) -> tuple[float, float, int]:
    """The 10% trimmed mean, the squared standard error of it (Yuen 1974: from the 10% winsorized
    variance) and the number of values kept."""
    x = np.sort(x)
    n = len(x)
    g = int(TRIM * n)
    kept = n - 2 * g
    wins = np.clip(x, x[g], x[n - 1 - g])
    return float(x[g : n - g].mean()), float((n - 1) * wins.var(ddof=1) / (kept * (kept - 1))), kept


def winsorized_sd(x: np.ndarray) -> float:
    """The standard deviation of ``x`` with its 10% at each end set to the nearest value kept."""
    x = np.sort(x)
    g = int(TRIM * len(x))
    return float(np.clip(x, x[g], x[len(x) - 1 - g]).std(ddof=1))


def tost(warm: np.ndarray, cold: np.ndarray, margin: float) -> tuple[bool, float, float]:
    """Two one-sided Yuen-Welch t-tests on the 10% trimmed means at 5% each: (equivalent within
    ``margin``, low and high end of the 90% interval of the difference)."""
    (mw, dw, hw), (mc, dc, hc) = trimmed(warm), trimmed(cold)
    se = np.sqrt(dw + dc)
    df = (dw + dc) ** 2 / (dw**2 / (hw - 1) + dc**2 / (hc - 1)) if se > 0 else hw - 1
    half = stats.t.ppf(0.95, df) * se
    diff = mw - mc
    return bool(-margin < diff - half and diff + half < margin), float(diff - half), float(diff + half)


def equivalence(params: dict, seeds: int = SEEDS) -> list[str]:
    """The statistics whose warm and cold runs are not equivalent (TOST, see the module docstring)."""
    cold = [statistics(StateBusinessModel(rng=s, **params)) for s in range(seeds)]
    warm_params = params | {"start": "warm", "warm_pool": max(seeds, params["warm_pool"])}
    snapshots.ensure_pool(warm_params, range(seeds))
    warm = [statistics(StateBusinessModel(rng=s, **warm_params)) for s in range(seeds)]
    return compare(warm, cold)


def compare(warm: list[dict[str, float]], cold: list[dict[str, float]]) -> list[str]:
    """The statistics of the runs ``warm`` not equivalent to those of the runs ``cold``."""
    failures = []
    for name in cold[0]:
        c = np.array([r[name] for r in cold], dtype=float)
        w = np.array([r[name] for r in warm], dtype=float)
        if np.isnan(c).any() or np.isnan(w).any():
            if not (np.isnan(c).all() and np.isnan(w).all()):
                failures.append(f"{name}: undefined in some runs only")
            continue
        sd = winsorized_sd(c)
        if sd == 0:  # a rare event: over 80% of the cold runs at one value (no captor at all, say)
            mode = float(stats.mode(c).mode)
            off = [int((w != mode).sum()), int((c != mode).sum())]
            p = stats.fisher_exact([[off[0], len(w) - off[0]], [off[1], len(c) - off[1]]], alternative="greater")
            if p.pvalue < RARE_ALPHA:
                failures.append(f"{name}: off {mode:g} in {off[0]} warm runs, {off[1]} cold (p = {p.pvalue:.3g})")
            continue
        ok, low, high = tost(w, c, MARGIN * sd)
        if not ok:
            failures.append(f"{name}: 90% interval of warm - cold [{low:.4g}, {high:.4g}], margin {MARGIN * sd:.4g}")
    return failures


@pytest.fixture
def snapshot_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(snapshots.ENV_DIR, str(tmp_path / "snapshots"))
    return tmp_path / "snapshots"


def test_the_stationary_state_from_a_warm_start_equals_the_cold_starts(snapshot_dir):
    params = dict(load_scenario(SCENARIO, **SIZE).params)
    failures = equivalence(params)
    assert not failures, "\n".join(failures)


TINY = {"regions": "turkestan", "firms": 60, "residents_per_region": 198, "burn_in": 6, "steps": 2, "warm_burn_in": 2}


def test_a_warm_run_draws_from_its_own_seed_and_records_its_snapshot(snapshot_dir):
    p = TINY | {"start": "warm", "warm_pool": 2}
    a, b, c = (StateBusinessModel(rng=s, **p).run() for s in (0, 2, 1))
    # seeds 0 and 2 start from the same member (0 mod 2) but differ: the draws are the run's
    assert a.start_record["snapshot"] == b.start_record["snapshot"] != c.start_record["snapshot"]
    assert a.start_record["sha256"] == snapshots.file_sha256(snapshots.path_for(a.params, 0))
    assert not np.array_equal(a.firms.capital, b.firms.capital)
    again = StateBusinessModel(rng=0, **p).run()
    assert np.array_equal(again.firms.capital, a.firms.capital) and again.outcomes() == a.outcomes()
    header = snapshots.read_header(snapshots.path_for(a.params, 0))
    assert header["seed"] == snapshots.build_seed(header["key"], 0) != a.seed
    assert header["provenance"]["git_commit"] and header["burn_in"] == TINY["burn_in"]
    # the snapshot is taken warm_burn_in quarters before the end of the burn-in: a warm run reports
    # from the same quarter as a cold one
    assert header["quarter"] == TINY["burn_in"] - TINY["warm_burn_in"]
    assert a.world.quarter == TINY["burn_in"] + TINY["steps"] == StateBusinessModel(rng=0, **TINY).run().world.quarter
    cold = StateBusinessModel(rng=0, **TINY)
    assert cold.start_record == {"start": "cold", "burn_in": TINY["burn_in"]}


def test_a_stored_world_continues_as_the_world_it_was_to_the_bit():
    """What a snapshot stores is the whole state: a run whose world (with its streams) goes through
    the snapshot's payload before every quarter goes on exactly as the run that kept it."""
    p = TINY | {"burn_in": 20, "steps": 16, "firms": 400}
    kept = StateBusinessModel(rng=3, **p).run()
    stored = StateBusinessModel(rng=3, **p)
    while stored.running:
        stored.world = stored.recorder.world = snapshots.loads(snapshots.dumps(stored.world))
        stored.step()
    assert kept.outcomes() == stored.outcomes()
    assert kept.region_table().equals(stored.region_table())
    assert np.array_equal(kept.world.projects.status, stored.world.projects.status)


def test_a_re_burn_longer_than_the_burn_in_starts_from_quarter_0_and_reports_from_the_burn_in(snapshot_dir):
    p = TINY | {"start": "warm", "warm_burn_in": 50}
    model = StateBusinessModel(rng=0, **p).run()
    assert snapshots.read_header(snapshots.path_for(model.params, 0))["quarter"] == 0
    assert model.world.quarter == TINY["burn_in"] + TINY["steps"]


def test_a_snapshot_is_never_replaced_unless_asked_and_written_whole(snapshot_dir):
    p = dict(StateBusinessModel(rng=0, **TINY).params) | {"start": "warm"}
    path = snapshots.ensure(p, 0)
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        snapshots.build(p, 0)
    assert path.read_bytes() == before
    first = snapshots._read(path)[1]
    snapshots.build(p, 0, overwrite=True)
    again = snapshots._read(path)[1]  # the same world again: a snapshot depends on its key and member alone
    assert np.array_equal(first.firms.capital, again.firms.capital) and first.quarter == again.quarter
    assert [f.name for f in snapshot_dir.iterdir() if f.name.endswith(".tmp")] == []


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda b: b"not a snapshot", "first line"),
        (lambda b: b[: len(b) // 2], "SHA-256"),
        (lambda b: b.replace(b'"key": "', b'"key": "0', 1), "made for key"),
    ],
)
def test_a_malformed_snapshot_is_a_one_line_error_naming_the_file(snapshot_dir, damage, message):
    p = TINY | {"start": "warm"}
    path = snapshots.ensure(dict(StateBusinessModel(rng=0, **TINY).params) | {"start": "warm"}, 0)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(InputError) as err:
        StateBusinessModel(rng=0, **p)
    text = str(err.value)
    assert str(path) in text and message in text and "\n" not in text


def test_the_command_line_exits_with_2_on_a_malformed_snapshot(snapshot_dir, tmp_path):
    p = dict(StateBusinessModel(rng=0, **TINY).params) | {"start": "warm"}
    path = snapshots.ensure(p, 0)
    path.write_bytes(b"garbage")
    scenario = tmp_path / "warm.toml"
    scenario.write_text(
        'name = "warm"\n[run]\nsteps = 2\nburn_in = 6\nstart = "warm"\nwarm_burn_in = 2\n'
        '[world]\nregions = "turkestan"\nfirms = 60\nresidents_per_region = 198\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "simulation", "run", str(scenario), "--seed", "0", "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, snapshots.ENV_DIR: str(snapshot_dir)},
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0]
