"""Experiments: experiment files, designs, paired seeds, the results store, resume after a
kill, failing runs, backends (serial = processes = Dask) and the analysis.

Every sweep here is tiny (800 firms, a few quarters, ~0.03-0.1 s a run)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import REPO_ROOT

from simulation.cli import main
from simulation.io import model_version
from simulation.runs import load_experiment, read_results, run_sweep
from simulation.runs.design import design_points
from simulation.runs.evaluator import run_one
from simulation.runs.seeds import replication_seeds
from simulation.runs.store import ResultStore, run_key
from simulation.scenario import ScenarioError

SCENARIO = (REPO_ROOT / "scenarios" / "turkestan.toml").as_posix()

TINY = f"""\
name = "tiny"
description = "a tiny sweep for the tests"
scenario = "{SCENARIO}"
replications = 2
seed = 7
quarters = 4
outcomes = ["regime_*", "corruption_incidence", "business_satisfied", "real_wages"]

[base]
firms = 800
residents_per_region = 200
burn_in = 2

[design]
type = "factorial"

[levers]
governance = ["partnership", "symbiotic"]
audit_rate = {{ low = 0.0, high = 0.2, levels = 3 }}
"""

#: Bookkeeping column that legitimately differs between runs of the same experiment.
TIMING = ["elapsed_s"]


def write(tmp_path: Path, text: str, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def results_equal(a: Path, b: Path) -> None:
    ta, tb = read_results(a).drop(columns=TIMING), read_results(b).drop(columns=TIMING)
    assert len(ta) == len(tb)
    pd.testing.assert_frame_equal(ta, tb)


def raw_keys(directory: Path) -> list[str]:
    return [
        k for p in ResultStore(directory).parts() for k in pq.read_table(p, columns=["run_key"]).column(0).to_pylist()
    ]


# -- experiment files ---------------------------------------------------------------------------------
HEAD = f'name = "bad"\nscenario = "{SCENARIO}"\nseed = 1\n'

#: (id, file content, the key the message must name, text the message must also contain)
BAD = [
    ("unknown-top-key", HEAD + "replicatons = 3\n", "replicatons", "'replications'"),
    ("no-scenario", 'name = "x"\nseed = 1\n', "scenario", "missing"),
    ("scenario-not-found", 'scenario = "nowhere.toml"\nseed = 1\n', "scenario", "not found"),
    ("no-seed", f'scenario = "{SCENARIO}"\n', "seed", "non-negative integer"),
    ("negative-seed", f'scenario = "{SCENARIO}"\nseed = -1\n', "seed", "integer in [0,"),
    ("zero-replications", HEAD + "replications = 0\n", "replications", "integer in [1,"),
    ("quarters-string", HEAD + 'quarters = "ten"\n', "quarters", "integer"),
    ("unknown-lever", HEAD + "[levers]\naudit_rat = [0.1]\n", "audit_rat", "'audit_rate'"),
    ("lever-out-of-range", HEAD + "[levers]\naudit_rate = [0.1, 1.5]\n", "audit_rate", "[0.0, 1.0]"),
    ("lever-wrong-type", HEAD + '[levers]\naudit_rate = ["high"]\n', "audit_rate", "number"),
    (
        "range-beyond-declared",
        HEAD + '[design]\ntype = "lhs"\n[levers]\naudit_rate = { low = 0.0, high = 2.0 }\n',
        "audit_rate.high",
        "[0.0, 1.0]",
    ),
    (
        "range-low-above-high",
        HEAD + '[design]\ntype = "lhs"\n[levers]\naudit_rate = { low = 0.5, high = 0.1 }\n',
        "audit_rate",
        "low < high",
    ),
    ("range-without-levels", HEAD + "[levers]\naudit_rate = { low = 0.0, high = 0.5 }\n", "audit_rate", "levels"),
    (
        "categorical-in-lhs",
        HEAD + '[design]\ntype = "lhs"\n[levers]\ngovernance = ["partnership", "symbiotic"]\n',
        "governance",
        "factorial",
    ),
    ("categorical-as-range", HEAD + "[levers]\ngovernance = { low = 0, high = 1 }\n", "governance", "categorical"),
    ("bad-governance", HEAD + '[levers]\ngovernance = ["partnership", "authoritarian"]\n', "governance", "symbiotic"),
    ("odd-firm-ties", HEAD + "[uncertainties]\nfirm_ties = [4, 5]\n", "firm_ties", "even"),
    (
        "budget-over-one",
        HEAD + "[base]\nppp_share = 0.5\n[levers]\nsupport_share = [0.1, 0.5]\n",
        "support_share",
        "at most 1",
    ),
    ("steps-as-factor", HEAD + "[levers]\nsteps = [4, 8]\n", "steps", "quarters"),
    ("twice", HEAD + "[levers]\naudit_rate = [0.1]\n[uncertainties]\naudit_rate = [0.2]\n", "audit_rate", "one place"),
    ("bad-design", HEAD + '[design]\ntype = "montecarlo"\n', "design.type", "'morris'"),
    ("design-key", HEAD + '[design]\ntype = "lhs"\ntrajectories = 4\n', "design.trajectories", "samples"),
    (
        "sobol-not-pow2",
        HEAD + '[design]\ntype = "sobol"\nsamples = 6\n[levers]\naudit_rate = { low = 0.0, high = 0.2 }\n'
        "transparency = { low = 0.0, high = 1.0 }\n",
        "design.samples",
        "power of 2",
    ),
    (
        "morris-odd-levels",
        HEAD + '[design]\ntype = "morris"\nlevels = 3\n[levers]\naudit_rate = { low = 0.0, high = 0.2 }\n',
        "design.levels",
        "even",
    ),
    ("unknown-outcome", HEAD + 'outcomes = ["regime_partnershp"]\n', "regime_partnershp", "regime_partnership"),
    ("outcomes-not-list", HEAD + 'outcomes = "hhi"\n', "outcomes", "list"),
    ("unknown-base-param", HEAD + "[base]\nfirmz = 10\n", "base.firmz", "'firms'"),
    ("bad-base-value", HEAD + "[base]\nfirms = 5\n", "firms", "10"),
]


@pytest.mark.parametrize("content,key,also", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_experiment_file_is_refused_with_one_line(tmp_path, capsys, content, key, also):
    path = write(tmp_path, content)
    out_dir = tmp_path / "out"
    code = main(["sweep", str(path), "--backend", "serial", "--out", str(out_dir), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("statebiz: error: ")
    assert "Traceback" not in err
    assert str(path) in lines[0] or "nowhere.toml" in lines[0]
    assert key in lines[0] and also in lines[0], lines[0]
    assert not out_dir.exists()


def test_broken_experiment_files(tmp_path, capsys):
    for content in ("name = \n", b"\xff\xfe\x00"):
        path = tmp_path / "broken.toml"
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        assert main(["sweep", str(path), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and str(path) in err
    assert main(["sweep", str(tmp_path / "missing.toml")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["analyze", str(tmp_path / "nothing")]) == 2
    assert "no such results directory" in capsys.readouterr().err


def test_shipped_experiments_are_valid():
    regime = load_experiment(REPO_ROOT / "experiments" / "regime_map.toml")
    assert regime.design_type == "factorial"
    assert len(design_points(regime)) == 4 * 5 * 2
    assert {f.name for f in regime.factors} == {"power_strength", "business_strength", "governance"}
    assert all(f"regime_{r}" in regime.outcomes for r in ("suppression", "capture", "partnership"))
    morris = load_experiment(REPO_ROOT / "experiments" / "levers_morris.toml")
    assert morris.design_type == "morris"
    assert {f.name for f in morris.factors} == {
        "transparency",
        "audit_rate",
        "audit_penalty",
        "support_share",
        "tax_benefit",
        "ppp_training",
        "legal_quality",
        "consultation",
        "lifecycle_contracts",
    }
    assert len(design_points(morris)) == 10 * (9 + 1)


# -- designs and seeds ----------------------------------------------------------------------------------
SAMPLING = (
    HEAD
    + """\
