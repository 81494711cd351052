"""Robust policies in a crossed design (policies x states of the world).

A *policy* is a setting of the levers, a *state of the world* a setting of the uncertainties;
a crossed design (``[design] states = {...}``, see :mod:`simulation.runs.spec`) runs every
policy in every state with the same replication seeds. Outcomes are averaged over
replications per (policy, state); then, for each target outcome (``[targets]``):

- **regret** of a policy in a state: how far its outcome is from the best policy's in that
  state (best = lowest for a ``below`` target, highest for ``above``; never negative);
- **meets**: the share of states in which the policy's mean outcome meets the target, and
  the share in which it meets *all* targets at once (``share_all``).

Policies are ranked by ``share_all`` (higher first), then by their largest regret on the
first target (lower first).
"""

from __future__ import annotations

import json
import tomllib
from typing import Any

import numpy as np
import pandas as pd

from ..runs.spec import parse_targets


def targets_of(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The validated ``[targets]`` of the experiment file stored in a sweep's manifest."""
    experiment = manifest.get("experiment", {})
    raw = tomllib.loads(experiment.get("text", "") or "").get("targets", {})
    return parse_targets(experiment.get("file", "manifest.json"), raw, manifest["outcomes"])


def meets(values: np.ndarray | pd.Series, target: dict[str, Any]) -> np.ndarray:
    """Whether each value meets the target (strictly below or above its threshold; NaN never does)."""
    v = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        return v < target["threshold"] if target["direction"] == "below" else v > target["threshold"]


def target_text(target: dict[str, Any]) -> str:
    """A target in words, e.g. 'corruption_incidence < 0.3' (observed values say so)."""
    sign = "<" if target["direction"] == "below" else ">"
    note = " (observed)" if target.get("observed") else ""
    return f"{target['outcome']} {sign} {target['threshold']:.3g}{note}"


def policy_state_means(table: pd.DataFrame, levers: list[str], uncertainties: list[str], outcomes: list[str]):
    """Replication means per (policy, state): one row per design point with ``policy`` and
    ``state`` numbers (in design order), the factor values, ``n`` (successful runs) and the outcomes."""
    ok = table[table["error"].isna()]
    means = ok.groupby("point", sort=True)[outcomes].mean()
    first = ok.groupby("point", sort=True)[levers + uncertainties].first()
    n = ok.groupby("point", sort=True).size().rename("n")
    frame = first.join(n).join(means).reset_index()
    frame.insert(1, "policy", frame.groupby(levers, sort=False).ngroup())
    frame.insert(2, "state", frame.groupby(uncertainties, sort=False).ngroup())
    return frame


def regret_table(means: pd.DataFrame, targets: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per (policy, state, target outcome): the value, the best policy's value in that
    state, the regret and whether the target is met."""
    rows = []
    for t in targets:
        o = t["outcome"]
        best = means.groupby("state")[o].transform("min" if t["direction"] == "below" else "max")
        regret = (means[o] - best) if t["direction"] == "below" else (best - means[o])
        rows.append(
            pd.DataFrame(
                {
                    "policy": means["policy"],
                    "state": means["state"],
                    "outcome": o,
                    "target": target_text(t),
                    "value": means[o],
                    "best_in_state": best,
                    "regret": regret,
                    "meets": meets(means[o], t),
                }
            )
        )
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def robustness(means: pd.DataFrame, targets: list[dict[str, Any]], levers: list[str]) -> pd.DataFrame:
    """One row per policy: its lever settings, ``states``, per target the share of states that
    meet it and the mean and largest regret, and ``share_all`` (states meeting every target);
    sorted from the most robust policy (rank 1)."""
    reg = regret_table(means, targets)
    policies = means.groupby("policy", sort=True)[levers].first()
    out = policies.copy()
    out["states"] = means.groupby("policy").size()
    all_met = np.ones(len(means), dtype=bool)
    for t in targets:
        o = t["outcome"]
        r = reg[reg["outcome"] == o].set_index(["policy", "state"])
        out[f"share_{o}"] = r.groupby("policy")["meets"].mean()
        out[f"mean_regret_{o}"] = r.groupby("policy")["regret"].mean()
        out[f"max_regret_{o}"] = r.groupby("policy")["regret"].max()
        all_met &= meets(means[o], t)
    out["share_all"] = pd.Series(all_met, index=means.index).groupby(means["policy"]).mean()
    order = ["share_all"] + ([f"max_regret_{targets[0]['outcome']}"] if targets else [])
    out = out.sort_values(order, ascending=[False] + [True] * (len(order) - 1), kind="stable").reset_index()
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out["targets"] = json.dumps([target_text(t) for t in targets])
    return out
