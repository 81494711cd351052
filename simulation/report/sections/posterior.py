"""The calibration behind the report: the posterior of the symbiosis index s (median, 90%
interval, histogram) and the probabilities of the governance models (s = 0 vs s = 1 vs s fitted),
read from the calibration's files (``docs/calibration/``); says plainly when there is none."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..content import (
    CURRENT_MODEL_FITS,
    Code,
    Figure,
    ReportContext,
    SectionContent,
    Table,
    calibration_stale,
    current_model_fit,
    para,
    read_record,
    record_changes,
    rel,
)
from ..figures import pyplot, save

ANCHOR = "posterior"
TITLE = "The calibration: posterior of s and the governance models"


def read_csv(path: Path) -> tuple[pd.DataFrame | None, str]:
    """A calibration table, or None and why not (missing, unreadable, empty)."""
    if not path.is_file():
        return None, f"{rel(path)} not found"
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as err:
        return None, f"{rel(path)} cannot be read ({err})"
    if frame.empty:
        return None, f"{rel(path)} is empty"
    return frame, ""


def model_probabilities(path: Path) -> tuple[dict[str, float] | None, str]:
    """The models' posterior probabilities recorded by the calibration (``manifest.json``:
    ``model_probabilities``, from the samplers' evidences), or None and why not."""
    import json

    if not path.is_file():
        return None, f"{rel(path)} not found"
    try:
        probs = json.loads(path.read_text(encoding="utf-8")).get("model_probabilities")
    except (OSError, ValueError, AttributeError) as err:
        return None, f"{rel(path)} cannot be read ({err})"
    if not isinstance(probs, dict) or not probs or not all(isinstance(v, (int, float)) for v in probs.values()):
        return None, f"{rel(path)} has no model probabilities"
    if any(v != v for v in probs.values()):
        return None, f"{rel(path)}: a model's sampler did not reach its posterior"
    return {m: float(v) for m, v in probs.items()}, ""


def evidence_facts(path: Path) -> dict:
    """What the calibration's manifest says about the evidences' Monte Carlo error (issue 25): the
    model-choice statement, the Bayes factor's interval, the runs' log-evidence sd, the distinct share,
    the posteriors piling at a bound and the misfit p-values; empty for a record without them."""
    import json

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    keys = ("model_choice", "bayes_factor_s0_s1", "log_evidence_sd", "distinct_share", "piles_at_bound")
    return {k: doc[k] for k in keys + ("misfit_p_values", "error_model") if k in doc}


def probability_interval(bf: dict | None) -> str:
    """ "90% bootstrap interval over the independent runs: q05 to q95" of P(s = 0 model) among the two, from a
    record's Bayes factor when the record has the pooled estimator's interval (``estimator``); empty
    otherwise (older records took the mean of the runs' log Bayes factors, whose interval belongs to another
    estimate)."""
    if (
        not isinstance(bf, dict)
        or "estimator" not in bf
        or not all(
            isinstance(bf.get(k), (int, float)) for k in ("p_partnership", "p_partnership_q05", "p_partnership_q95")
        )
    ):
        return ""
    low, high = bf["p_partnership_q05"], bf["p_partnership_q95"]
    return f"90% bootstrap interval over the independent runs {low:.2f} to {high:.2f}"


def fit_probability(bf: dict | None) -> str:
    """ " Of the two models, P(s = 0 model) = p (90% bootstrap interval ...)." from a record's Bayes factor
    with the pooled estimator; empty for a record without it."""
    interval = probability_interval(bf)
    return f" Of the two models, P(s = 0 model) = {bf['p_partnership']:.2f} ({interval})." if interval else ""


def s_summary(ctx: ReportContext) -> dict[str, float] | None:
    """Median and 90% interval of s in the fitted model's posterior (None without one)."""
    post = ctx.config.posterior
    if post is None or "symbiosis" not in post.names:
        return None
    q05, q50, q95 = post.quantile("symbiosis", [0.05, 0.5, 0.95])
    return {
        "median": float(q50),
        "q05": float(q05),
        "q95": float(q95),
        "ess": post.ess(),
        "particles": len(post.weights),
    }