replications = 2
[levers]
audit_rate = {{ low = 0.0, high = 0.2 }}
transparency = {{ low = 0.0, high = 1.0 }}
[uncertainties]
exit_losses = {{ low = 2, high = 8 }}
[design]
{design}
"""
)


@pytest.mark.parametrize(
    "design,count",
    [
        ('type = "lhs"\nsamples = 12', 12),
        ('type = "sobol"\nsamples = 8', 8 * (3 + 2)),
        ('type = "sobol"\nsamples = 8\nsecond_order = true', 8 * (2 * 3 + 2)),
        ('type = "morris"\ntrajectories = 3\nlevels = 4', 3 * (3 + 1)),
    ],
)
def test_sampling_designs(tmp_path, design, count):
    text = SAMPLING.format(design=design)
    spec = load_experiment(write(tmp_path, text))
    points = design_points(spec)
    assert len(points) == count
    # the order of the tables does not matter: [design] before the factor tables, the same points
    head, design_table = text.split("[design]\n")
    moved = head.replace("[levers]", "[design]\n" + design_table + "[levers]", 1)
    assert moved.index("[design]") < moved.index("[levers]")
    assert design_points(load_experiment(write(tmp_path, moved))) == points
    for p in points:
        assert 0.0 <= p["audit_rate"] <= 0.2 and 0.0 <= p["transparency"] <= 1.0
        assert isinstance(p["exit_losses"], int) and 2 <= p["exit_losses"] <= 8
    # same root seed -> same design; another root seed -> another design (the sampler is seeded)
    assert design_points(load_experiment(write(tmp_path, text, "again.toml"))) == points
    if "lhs" in design or "sobol" in design:
        other = design_points(load_experiment(write(tmp_path, text.replace("seed = 1", "seed = 2"), "other.toml")))
        assert other != points


def test_odd_integer_values_from_a_sampler_are_refused(tmp_path):
    """firm_ties must be even: a sampled odd value is caught when the design is built."""
    text = HEAD + '[design]\ntype = "lhs"\nsamples = 20\n[uncertainties]\nfirm_ties = { low = 4, high = 10 }\n'
    with pytest.raises(ScenarioError, match="design point .*firm_ties.*even"):
        load_experiment(write(tmp_path, text))


def test_replication_seeds_are_stable_and_independent_of_the_count():
    assert replication_seeds(7, 5)[:3] == replication_seeds(7, 3)
    assert len(set(replication_seeds(7, 50))) == 50
    assert replication_seeds(7, 3) != replication_seeds(8, 3)
    assert all(0 <= s < 2**63 for s in replication_seeds(123, 10))


def test_run_key_depends_on_model_parameters_and_seed():
    v = model_version()
    p = {"a": 1, "b": 0.5}
    assert run_key(v, p, 1) == run_key(v, dict(reversed(p.items())), 1)
    assert run_key(v, p, 1) != run_key(v, p, 2)
    assert run_key(v, p, 1) != run_key(v, {"a": 1, "b": 0.6}, 1)
    assert run_key(v, p, 1) != run_key(v + "x", p, 1)


# -- sweeps: store, manifest, common random numbers -----------------------------------------------
def test_sweep_store_manifest_and_common_random_numbers(tmp_path):
    spec = load_experiment(write(tmp_path, TINY))
    report = run_sweep(spec, tmp_path / "r", backend="serial", progress=False, batch_size=5)
    assert report.ok and report.total == report.ran == 12
    table = read_results(tmp_path / "r")
    assert len(table) == 12 and table["run_key"].is_unique and table["error"].isna().all()
    assert list(zip(table["point"], table["replication"])) == [(i, r) for i in range(6) for r in range(2)]
    seeds = replication_seeds(7, 2)
    # replication r has the same seed at every design point (paired comparisons)
    assert (table["seed"] == table["replication"].map(dict(enumerate(seeds)))).all()
    assert len(ResultStore(tmp_path / "r").parts()) == 3  # batches of 5, 5, 2
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["experiment"]["text"] == TINY
    assert manifest["root_seed"] == 7 and manifest["replication_seeds"] == seeds
    assert manifest["runs_total"] == manifest["runs_done"] == 12 and manifest["runs_failed"] == 0
    assert manifest["status"] == "complete"
    for key in ("git_commit", "package_versions", "host", "wall_time_seconds", "model_version", "runs_skipped"):
        assert key in manifest
    assert manifest["package_versions"]["salib"] != "not installed"
    # the stored outcomes are what run_model gives for that point and seed
    row = table.iloc[7]
    params = spec.extra["params"][int(row["point"])]
    direct = run_one(params, int(row["seed"]), spec.steps, tuple(spec.outcomes))
    assert direct == pytest.approx({o: row[o] for o in spec.outcomes})
    # a second call resumes: everything is skipped, nothing is added
    again = run_sweep(spec, tmp_path / "r", backend="serial", progress=False)
    assert again.skipped == 12 and again.ran == 0 and len(raw_keys(tmp_path / "r")) == 12


def test_other_experiment_is_not_overwritten(tmp_path, capsys):
    first = write(tmp_path, TINY)
    out = tmp_path / "r"
    assert main(["sweep", str(first), "--backend", "serial", "--out", str(out), "--quiet"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    other = write(tmp_path, TINY.replace("seed = 7", "seed = 8"), "other.toml")
    capsys.readouterr()
    assert main(["sweep", str(other), "--backend", "serial", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--overwrite" in err and str(out) in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert main(["sweep", str(other), "--backend", "serial", "--out", str(out), "--quiet", "--overwrite"]) == 0
    assert json.loads((out / "manifest.json").read_text())["root_seed"] == 8
    assert len(read_results(out)) == 12 and len(raw_keys(out)) == 12


# -- failing runs --------------------------------------------------------------------------------------
def failing_run(params, seed, steps, outcomes):
    """Raises for one design point (audit_rate 0.1 under the symbiotic model); runs the model otherwise."""
    if params["governance"] == "symbiotic" and params["audit_rate"] == 0.1:
        raise RuntimeError("injected failure")
    return run_one(params, seed, steps, outcomes)


def test_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path):
    spec = load_experiment(write(tmp_path, TINY))
    report = run_sweep(spec, tmp_path / "r", backend="serial", run_fn=failing_run, progress=False, batch_size=4)
    assert not report.ok and report.ran == 12
    assert [(f["point"], f["replication"]) for f in report.failures] == [(4, 0), (4, 1)]
    assert all("RuntimeError: injected failure" in f["error"] for f in report.failures)
    table = read_results(tmp_path / "r")
    assert len(table) == 12
    failed = table[table["error"].notna()]
    assert list(failed["point"]) == [4, 4] and failed["regime_partnership"].isna().all()
    assert table[table["error"].isna()]["regime_partnership"].notna().all()
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["runs_failed"] == 2 and manifest["runs_done"] == 10
    # rerunning retries only the failed runs; the latest row of a key wins
    again = run_sweep(spec, tmp_path / "r", backend="serial", progress=False)
    assert again.ok and again.ran == 2 and again.skipped == 10
    fixed = read_results(tmp_path / "r")
    assert fixed["error"].isna().all() and fixed["run_key"].is_unique and len(fixed) == 12
    clean = run_sweep(spec, tmp_path / "clean", backend="serial", progress=False)
    assert clean.ok
    results_equal(tmp_path / "r", tmp_path / "clean")


def test_cli_exit_code_is_non_zero_when_a_run_fails(tmp_path, capsys, monkeypatch):
    import simulation.runs.sweep as sweep_module

    monkeypatch.setattr(sweep_module, "run_one", failing_run)
    assert (
        main(["sweep", str(write(tmp_path, TINY)), "--backend", "serial", "--out", str(tmp_path / "r"), "--quiet"]) == 1
    )
    out = capsys.readouterr().out
    assert "2 failed" in out and "point 4, replication 0" in out and "injected failure" in out


# -- backends ------------------------------------------------------------------------------------------
def test_serial_equals_processes(tmp_path):
    spec = load_experiment(write(tmp_path, TINY))
    run_sweep(spec, tmp_path / "serial", backend="serial", progress=False)
    report = run_sweep(spec, tmp_path / "proc", backend="processes", workers=2, progress=False, batch_size=3)
    assert report.ok
    results_equal(tmp_path / "serial", tmp_path / "proc")


def test_dask_cluster_on_loopback_equals_serial(tmp_path, capsys):
    from distributed import LocalCluster

    path = write(tmp_path, TINY)
    assert main(["sweep", str(path), "--backend", "serial", "--out", str(tmp_path / "serial"), "--quiet"]) == 0
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        code = main(
            [
                "sweep",
                str(path),
                "--backend",
                "dask",
                "--dask-address",
                cluster.scheduler_address,
                "--out",
                str(tmp_path / "dask"),
                "--quiet",
                "--batch-size",
                "5",
            ]
        )
    assert code == 0, capsys.readouterr()
    results_equal(tmp_path / "serial", tmp_path / "dask")
    manifest = json.loads((tmp_path / "dask" / "manifest.json").read_text())
    assert manifest["sessions"][-1]["backend"] == "dask"


# -- kill and resume -----------------------------------------------------------------------------------
SLOW = TINY.replace("quarters = 4", "quarters = 10").replace("replications = 2", "replications = 5")


def test_sigkill_midway_then_resume_equals_uninterrupted(tmp_path):
    path = write(tmp_path, SLOW)
    out = tmp_path / "killed"
    env = os.environ | {"PYTHONPATH": str(REPO_ROOT)}
    cmd = [
        sys.executable,
        "-m",
        "simulation.cli",
        "sweep",
        str(path),
        "--backend",
        "serial",
        "--out",
        str(out),
        "--batch-size",
        "1",
        "--quiet",
    ]
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not ResultStore(out).parts():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "no part file within 60 s"
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    done_before = len(raw_keys(out))
    assert 1 <= done_before < 30, "the sweep was not interrupted midway"
    finished = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert f"{30 - done_before} run now, {done_before} already done" in finished.stdout
    keys = raw_keys(out)
    assert len(keys) == len(set(keys)) == 30  # no duplicates, nothing missing
    assert not list(out.glob(".*.tmp"))
    spec = load_experiment(path)
    run_sweep(spec, tmp_path / "whole", backend="serial", progress=False)
    results_equal(out, tmp_path / "whole")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["runs_done"] == 30
    assert manifest["sessions"][-1]["runs_skipped"] == done_before


# -- analysis ------------------------------------------------------------------------------------------
GRID = TINY.replace(
    '[levers]\ngovernance = ["partnership", "symbiotic"]\naudit_rate = { low = 0.0, high = 0.2, levels = 3 }\n',
    "[uncertainties]\npower_strength = [0.3, 0.7]\nbusiness_strength = [0.2, 0.8]\n"
    '[levers]\ngovernance = ["partnership", "symbiotic"]\n',
)


def test_analyze_factorial_writes_tables_and_the_regime_map(tmp_path, capsys):
    assert "power_strength" in GRID
    path = write(tmp_path, GRID)
    out = tmp_path / "r"
    assert main(["sweep", str(path), "--backend", "serial", "--out", str(out), "--quiet"]) == 0
    assert main(["analyze", str(out)]) == 0
    analysis = out / "analysis"
    for name in ("summary.csv", "paired_differences.csv", "main_effects.png", "regime_map.png", "regime_shares.png"):
        assert (analysis / name).is_file(), name
    summary = pd.read_csv(analysis / "summary.csv")
    assert set(summary["point"]) == set(range(8)) and (summary["n"] == 2).all()
    assert (summary["ci_low"] <= summary["mean"]).all() and (summary["mean"] <= summary["ci_high"]).all()
    diffs = pd.read_csv(analysis / "paired_differences.csv")
    pooled = diffs[(diffs["factor"] == "governance") & (diffs["others"] == "all") & (diffs["outcome"] == "real_wages")]
    assert len(pooled) == 1 and pooled["level"].iloc[0] == "symbiotic" and pooled["baseline"].iloc[0] == "partnership"
    # the pooled paired difference is the mean of the per-replication differences of the raw table
    t = read_results(out)
    per_rep = (
        t[t["governance"] == "symbiotic"].groupby("replication")["real_wages"].mean()
        - t[t["governance"] == "partnership"].groupby("replication")["real_wages"].mean()
    )
    assert pooled["mean_difference"].iloc[0] == pytest.approx(per_rep.mean())


def test_analyze_morris_gives_indices_with_seed_intervals(tmp_path):
    text = (
        HEAD.replace('name = "bad"', 'name = "m"')
        + """\
