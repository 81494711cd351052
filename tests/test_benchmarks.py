"""The benchmarks' own pieces still fit the files they read (``make bench`` is not run in CI: minutes).

A benchmark that breaks when a file it reads changes shape is found here, not by the next person
who runs ``make bench`` (the calibration's file lost its [abc] section in issue 10).
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_model  # noqa: E402
import bench_sweep  # noqa: E402


def test_the_calibration_estimate_reads_the_calibration_and_its_record():
    out = bench_model.calibration_estimate(1)
    spec = tomllib.loads(bench_model.CALIBRATION_FILE.read_text())
    record = json.loads(bench_model.CALIBRATION_MANIFEST.read_text())
    assert out["firms"] == spec["model"]["firms"]
    assert out["quarters"] > spec["model"]["steps"]  # the scenario's burn-in comes first
    assert out["per_run_s"] > 0
    assert out["budget"] == record["simulations"] > 0
    assert out["estimate_s"] == out["budget"] * out["per_run_s"] / 2
    assert out["recorded_s"] == record["wall_time_seconds"]


def test_the_sweep_benchmark_writes_an_experiment_the_project_loads(tmp_path):
    from simulation.runs import load_experiment

    path = tmp_path / "bench_sweep.toml"
    path.write_text(bench_sweep.experiment_text(8, 500, 2))
    spec = load_experiment(path)
    assert spec.replications * len(spec.extra["points"]) == 8


def test_repeated_sweeps_report_medians_and_the_range(monkeypatch):
    def fake(eff_processes, per_run):
        def backend(eff, workers):
            return {"workers": workers, "wall_s": 10 / eff, "efficiency_after_startup": eff, "failures": 0}

        return {
            "runs": 8,
            "workers": 2,
            "firms": 500,
            "quarters": 2,
            "per_run_s": per_run,
            "same": True,
            "backends": {"serial": backend(1.0, 1), "processes": backend(eff_processes, 2)},
        }

    outs = iter([fake(0.83, 1.3), fake(1.01, 1.5), fake(0.95, 1.4)])
    monkeypatch.setattr(bench_sweep, "measure", lambda *args: next(outs))
    out = bench_sweep.measure_repeated(8, 2, 500, 2, repeat=3)
    b = out["backends"]["processes"]
    assert out["repeat"] == 3 and out["per_run_s"] == 1.4
    assert b["efficiency_after_startup"] == 0.95 and b["efficiency_range"] == (0.83, 1.01)
    assert b["workers"] == 2