def s_histogram(ctx: ReportContext, path: Path):
    """Weighted histogram of s in the fitted model's posterior, its median and 90% interval, and
    the values of s used by the report's draws."""
    plt = pyplot()
    post = ctx.config.posterior
    v = post.values[:, post.names.index("symbiosis")]
    summary = s_summary(ctx)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.hist(v, bins=np.linspace(0, 1, 21), weights=post.weights, color="#56B4E9", edgecolor="white", label="posterior")
    ax.axvline(summary["median"], color="#D55E00", lw=2, label=f"median {summary['median']:.2f}")
    ax.axvspan(summary["q05"], summary["q95"], color="#D55E00", alpha=0.12, label="90% interval")
    used = [d["symbiosis"] for d in ctx.config.draws(ctx.config.paired) if "symbiosis" in d]
    ax.plot(used, np.zeros(len(used)), "|", color="black", ms=14, mew=1.5, label="draws used (paired runs)")
    ax.set_xlim(0, 1)
    ax.set_xlabel("symbiosis index s (0: partnership, 1: symbiotic)")
    ax.set_ylabel("posterior probability (weight)")
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(
        f"Posterior of s (fitted model, {summary['particles']} particles, ESS {summary['ess']:.0f})\n{rel(post.path)}",
        fontsize=10,
    )
    fig.tight_layout()
    return save(fig, path)


def draw(ctx: ReportContext) -> dict[str, Figure]:
    """``posterior_s.png`` when there is a posterior with s."""
    if s_summary(ctx) is None:
        return {}
    path = s_histogram(ctx, ctx.out_dir / "posterior_s.png")
    return {"s": Figure(path, "Posterior of the symbiosis index s")}