replications = 2
quarters = 4
outcomes = ["corruption_incidence", "real_wages"]
[base]
firms = 800
residents_per_region = 200
burn_in = 2
[design]
type = "morris"
trajectories = 3
levels = 4
[levers]
audit_rate = { low = 0.0, high = 0.3 }
transparency = { low = 0.0, high = 1.0 }
"""
    )
    spec = load_experiment(write(tmp_path, text))
    run_sweep(spec, tmp_path / "m", backend="serial", progress=False)
    # Morris trajectories may share points: every (point, replication) still has its row
    table = read_results(tmp_path / "m")
    assert list(zip(table["point"], table["replication"])) == [(i, r) for i in range(9) for r in range(2)]
    from simulation.analysis.analysis import analyze

    result = analyze(tmp_path / "m")
    sens = pd.read_csv(tmp_path / "m" / "analysis" / "sensitivity.csv")
    assert set(sens["factor"]) == {"audit_rate", "transparency"}
    for col in ("mu_star", "sigma", "mu_star_conf", "mu_star_seed_low", "mu_star_seed_high", "noise_share"):
        assert col in sens.columns and sens[col].notna().all(), col
    assert (tmp_path / "m" / "analysis" / "sensitivity.png") in result["files"]


def test_design_size_is_computed_without_enumeration_for_every_shipped_experiment():
    """The size check before enumeration agrees with the enumeration (crossed designs included)."""
    from simulation.runs.design import design_points
    from simulation.runs.spec import design_size

    for name in ("regime_map", "levers_morris", "robust_levers"):
        spec = load_experiment(REPO_ROOT / "experiments" / f"{name}.toml")
        assert design_size(spec.design, list(spec.factors)) == len(design_points(spec)), name
