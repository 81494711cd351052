"""The burn-in a warm start still needs, measured with the diagnostic of the cold burn-in.

A warm run (``start = "warm"``, :mod:`simulation.snapshots`) begins at its snapshot, a cold
run's state near the end of the burn-in, and runs the re-burn (``warm_burn_in``) with its own
seed. This study measures how long the re-burn must be, the way ``statebiz dynamics
stationarity`` measures the cold burn-in (:mod:`simulation.studies.dynamics`), with the warm
chains' snapshots taken one quarter before the end of the burn-in:

- chains from two starts: warm (from the snapshot, one quarter of re-burn, then ``quarters``
  reported quarters) and cold (the full ``burn_in``, then the same ``quarters``), ``seeds``
  chains each (one pool member per seed), for each group of parameters (:func:`groups`: the
  calibrated scenario and its two governance arms, s = 0 and s = 1);
- per outcome (dynamics.OUTCOMES) and window of ``window`` quarters, the nested R-hat of the
  window against the chains' last window with the warm and the cold chains as the two
  superchains (dynamics.nested_rhat): a warm start not yet forgotten raises it;
- the re-burn needed: one quarter plus the first window start from which every outcome's
  R-hat stays below 1.1 (dynamics.burn_in_from); a Geweke check of the warm chains after it;
  the gap between the warm and the cold chains' means after it (with its z), and the ratio
  of the spreads across seeds of the chains' means (warm / cold: chains from one snapshot
  could be too alike).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..io import REPO_ROOT
from . import dynamics
from .base import Runs

#: The scenario the groups start from.
SCENARIO = REPO_ROOT / "scenarios" / "turkestan_calibrated.toml"
STARTS = ("warm", "cold")

SIZES = {
    "full": {"firms": 10000, "residents": 2000, "seeds": 8, "quarters": 80, "window": 8, "members": 4},
    "quick": {"firms": 1000, "residents": 300, "seeds": 4, "quarters": 40, "window": 8, "members": 2},
}


def groups(firms: int, residents: int) -> dict[str, dict[str, Any]]:
    """The parameter sets measured (see the module docstring)."""
    from ..scenario import load_scenario

    base = dict(load_scenario(SCENARIO, firms=firms, residents_per_region=residents).params)
    return {"calibrated": base, "s 0 arm": base | {"symbiosis": 0.0}, "s 1 arm": base | {"symbiosis": 1.0}}


def chain_run(params: dict[str, Any], seed: int, steps: int, outcomes: tuple) -> dict[str, Any]:
    """One chain as an evaluator task: the outcomes of ``steps`` reported quarters after its start."""
    from ..model import StateBusinessModel

    model = StateBusinessModel(rng=seed, **(dict(params) | {"steps": steps}))
    return {"table": dynamics.chain_table(model).to_dict("list")}


def run(firms: int, residents: int, seeds: int, quarters: int, window: int, runs: Runs | None = None) -> dict:
    """The chains and their diagnostics: ``rhat`` (per group, outcome, window), ``burn_in``
    (the re-burn needed per group and outcome) and ``diagnostics`` (per group and outcome)."""
    if runs is None:
        with Runs() as serial:
            return run(firms, residents, seeds, quarters, window, serial)
    from .. import snapshots

    tasks, what = [], []
    for name, params in groups(firms, residents).items():
        params = params | {"warm_pool": max(seeds, params["warm_pool"])}  # one member per seed: independent starts
        snapshots.ensure_pool(params, range(seeds))  # built once here, not by each worker
        for start in STARTS:
            p = params | ({"start": "warm", "warm_burn_in": 1} if start == "warm" else {"start": "cold"})
            for seed in range(seeds):
                tasks.append((len(tasks), chain_run, p, seed, quarters, ()))
                what.append((name, start, seed))
    traj = dynamics.run_chains(tasks, what, runs)
    rhats, burn_rows, diag_rows = [], [], []
    for name, g in traj.groupby("group", sort=False):
        r = dynamics.rhat_curve(g, window)
        r.insert(0, "group", name)
        rhats.append(r)
        b = dynamics.burn_in_from(r)
        burn_rows.append({"group": name} | {k: v + 1 for k, v in b.items()})  # + the warm start's first quarter
        rest = b["all"] if not np.isnan(b["all"]) else float(quarters - window)
        after = g[g["quarter"] > rest]
        for outcome in dynamics.OUTCOMES:
            warm = after[after["start"] == "warm"]
            tau = dynamics.autocorrelation_time(warm.pivot(index="chain", columns="quarter", values=outcome).to_numpy())
            zs = np.abs(np.array([dynamics.geweke_z(c[outcome].to_numpy(), tau=tau) for _, c in warm.groupby("chain")]))
            means = after.groupby(["start", "chain"])[outcome].mean()
            w, c = means.loc["warm"].to_numpy(), means.loc["cold"].to_numpy()
            se = np.sqrt(w.var(ddof=1) / len(w) + c.var(ddof=1) / len(c)) if len(w) > 1 else np.nan
            diag_rows.append(
                {
                    "group": name,
                    "outcome": outcome,
                    "re_burn": b[outcome] + 1,
                    "discarded": int(rest),
                    "geweke_share_abs_z_above_1.96": float((zs > 1.96).mean()) if zs.size else float("nan"),
                    "warm_mean": float(w.mean()),
                    "cold_mean": float(c.mean()),
                    "gap_z": float((w.mean() - c.mean()) / se) if se and se > 0 else float("nan"),
                    "spread_ratio": float(w.std(ddof=1) / c.std(ddof=1)) if c.std(ddof=1) > 0 else float("nan"),
                }
            )
    burn = pd.DataFrame(burn_rows)
    return {
        "trajectories": traj.drop(columns="chain"),
        "rhat": pd.concat(rhats, ignore_index=True),
        "burn_in": burn,
        "diagnostics": pd.DataFrame(diag_rows),
    }


def forgetting(
    firms: int, residents: int, members: int, per_member: int, quarters: int, window: int, runs: Runs | None = None
) -> dict:
    """How long warm runs that share a pool member stay alike: warm chains of the calibrated
    scenario from ``members`` snapshots, ``per_member`` seeds each, one quarter of re-burn, then
    ``quarters``; the nested R-hat with each member's chains as a superchain (the snapshots are
    the starts). Below 1.1 from some window on, runs from one snapshot have forgotten it by then
    (``burn_in``: that window start plus the first quarter; NaN: not within ``quarters``)."""
    if runs is None:
        with Runs() as serial:
            return forgetting(firms, residents, members, per_member, quarters, window, serial)
    from .. import snapshots

    params = groups(firms, residents)["calibrated"] | {"warm_pool": members, "start": "warm", "warm_burn_in": 1}
    seeds = range(members * per_member)
    snapshots.ensure_pool(params, seeds)
    tasks = [(i, chain_run, params, seed, quarters, ()) for i, seed in enumerate(seeds)]
    chains = []
    for seed, row in zip(seeds, runs.run(tasks, describe=lambda t: f"warm chain {t[3]}")):
        t = pd.DataFrame(row["table"])
        t.insert(0, "start", snapshots.member_of(params, seed))
        t.insert(0, "chain", str(seed))
        chains.append(t)
    traj = pd.concat(chains, ignore_index=True)
    r = dynamics.rhat_curve(traj, window)
    b = {k: v + 1 for k, v in dynamics.burn_in_from(r).items()}
    return {"trajectories": traj, "rhat": r, "burn_in": b}