def build(ctx: ReportContext) -> SectionContent:
    """The posterior of s, the model probabilities, the free parameters' summary."""
    config = ctx.config
    if config.posterior is None:
        return SectionContent(
            ANCHOR,
            TITLE,
            [
                para(
                    "No calibration: ",
                    Code(ctx.posterior_name),
                    " does not exist yet (written by ",
                    Code("statebiz calibrate"),
                    "). The report therefore runs on fixed parameters: its intervals hold seed noise only, "
                    "and it cannot say which value of s the survey supports.",
                    cls="warning",
                )
            ],
        )
    s = s_summary(ctx)
    folder = config.posterior_path.parent
    blocks = []
    if s is not None:
        blocks.append(
            para(
                f"Posterior of s in the fitted model (s free): median {s['median']:.2f}, 90% interval "
                f"{s['q05']:.2f} to {s['q95']:.2f} ({s['particles']} weighted particles, effective sample size "
                f"{s['ess']:.0f}; ",
                Code(rel(config.posterior.path)),
                ").",
            )
        )
        blocks.append(ctx.figures[ANCHOR]["s"])
    probs, why = model_probabilities(folder / "manifest.json")
    if probs is None:
        blocks.append(para(f"Model probabilities: not available ({why}).", cls="warning"))
    else:
        bits = ", ".join(f"P({m}) = {p:.2f}" for m, p in probs.items())
        blocks.append(
            para(
                f"Model probabilities (equal prior probabilities; from each model's SMC evidence): {bits}. "
                + (
                    f"P(s = 0 model) vs P(s = 1 model): {probs['partnership']:.2f} vs {probs['symbiotic']:.2f}"
                    + (
                        f" (of the two, P(s = 0 model): {interval})"
                        if (
                            interval := probability_interval(
                                evidence_facts(folder / "manifest.json").get("bayes_factor_s0_s1")
                            )
                        )
                        else ""
                    )
                    + "."
                    if {"partnership", "symbiotic"} <= set(probs)
                    else ""
                ),
                " Source: ",
                Code(rel(folder / "manifest.json")),
                ".",
            )
        )
    facts = evidence_facts(folder / "manifest.json")
    if facts.get("model_choice"):
        sd = ", ".join(f"{m} {v:.2f}" for m, v in (facts.get("log_evidence_sd") or {}).items())
        distinct = ", ".join(f"{m} {v:.2f}" for m, v in (facts.get("distinct_share") or {}).items())
        blocks.append(
            para(
                f"Model choice: {facts['model_choice']} Log-evidence sd over the runs: {sd}; share of "
                f"distinct final particles: {distinct}."
            )
        )
        record = read_record(folder / "manifest.json") or {}
        r_hat = disagreeing_runs(record)
        if r_hat:
            runs = (record.get("abc") or {}).get("replicates", "the")
            blocks.append(
                para(
                    f"The calibration's {runs} independent runs have not found the same posterior (largest R-hat "
                    "across the runs: "
                    + ", ".join(f"{m} {v:.2f}" for m, v in r_hat.items())
                    + f"; at most {R_HAT_AGREE} when they agree): each run settled in its own region of the "
                    "parameters, and the pooled posterior weighs those regions by run, not by the data. Its "
                    "intervals, and the posterior intervals of this report, are therefore approximate; runs that "
                    "agree need more particles per run (docs/calibration/MEASURED.md 16).",
                    cls="warning",
                )
            )
    elif probs is not None:
        blocks.append(
            para(
                "These probabilities rest on one evidence estimate per model: their Monte Carlo error is not "
                "measured, so this record cannot say whether the data tell s = 0 from s = 1 (issue 25; the "
                "calibration now runs independent replicates and states it).",
                cls="warning",
            )
        )
    piles = facts.get("piles_at_bound") or []
    if piles:
        from ...calibration.results import pile_reading

        blocks.append(
            para(
                "Posteriors piling at a prior bound (at least 30% of the mass in the top or bottom tenth; the data "
                "bound such a parameter on one side only, so read its quantile, not its median): "
                + ", ".join(
                    f"{p['model']} {p['parameter']}" + (f" ({pile_reading(p)})" if pile_reading(p) else "")
                    for p in piles
                )
                + ".",
                cls="warning",
            )
        )
    misfit, _ = read_csv(folder / "misfit.csv")
    if misfit is not None and {"model", "table", "x2", "df", "p_value"} <= set(misfit.columns):
        keep = [c for c in ("model", "table", "x2", "df", "design_effect", "p_value", "worst_cell") if c in misfit]
        blocks += [
            para(
                "Misfit at the posterior medians under the survey's design effect (Pearson X², Rao–Scott p; "
                "small p: the model misses the table; nothing in the likelihood absorbs it)"
                + _misfit_origin(folder / "misfit_manifest.json")
                + ":"
            ),
            Table(_misfit_shown(misfit[keep]), left=2),
        ]
    blocks += transient_blocks(folder)
    blocks += predictive_blocks(folder)
    if calibration_stale(config) is not None:
        blocks += current_fit_blocks()
    summary, why = read_csv(folder / "posterior_summary.csv")
    if summary is not None and {"model", "parameter"} <= set(summary.columns):
        keep = [c for c in ("model", "parameter", "median", "q05", "q95", "prior_low", "prior_high") if c in summary]
        shown = summary[summary["model"] == "fitted"][keep] if "fitted" in set(summary["model"]) else summary[keep]
        blocks += [
            para("The fitted model's free parameters (posterior median, 5th and 95th percentiles, prior range):"),
            Table(shown.round(4), left=2),
        ]
    else:
        blocks.append(
            para(f"Posterior summary: not available ({why or 'columns model, parameter missing'}).", cls="meta")
        )
    blocks.append(
        para(
            "Every interval in the posterior parts of this report (counterfactuals, levers along s, the national "
            "part, the survey) runs over draws of this posterior (",
            Code("posterior_draws.csv"),
            "), each draw on its own paired seeds.",
            cls="meta",
        )
    )
    return SectionContent(ANCHOR, TITLE, blocks)


