"""The calibration's figures."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..scenario import BY_NAME
from .config import COLOURS, Calibration
from .results import ModelPosterior, model_probabilities, weighted_quantile


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_marginals(post: dict[str, ModelPosterior], calib: Calibration, path: Path) -> None:
    """Each free parameter's posterior marginal per model (weighted histograms) into ``path``."""
    plt = _pyplot()
    names = calib.free()
    ncol = min(4, len(names))
    nrow = math.ceil(len(names) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.4 * ncol, 2.6 * nrow + 0.6), squeeze=False)
    for ax, name in zip(axes.flat, names):
        lo, hi = (calib.priors | calib.likelihood)[name]
        # a log-uniform prior has equal mass in equal steps of log: log bins and a log axis, so that the prior's
        # mass per bin is the same flat line as a uniform prior's on linear bins
        log_prior = calib.prior_kind(name) == "loguniform"
        bins = np.geomspace(lo, hi, 21) if log_prior else np.linspace(lo, hi, 21)
        for m, mp in post.items():
            if name in mp.names:
                ax.hist(
                    mp.column(name), bins=bins, weights=mp.weights, histtype="step", lw=1.8, color=COLOURS[m], label=m
                )
        ax.axhline(1 / 20, color="grey", ls=":", lw=1, label="prior (mass per bin)")
        if log_prior:
            ax.set_xscale("log")
        ax.set_xlim(lo, hi)
        unit = BY_NAME[name].unit if name in BY_NAME else "intra-class correlation"
        label = f"{name} [{unit}]" if unit else name
        ax.set_xlabel(label + (" (log-uniform prior, log axis)" if log_prior else ""), fontsize=8)
        ax.set_ylabel("posterior mass per bin", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    handles = {}
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    fig.suptitle(f"Posterior marginals ({calib.name}; final generation, weighted)", fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    fig.savefig(path, dpi=90)
    plt.close(fig)


#: Short answer labels for the figures' axes.
SHORT = {
    "Satisfied partially": "partially",
    "Does not affect (dissatisfied)": "does not affect",
    "Yes, constantly": "constantly",
}


def plot_fit(cells, kind: str, title: str, path: Path) -> None:
    """Observed counts against their predictive medians and 90% intervals (cells of ``kind``) into ``path``."""
    plt = _pyplot()
    sub = cells[cells["kind"] == kind]
    tables = list(dict.fromkeys(sub["table"]))
    fig, axes = plt.subplots(1, len(tables), figsize=(3.3 * len(tables) + 0.5, 4.2), squeeze=False)
    for ax, t in zip(axes.flat, tables):
        s = sub[sub["table"] == t].reset_index(drop=True)
        y = np.arange(len(s))[::-1]
        ax.hlines(y, s["q05"], s["q95"], color=COLOURS["interval"], lw=5, label="predictive 90% interval")
        ax.plot(s["median"], y, "|", color=COLOURS["partnership"], ms=10, mew=2, label="predictive median")
        inside = s["inside"].to_numpy()
        ax.plot(s["observed"][inside], y[inside], "o", color=COLOURS["observed"], ms=4, label="observed (inside)")
        ax.plot(
            s["observed"][~inside], y[~inside], "x", color=COLOURS["symbiotic"], ms=6, mew=2, label="observed (outside)"
        )
        labels = [f"{r}: {SHORT.get(c, c)}" if r != "Total" else SHORT.get(c, c) for r, c in zip(s["row"], s["column"])]
        ax.set_yticks(y, labels, fontsize=6.5)
        ax.set_xlabel("respondents (count)", fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
        n = "198" if t in ("table5", "table6") else "58"
        ax.set_title(f"Table {t[-1]} (n = {n}): {int(inside.sum())}/{len(s)} inside", fontsize=8.5)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 0.95))
    fig.savefig(path, dpi=85)
    plt.close(fig)


def plot_diagnostics(gens, post: dict[str, ModelPosterior], calib: Calibration, path: Path) -> None:
    """Temperature, effective sample size and acceptance per stage and model, and the posterior of s."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.4))
    if "run" not in gens:
        gens = gens.assign(run=0)
    for (m, r), g in gens.groupby(["model", "run"], sort=False):  # one line per model and independent run
        g = g[g["stage"] > 0]
        label = m if r == 0 else None
        axes[0].semilogy(g["stage"], g["temperature"], "o-", color=COLOURS[m], label=label, alpha=0.7, ms=3)
        axes[1].plot(g["stage"], g["ess"], "o-", color=COLOURS[m], label=label, alpha=0.7, ms=3)
        axes[2].plot(g["stage"], g["acceptance"], "o-", color=COLOURS[m], label=label, alpha=0.7, ms=3)
    axes[0].axhline(1.0, color="grey", ls=":", lw=1)
    axes[0].set(xlabel="stage", ylabel="temperature 1/beta (1 = posterior)", title="Temperature")
    axes[1].set(xlabel="stage", ylabel="ESS before resampling", title="Effective sample size", ylim=(0, None))
    axes[2].set(xlabel="stage", ylabel="share of moves accepted", title="Move acceptance", ylim=(0, 1))
    axes[0].legend(fontsize=8)
    ax = axes[3]
    if "fitted" in post:
        mp = post["fitted"]
        ax.hist(mp.column("symbiosis"), bins=np.linspace(0, 1, 21), weights=mp.weights, color=COLOURS["fitted"])
        ax.axhline(1 / 20, color="grey", ls=":", lw=1, label="prior")
        q05, q50, q95 = weighted_quantile(mp.column("symbiosis"), mp.weights, [0.05, 0.5, 0.95])
        ax.set_title(f"s for Turkestan: median {q50:.2f}, 90% [{q05:.2f}, {q95:.2f}]", fontsize=9)
        ax.set(xlabel="symbiosis index s (0 partnership, 1 symbiotic)", ylabel="posterior mass per bin", xlim=(0, 1))
    else:
        ax.axis("off")
    for a in axes:
        a.tick_params(labelsize=8)
    probs = model_probabilities(post)
    text = ", ".join(f"P({m}) = {p:.3f}" for m, p in probs.items())
    fig.suptitle(f"Tempered SMC diagnostics ({calib.name}); model probabilities: {text}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
