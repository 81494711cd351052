"""Scenario discovery, robust policies and the crossed design: synthetic stores, no model runs
(except one tiny EMA Workbench run through the adapter)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from simulation.analysis.discovery import DiscoveryError, discover

PLANTED = {"transparency": (0.3, 0.7), "audit_rate": (0.1, 0.25)}  # the box where the outcome is good
RANGES = {"transparency": (0.0, 1.0), "audit_rate": (0.0, 0.3), "power_strength": (0.2, 0.8)}


def write_store(directory, table: pd.DataFrame, factors: list[dict], outcomes: list[str], design: dict, text=""):
    """A results directory as a sweep leaves it: one Parquet part and a manifest."""
    directory.mkdir(parents=True, exist_ok=True)
    table.to_parquet(directory / "part-00000.parquet", index=False)
    manifest = {
        "experiment": {"name": directory.name, "file": "synthetic.toml", "text": text},
        "design": design,
        "factors": factors,
        "design_points": int(table["point"].nunique()),
        "replications": int(table["replication"].nunique()),
        "outcomes": outcomes,
        "root_seed": 0,  # every sweep's manifest has one (analysis checks for it)
    }
    (directory / "manifest.json").write_text(json.dumps(manifest))
    return directory


def planted_store(directory, n=1500, seed=7):
    """An LHS-like sweep whose corruption is low (0.1) exactly inside PLANTED, high (0.5) outside."""
    rng = np.random.default_rng(seed)
    cols = {k: rng.uniform(lo, hi, n) for k, (lo, hi) in RANGES.items()}
    cols["governance"] = rng.choice(["partnership", "symbiotic"], n)
    inside = np.ones(n, dtype=bool)
    for k, (lo, hi) in PLANTED.items():
        inside &= (cols[k] >= lo) & (cols[k] <= hi)
    table = pd.DataFrame(
        {"run_key": [f"k{i}" for i in range(n)], "point": np.arange(n), "replication": 0, "seed": 1}
        | cols
        | {"corruption_incidence": np.where(inside, 0.1, 0.5), "error": None, "elapsed_s": 0.1}
    )
    factors = [
        {
            "name": k,
            "role": "lever" if k != "power_strength" else "uncertainty",
            "values": None,
            "low": lo,
            "high": hi,
            "levels": None,
        }
        for k, (lo, hi) in RANGES.items()
    ] + [
        {
            "name": "governance",
            "role": "uncertainty",
            "values": ["partnership", "symbiotic"],
            "low": None,
            "high": None,
            "levels": None,
        }
    ]
    return write_store(directory, table, factors, ["corruption_incidence"], {"type": "lhs", "samples": n})


def box_overlap(found: dict[str, tuple[float, float]]) -> float:
    """Volume of (found box ∩ planted box) / volume of (found box ∪ planted box), in unit coordinates."""
    inter = union_a = union_b = 1.0
    for k, (lo, hi) in RANGES.items():
        a = found.get(k, (lo, hi))
        b = PLANTED.get(k, (lo, hi))
        span = hi - lo
        inter *= max(0.0, min(a[1], b[1]) - max(a[0], b[0])) / span
        union_a *= (a[1] - a[0]) / span
        union_b *= (b[1] - b[0]) / span
    return inter / (union_a + union_b - inter)


@pytest.mark.parametrize("method", ["prim", "cart"])
def test_discovery_recovers_the_planted_box(tmp_path, method):
    store = planted_store(tmp_path / "planted")
    res = discover(store, "corruption_incidence", below=0.3, method=method)
    limits = res["limits"][res["limits"]["box"] == 1]
    found = {r["input"]: (r["low"], r["high"]) for _, r in limits.iterrows() if not r["values"]}
    overlap = box_overlap(found)
    print(f"{method}: overlap (intersection over union) {overlap:.3f}; box {found}")
    assert overlap >= 0.8
    assert set(found) == set(PLANTED)  # no spurious restriction of power strength or governance
    box = res["boxes"].iloc[0]
    assert box["coverage"] >= 0.8 and box["density"] >= 0.9
    names = {p.name for p in res["files"]}
    assert f"{method}_corruption_incidence_below0.3_boxes.csv" in names
    assert any(n.endswith(".png") for n in names)
    if method == "prim":
        traj = pd.read_csv(store / "discovery" / "prim_corruption_incidence_below0.3_trajectory.csv")
        assert {"coverage", "density", "res_dim", "chosen"} <= set(traj.columns)
        lim = pd.read_csv(store / "discovery" / "prim_corruption_incidence_below0.3_limits.csv")
        assert (lim["qp_low"].fillna(0) < 0.05).all()  # planted restrictions are significant


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"outcome": "corruption", "below": 0.3}, "unknown outcome 'corruption'"),
        ({"outcome": "corruption_incidence", "below": 1.3}, "outside the range"),
        ({"outcome": "corruption_incidence", "above": -0.1}, "outside the range"),
        ({"outcome": "corruption_incidence"}, "exactly one threshold"),
        ({"outcome": "corruption_incidence", "below": 0.01}, "both sides"),
        ({"outcome": "corruption_incidence", "below": 0.3, "inputs": ["transparancy"]}, "did you mean"),
        ({"outcome": "real_wages", "below": 100.0}, "not in this sweep"),
    ],
)
def test_bad_discovery_input_is_one_line(tmp_path, kwargs, message):
    store = planted_store(tmp_path / "planted", n=200)
    with pytest.raises(DiscoveryError) as err:
        discover(store, **kwargs)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert not (store / "discovery").exists()


def test_discover_cli_exit_codes(tmp_path, capsys):
    from simulation.cli import main

    store = planted_store(tmp_path / "planted", n=300)
    assert main(["discover", str(store), "--outcome", "corruption_incidence", "--below", "2"]) == 2
    assert "outside the range" in capsys.readouterr().err
    assert main(["discover", str(store), "--outcome", "nope", "--below", "0.3"]) == 2
    (tmp_path / "notasweep").mkdir()
    (tmp_path / "notasweep" / "manifest.json").write_text('{"name": "x"}')
    assert main(["discover", str(tmp_path / "notasweep"), "--outcome", "corruption_incidence", "--below", "0.3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "statebiz: error:" in err
    assert (
        main(["discover", str(store), "--outcome", "corruption_incidence", "--below", "0.3", "--method", "cart"]) == 0
    )
    assert "box 1" in capsys.readouterr().out


def crossed_store(directory):
    """3 policies (transparency) x 4 states (power) x 2 replications; corruption = power - transparency/2."""
    rows, point = [], 0
    for t in (0.1, 0.5, 0.9):
        for p in (0.2, 0.4, 0.6, 0.8):
            for r in range(2):
                rows.append(
                    {
                        "run_key": f"{point}-{r}",
                        "point": point,
                        "replication": r,
                        "seed": r,
                        "transparency": t,
                        "power_strength": p,
                        "corruption_incidence": p - t / 2 + 0.01 * r,
                        "business_satisfied": 0.3,
                        "error": None,
                        "elapsed_s": 0.1,
                    }
                )
            point += 1
    factors = [
        {"name": "transparency", "role": "lever", "values": None, "low": 0.0, "high": 1.0, "levels": None},
        {"name": "power_strength", "role": "uncertainty", "values": None, "low": 0.2, "high": 0.8, "levels": None},
    ]
    text = '[targets]\ncorruption_incidence = { below = 0.3 }\nbusiness_satisfied = { above = "observed" }\n'
    design = {"type": "lhs", "samples": 3, "states": {"type": "lhs", "samples": 4}}
    return write_store(
        directory, pd.DataFrame(rows), factors, ["corruption_incidence", "business_satisfied"], design, text
    )


def test_regret_and_target_shares(tmp_path):
    from simulation.analysis.analysis import analyze

    store = crossed_store(tmp_path / "crossed")
    analyze(store)
    pol = pd.read_csv(store / "analysis" / "robust_policies.csv")
    best = pol.iloc[0]
    assert best["transparency"] == 0.9 and best["max_regret_corruption_incidence"] == pytest.approx(0.0)
    # corruption = p - 0.45 + 0.005 < 0.3 for p in (0.2, 0.4, 0.6): 3 of 4 states; satisfaction 0.30 > 15/58
    assert best["share_corruption_incidence"] == pytest.approx(0.75)
    assert best["share_business_satisfied"] == pytest.approx(1.0)
    assert best["share_all"] == pytest.approx(0.75)
    worst = pol.set_index("transparency").loc[0.1]
    assert worst["max_regret_corruption_incidence"] == pytest.approx(0.4)
    regret = pd.read_csv(store / "analysis" / "regret.csv")
    assert len(regret) == 3 * 4 * 2 and (regret["regret"] >= -1e-12).all()
    res = discover(store, "corruption_incidence", below=0.3)
    assert res["robust"].iloc[0]["transparency"] == 0.9


def test_crossed_design_and_targets_validate(tmp_path):
    from simulation.runs.design import design_points
    from simulation.runs.spec import load_experiment
    from simulation.scenario import ScenarioError

    def write(body: str):
        path = tmp_path / "x.toml"
        path.write_text(
            'name = "x"\nscenario = "scenarios/turkestan.toml"\nseed = 1\noutcomes = ["corruption_incidence", '
            '"business_satisfied"]\n' + body
        )
        return path

    good = (
        '[design]\ntype = "lhs"\nsamples = 3\nstates = { type = "lhs", samples = 2 }\n'
        "[levers]\ntransparency = { low = 0.0, high = 1.0 }\n"
        '[uncertainties]\ngovernance = ["partnership", "symbiotic"]\npower_strength = { low = 0.2, high = 0.8 }\n'
    )
    spec = load_experiment(write(good + '[targets]\nbusiness_satisfied = { above = "observed" }\n'))
    points = design_points(spec)
    assert len(points) == 3 * 2 * 2
    assert len({p["transparency"] for p in points}) == 3 and len({p["power_strength"] for p in points}) == 2
    assert spec.targets[0]["threshold"] == pytest.approx(15 / 58)  # Table 7: 15 of 58 satisfied
    for body, message in [
        (good + "[targets]\ncorruption_incidence = { below = 1.5 }\n", "expected a number in [0, 1]"),
        (good + "[targets]\ncorruption = { below = 0.3 }\n", "unknown outcome"),
        (good + "[targets]\nreal_wages = { below = 3 }\n", "does not keep"),
        (good + '[targets]\ncorruption_incidence = { below = "observed" }\n', "observed values exist for"),
        (good.replace('type = "lhs", samples = 2', 'type = "sobol"'), "design.states.type"),
        (good.replace("[uncertainties]", "[x]"), "unknown key"),
    ]:
        with pytest.raises(ScenarioError) as err:
            load_experiment(write(body))
        assert message in str(err.value) and "\n" not in str(err.value), str(err.value)


def test_robust_levers_experiment_is_valid():
    from simulation.runs.design import design_points
    from simulation.runs.spec import REPO_ROOT, load_experiment

    spec = load_experiment(REPO_ROOT / "experiments" / "robust_levers.toml")
    assert spec.crossed and {t["outcome"] for t in spec.targets} == {"corruption_incidence", "business_satisfied"}
    assert len(design_points(spec)) * spec.replications <= 3000


def test_ema_adapter_runs_a_small_sample():
    """docs/ema_example.py, on a small sample: EMA's Model, RealParameter and ScalarOutcome through run_model."""
    import importlib.util

    from simulation.runs.spec import REPO_ROOT

    pytest.importorskip("ema_workbench")
    spec = importlib.util.spec_from_file_location("ema_example", REPO_ROOT / "docs" / "ema_example.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    experiments, outcomes = example.run_example(scenarios=2, policies=1, firms=300, steps=2)
    assert len(experiments) == 2 and set(outcomes) == {"corruption_incidence", "business_satisfied"}
    assert np.all((outcomes["corruption_incidence"] >= 0) & (outcomes["corruption_incidence"] <= 1))


def test_ema_adapter_rejects_bad_names():
    pytest.importorskip("ema_workbench")
    from ema_workbench import RealParameter, ScalarOutcome

    from simulation.analysis.ema import statebiz_model
    from simulation.scenario import ScenarioError

    with pytest.raises(ScenarioError, match="not a scenario parameter"):
        statebiz_model(uncertainties=[RealParameter("powr", 0.0, 1.0)])
    with pytest.raises(ScenarioError, match="outside its range"):
        statebiz_model(levers=[RealParameter("transparency", 0.0, 2.0)])
    with pytest.raises(ScenarioError, match="not an outcome"):
        statebiz_model(outcomes=[ScalarOutcome("corruption")])