#: Largest R-hat across a fit's independent runs above which they have not found the same posterior.
R_HAT_AGREE = 1.01


def disagreeing_runs(record: dict) -> dict[str, float]:
    """Per model, the largest R-hat across a record's independent runs (``r_hat_max``), when any model's
    exceeds :data:`R_HAT_AGREE`; empty when they agree or the record has none."""
    r_hat = {m: v for m, v in (record.get("r_hat_max") or {}).items() if isinstance(v, (int, float)) and v == v}
    return r_hat if r_hat and max(r_hat.values()) > R_HAT_AGREE else {}


def current_fit_blocks(folders=CURRENT_MODEL_FITS) -> list:
    """What a fit on the current model says, when the shipped record is an earlier model's: its settings,
    its model-choice statement (from its independent runs' evidences), its distinct particles, whether its
    independent runs agree (R-hat) and its checks on fresh runs. Labelled as what it is: a reduced fit, not
    the shipped calibration; the report's runs still draw from the shipped posterior."""
    found = current_model_fit(folders)
    if found is None:
        return []
    folder, record = found
    abc, size = record.get("abc") or {}, record.get("model_settings") or {}
    distinct = ", ".join(f"{m} {v:.2f}" for m, v in (record.get("distinct_share") or {}).items())
    settings = (
        f"{', '.join(record.get('models') or [])}; {abc.get('replicates', '?')} independent runs per model of "
        f"{abc.get('population_size', '?')} particles, {abc.get('runs_per_estimate', '?')} "
        f"{'run' if abc.get('runs_per_estimate') == 1 else 'runs'} per likelihood estimate, "
        f"{size.get('firms', '?')} firms"
    )
    shares = list((record.get("distinct_share") or {}).values())
    degenerate = not shares or min(shares) < 0.8
    r_hat = disagreeing_runs(record)
    disagree = (
        " Its independent runs disagree (largest R-hat across the runs: "
        + ", ".join(f"{m} {v:.2f}" for m, v in r_hat.items())
        + "; above 1.01 the runs have not found the same posterior), so its posterior intervals are"
        " narrower than the data allow."
        if r_hat
        else ""
    )
    blocks = [
        para(
            "On the current model there is so far only a reduced fit (",
            Code(rel(folder)),
            f"; {settings}; below the shipped settings"
            + (", so its particles are degenerate" if degenerate else "")
            + f": distinct final particles {distinct or 'not recorded'}, where 0.8 is the aim). "
            + (record.get("model_choice") or "It records no model-choice statement.")
            + fit_probability(record.get("bayes_factor_s0_s1"))
            + disagree
            + " The report's runs above and below still draw from the shipped posterior.",
            cls="warning",
        )
    ]
    return blocks + predictive_blocks(folder)


def predictive_blocks(folder: Path) -> list:
    """Whether each table passes the posterior predictive check (p >= 0.05), from the checks on fresh
    runs (``ppc_fresh.csv``: posterior draws run again on new seeds) when the record has them, the
    particles' stored statistics shown beside them as optimistic; a record with only ``ppc.csv`` says
    that its checks are optimistic (issue 25)."""
    from ...calibration.results import failing_text

    fresh, _ = read_csv(folder / "ppc_fresh.csv")
    if fresh is not None and {"model", "table", "p_value"} <= set(fresh.columns):
        draws = f"{int(fresh['draws'].max())} " if "draws" in fresh else ""
        keep = [c for c in ("model", "table", "p_value", "misfit_p_value", "p_value_stored") if c in fresh]
        shown = fresh[keep].rename(
            columns={
                "p_value": "p (fresh runs)",
                "misfit_p_value": "misfit p of the mean shares (fresh runs)",
                "p_value_stored": "p (stored statistics, optimistic)",
            }
        )
        for c in shown.columns[2:]:
            shown[c] = [f"{p:.2g}" for p in shown[c]]
        return [
            para(
                f"Posterior predictive checks on fresh runs ({draws}posterior draws per model, each run again on a "
                "seed the fit never used; ",
                Code(rel(folder / "ppc_fresh.csv")),
                "). "
                + failing_text(fresh)
                + " The p-values from the particles' stored statistics are shown beside them as optimistic: "
                "those runs are the lucky ones whose likelihood estimates kept the particles alive.",
            ),
            Table(shown, left=2),
        ]
    stored, _ = read_csv(folder / "ppc.csv")
    if stored is not None and {"model", "table", "p_value"} <= set(stored.columns):
        return [
            para(
                "Posterior predictive checks from the stored statistics only (optimistic: the runs whose lucky "
                "likelihood estimates kept the particles alive; this record has no checks on fresh runs). "
                + failing_text(stored),
                cls="warning",
            )
        ]
    return []


#: Columns of ``transient.csv`` (``statebiz calibrate FILE --transient-of POSTERIOR``) that the report reads.
TRANSIENT_COLUMNS = {"model", "table", "cell", "runs", "bias_pp", "bias_q05_pp", "bias_q95_pp", "beyond_margin"}


def transient_blocks(folder: Path) -> list:
    """What the burn-in leaves at the fit's survey quarter, from ``transient.csv`` and its
    ``transient_manifest.json`` next to the record (``statebiz calibrate FILE --transient-of POSTERIOR``, copied
    there): per model, Table 6 "satisfied" (the mean of the utilities) at the survey quarter minus its long-run
    level, with its interval over runs, and the cells surely beyond the margin. A warning when any cell is, and
    when the measurement is of another model version or another posterior; a plain note when there is none."""
    table, why = read_csv(folder / "transient.csv")
    doc = read_record(folder / "transient_manifest.json")
    if table is not None and TRANSIENT_COLUMNS <= set(table.columns) and _transient_problem(table):
        table, why = None, f"{rel(folder / 'transient.csv')} cannot be read ({_transient_problem(table)})"
    if table is None or doc is None or not TRANSIENT_COLUMNS <= set(table.columns):
        missing = why or (
            f"{rel(folder / 'transient_manifest.json')} not found or not a JSON object"
            if doc is None
            else f"columns {', '.join(sorted(TRANSIENT_COLUMNS - set(table.columns)))} missing"
        )
        return [
            para(
                "How far the survey quarter is from the long-run state has not been measured for this record ("
                + missing
                + "; ",
                Code("statebiz calibrate FILE --transient-of POSTERIOR"),
                " measures it): the posterior may have absorbed a transient that no interval below carries.",
                cls="meta",
            )
        ]
    caveats = []
    changed = record_changes(doc)
    if changed and _certified_together(folder / "manifest.json", doc):
        changed = []
    if changed:
        caveats.append(
            f"it was measured on an earlier version of the model (commit {str(doc.get('git_commit', '?'))[:12]}; "
            f"changed since: {', '.join(changed[:4])}{' and more' if len(changed) > 4 else ''})"
        )
    if not _same_medians(folder / "posterior.csv", doc.get("medians")):
        caveats.append(
            f"it was measured at the medians of {doc.get('posterior_file', 'another posterior')}, not this record's"
        )
    window = doc.get("window") or ["?", "?"]
    runs = int(table["runs"].min())
    pieces, beyond = [], []
    for m, g in table.groupby("model", sort=False):
        mean = g[g["cell"].str.startswith("mean of the utilities")]
        if len(mean):
            r = mean.iloc[0]
            pieces.append(f"{m} {r.bias_pp:+.1f} pp [{r.bias_q05_pp:+.1f}, {r.bias_q95_pp:+.1f}]")
        cells = g[~g["cell"].str.startswith("mean of the utilities") & g["beyond_margin"].astype(bool)]
        if len(cells):
            beyond.append(
                f"{m}: "
                + ", ".join(
                    f"Table {t[-1]} {c} {b:+.1f} pp" for t, c, b in zip(cells["table"], cells["cell"], cells["bias_pp"])
                )
            )
    margin = doc.get("margin_pp", 1.0)
    text = (
        f"What the burn-in leaves: at the fit's survey quarter {doc.get('survey_quarter', '?')}, Table 6's "
        f'"satisfied" share (the mean of the four utilities) differs from the same run\'s mean over quarters '
        f"{window[0]}-{window[1]} by {'; '.join(pieces)} (90% intervals over {runs} runs per model from quarter 0, "
        "at each model's posterior medians). "
        + (
            f"Cells whose 90% interval lies beyond ±{margin:g} pp: " + "; ".join(beyond) + ". "
            if beyond
            else f"No fitted cell's 90% interval lies beyond ±{margin:g} pp. "
        )
        + "The fit surveys the model at that quarter, so its parameters have absorbed this bias; no interval in "
        "this report carries it (docs/ODD.md, limitation 23)."
    )
    if caveats:
        text = "Read with care: " + "; ".join(caveats) + ". " + text
    return [
        para(text, " Source: ", Code(rel(folder / "transient.csv")), ".", cls="warning" if beyond or caveats else "")
    ]


def _transient_problem(table: pd.DataFrame) -> str:
    """What makes a transient table unreadable ('' when nothing): text where a name belongs, a non-number
    where a number does, a flag that is not true or false."""
    if not all(table[c].map(lambda v: isinstance(v, str)).all() for c in ("model", "table", "cell")):
        return "model, table and cell must be names"
    for c in ("runs", "bias_pp", "bias_q05_pp", "bias_q95_pp"):
        if not pd.api.types.is_numeric_dtype(table[c]):
            return f"{c} must be numbers"
    if not pd.api.types.is_bool_dtype(table["beyond_margin"]):
        return "beyond_margin must be True or False"
    return ""


def _certified_together(record_path: Path, doc: dict) -> bool:
    """Whether the record at ``record_path`` counts the transient's model version and today's as the same
    model (both among its accepted versions: its fingerprint runs give the same numbers on each,
    ``calibration.equivalence``), so that a measurement on the one holds for the other."""
    from ...io import model_version
    from ...provenance import accepted_versions

    record = read_record(record_path)
    if record is None or not doc.get("model_version"):
        return False
    accepted = accepted_versions(record)
    return str(doc["model_version"]) in accepted and model_version() in accepted


def _same_medians(posterior: Path, medians) -> bool:
    """Whether ``medians`` (model -> parameter -> value, from a transient manifest) are the medians of the
    posterior file ``posterior`` (to 1e-9 relative)."""
    from ...posterior import load_posterior

    if not isinstance(medians, dict) or not medians:
        return False
    try:
        for m, values in medians.items():
            found = load_posterior(posterior, m).median()
            if not isinstance(values, dict) or any(
                not np.isclose(found.get(k, np.nan), v, rtol=1e-9, atol=0.0) for k, v in values.items()
            ):
                return False
    except (OSError, ValueError):  # a posterior that cannot be read cannot be the one measured
        return False
    return True


def _misfit_origin(path: Path) -> str:
    """Which model and which medians the misfit table was computed with, from the manifest the
    ``--misfit-of`` command wrote next to it (empty without one: a fit's own misfit)."""
    import json

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    commit = str(doc.get("git_commit", "unknown"))
    medians = Path(str(doc.get("posterior_file", "?"))).name
    seeds = doc.get("seeds", "?")
    dirty = " (with uncommitted changes)" if "dirty" in commit else ""
    return f", computed on the model at commit {commit[:7]}{dirty}, at the medians of {medians}, {seeds} runs per model"


def _misfit_shown(misfit):
    """The misfit table for the page: numbers to 4 decimals, but p-values to 2 significant digits, so that a
    p of 2e-8 is not shown as 0."""
    shown = misfit.round(4)
    shown["p_value"] = [f"{p:.2g}" for p in misfit["p_value"]]
    return shown
