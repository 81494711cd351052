"""Validation out of sample: the calibrated model against published Kazakhstan figures it was not
fitted to, and its prediction of the 20 regions' ranking (written by ``statebiz validate``; this
section shows that result, it does not run it)."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import pandas as pd

from ...io import atomic_write_bytes
from ...runs.spec import REPO_ROOT
from ...studies.validation import read_result
from ..content import (
    Bullets,
    Code,
    Figure,
    ReportContext,
    SectionContent,
    Table,
    _pieces,
    calibration_stale,
    para,
    record_changes,
    rel,
)

ANCHOR = "validation"
TITLE = "Validation out of sample: published Kazakhstan figures and the regional ranking"
#: Validations at a fit on the current model that is not the shipped one (``reduced_<model>`` folders written by
#: ``statebiz validate``; docs/calibration/MEASURED.md 11, 15 and 16), shown when the shipped record is an earlier
#: model's; per model, the first folder whose result no model change has made stale.
CURRENT_MODEL_VALIDATIONS = (
    REPO_ROOT / "docs" / "calibration" / "measured" / "validation_reduced_k4",
    REPO_ROOT / "docs" / "calibration" / "measured" / "validation_reduced",
)
#: The figures of ``statebiz validate``, copied next to the report under these names.
FIGURES = {"figures.png": "validation_figures.png", "ranking.png": "validation_ranking.png"}


def _result(ctx: ReportContext) -> dict | None:
    part = getattr(ctx.config, "validation", None)
    if part is None:
        return None
    if "_validation" not in ctx.runs:  # read once, shared by draw and build
        ctx.runs["_validation"] = read_result(part.results)
    return ctx.runs["_validation"]


def draw(ctx: ReportContext) -> dict[str, Figure]:
    """Copy ``figures.png`` and ``ranking.png`` of the validation result next to the report."""
    res = _result(ctx)
    if res is None:
        return {}
    out = {}
    captions = {
        "figures.png": "Published Kazakhstan figures (not fitted) against the simulated values",
        "ranking.png": "The 20 regions ranked by the model, with the independent ranking's classes",
    }
    for name, target in FIGURES.items():
        src = Path(res["dir"]) / name
        if src.is_file():
            atomic_write_bytes(ctx.out_dir / target, src.read_bytes())
            out[name] = Figure(ctx.out_dir / target, captions[name])
    return out


def _pct(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{100 * float(x):.1f}%"


def _pp(x) -> str:
    return "n/a" if not math.isfinite(float(x)) else f"{float(x):+.1f}"


def figures_table(f: pd.DataFrame) -> Table:
    """Per published figure and scenario: published value [approx. interval], n, simulated median
    [90%], difference in pp [90%], verdict."""
    pub = []
    for _, r in f.iterrows():
        text = (">= " if isinstance(r["bound"], str) and r["bound"] else "") + _pct(r["published"])
        if math.isfinite(r["published_low"]):
            text += f" [{_pct(r['published_low'])}, {_pct(r['published_high'])}]"
        pub.append(text)
    frame = pd.DataFrame(
        {
            "published figure": f["label"],
            "scenario": f["scenario"],
            "published [approx. 90%]": pub,
            "n": [
                f"{int(n):,}" if isinstance(n, (int, float)) and math.isfinite(n) else "unknown"
                for n in f["published_n"]
            ],
            "simulated median [90%]": [
                f"{_pct(m)} [{_pct(a)}, {_pct(b)}]"
                for m, a, b in zip(f["simulated"], f["simulated_low"], f["simulated_high"])
            ],
            "simulated − published, pp [90%]": [
                f"{_pp(m)} [{_pp(a)}, {_pp(b)}]"
                for m, a, b in zip(f["difference_pp"], f["difference_low_pp"], f["difference_high_pp"])
            ],
            "verdict": f["verdict"],
        }
    )
    return Table(frame, left=2)


def regions_table(reg: pd.DataFrame, primary: str | None) -> Table:
    """The 20 regions in the order of their median corruption incidence: values and ranks with intervals."""
    frame = pd.DataFrame(
        {
            "#": reg["rank_of_median_corruption_incidence"],
            "region": reg["name"],
            "corruption incidence [90%]": [
                f"{_pct(m)} [{_pct(a)}, {_pct(b)}]"
                for m, a, b in zip(
                    reg["corruption_incidence"], reg["corruption_incidence_low"], reg["corruption_incidence_high"]
                )
            ],
            "rank [90%]": [
                f"{m:.0f} [{a:.0f}, {b:.0f}]"
                for m, a, b in zip(
                    reg["rank_corruption_incidence"],
                    reg["rank_corruption_incidence_low"],
                    reg["rank_corruption_incidence_high"],
                )
            ],
            "business satisfied [90%]": [
                f"{_pct(m)} [{_pct(a)}, {_pct(b)}]"
                for m, a, b in zip(
                    reg["business_satisfied"], reg["business_satisfied_low"], reg["business_satisfied_high"]
                )
            ],
            "rank [90%] ": [
                f"{m:.0f} [{a:.0f}, {b:.0f}]"
                for m, a, b in zip(
                    reg["rank_business_satisfied"],
                    reg["rank_business_satisfied_low"],
                    reg["rank_business_satisfied_high"],
                )
            ],
            **({"independent class": reg[primary]} if primary and primary in reg else {}),
        }
    )
    return Table(frame, left=2)


def rankings_table(rk: pd.DataFrame) -> Table:
    """Spearman's rho per independent ranking and outcome, with the permutation null."""
    frame = pd.DataFrame(
        {
            "independent ranking": rk["label"],
            "simulated outcome": rk["outcome"].str.replace("_", " "),
            "regions": rk["regions"],
            "expected sign": rk["expected_sign"],
            "rho per run: median [90%]": [
                f"{m:+.2f} [{a:+.2f}, {b:+.2f}]" for m, a, b in zip(rk["rho_median_run"], rk["rho_low"], rk["rho_high"])
            ],
            "rho of the medians": [f"{x:+.2f}" for x in rk["rho_of_medians"]],
            "classes shuffled: 90%": [f"[{a:+.2f}, {b:+.2f}]" for a, b in zip(rk["null_low"], rk["null_high"])],
            "one-sided p": [f"{x:.2f}" for x in rk["p_one_sided"]],
        }
    )
    return Table(frame, left=2)


def current_model_validations(folders=CURRENT_MODEL_VALIDATIONS) -> dict[str, dict]:
    """model -> the validation result at a fit on the current model (``<folder>/reduced_<model>``, the first of
    ``folders``, a folder or several, that has one), for the models whose result exists and whose record no
    model change has made stale."""
    out = {}
    for folder in [folders] if isinstance(folders, str | Path) else folders:
        for model in ("partnership", "symbiotic", "fitted"):
            res = None if model in out else read_result(Path(folder) / f"reduced_{model}")
            if res is not None and record_changes(res["manifest"]) == []:
                out[model] = res
    return out


def current_validation_blocks(ctx: ReportContext, folder=CURRENT_MODEL_VALIDATIONS) -> list:
    """Beside a validation at a posterior fitted to an earlier model: the same figures at the reduced fit on
    the current model, one column pair per model (simulated median [90%] and verdict), and how many are
    consistent. Nothing when the shipped posterior is current or no such result exists."""
    if calibration_stale(ctx.config) is None:
        return []
    found = current_model_validations(folder)
    if not found:
        return []
    first = next(iter(found.values()))["figures"]
    frame = pd.DataFrame({"published figure": first["label"], "scenario": first["scenario"]})
    frame["published"] = [
        (">= " if isinstance(b, str) and b else "") + _pct(v) for v, b in zip(first["published"], first["bound"])
    ]
    counts = []
    for model, res in found.items():
        f = (
            res["figures"]
            .set_index(["figure", "scenario"])
            .reindex(pd.MultiIndex.from_frame(first[["figure", "scenario"]]))
        )
        sims = zip(f["simulated"], f["simulated_low"], f["simulated_high"])
        frame[f"{model}: simulated [90%]"] = [f"{_pct(m)} [{_pct(a)}, {_pct(b)}]" for m, a, b in sims]
        frame[f"{model}: verdict"] = f["verdict"].fillna("not run").to_numpy()
        design = res["manifest"].get("design", {})
        counts.append(
            f"{model} {int((f['verdict'] == 'consistent').sum())} of {len(f)} "
            f"({design.get('draws')} draws × {design.get('seeds')} seeds)"
        )
    used = sorted({rel(Path(res["dir"]).parent) for res in found.values()})
    return [
        para(
            "The posterior above was fitted to an earlier model. At the reduced fit on the current model (",
            *[part for i, d in enumerate(used) for part in ((", " if i else ""), Code(d))],
            "; docs/calibration/MEASURED.md 11, 15 and 16; its settings and particles are in the calibration section), "
            "the same figures, consistent with the published value: " + "; ".join(counts) + ".",
            cls="warning",
        ),
        Table(frame, left=2),
    ]


def _sha(path: Path | None) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path is not None and path.is_file() else None


def _status(ctx: ReportContext, res: dict) -> list:
    """Warnings: uncalibrated, another posterior than the current one, another commit."""
    m = res["manifest"]
    src = m.get("parameter_source", {})
    out = []
    if not m.get("calibrated"):
        out.append(
            para(
                "UNCALIBRATED: this validation ran at the scenario files' default parameters (no posterior was "
                "given); it says how far the hand-set model lies from the published figures, not how the "
                "calibrated one does.",
                cls="warning",
            )
        )
    part = ctx.config.validation
    current = _sha(part.posterior) if part.posterior is not None else None
    if m.get("calibrated") and part.posterior is not None and current != src.get("posterior_sha256"):
        out.append(
            para(
                f"STALE: the validation used a posterior with sha256 {str(src.get('posterior_sha256'))[:12]}…, "
                + (
                    f"but {rel(part.posterior)} now has {current[:12]}…"
                    if current
                    else f"and {rel(part.posterior)} does not exist now"
                )
                + "; rerun ",
                Code("statebiz validate"),
                ".",
                cls="warning",
            )
        )
    commit = ctx.manifest.get("git_commit") if ctx.manifest else None
    if commit and m.get("git_commit") and commit != m.get("git_commit"):
        out.append(
            para(
                f"Made at commit {str(m.get('git_commit'))[:12]} (this report: {str(commit)[:12]}).",
                cls="meta",
            )
        )
    here = ((ctx.manifest or {}).get("machine") or {}).get("machine_class")
    there = (m.get("machine") or {}).get("machine_class")
    if here and there and here != there:
        out.append(
            para(
                f"The validation ran on another machine class ({there}) than this report's runs ({here}): its "
                "numbers agree with a rerun here to about 1e-14 relative, not bit for bit (README, "
                "Reproducibility across machines).",
                cls="meta",
            )
        )
    return out


def build(ctx: ReportContext) -> SectionContent:
    """What is compared and with what, the two figures, the tables, the sources, what was not found."""
    part = getattr(ctx.config, "validation", None)
    intro = para(
        "Nothing in this section is fitted. The calibration sees only the paper's Turkestan survey "
        "(Tables 5–9); here the calibrated model is asked the questions of other, published Kazakhstan "
        "sources (",
        Code("simulation/data/validation.toml"),
        ", every number with the page it was read in): the World Bank Enterprise Surveys' bribery "
        "incidence (through the same instrument, ",
        Code("simulation/observe/enterprise_survey.py"),
        "), other surveys of entrepreneurs, and an independent ranking of the regions. The national "
        "scenario applies the Turkestan calibration's free parameters to all 20 regions, which then differ "
        "only by their official data; its ranking of the regions is the model's prediction. Intervals are "
        "over posterior draws × seeds; a published figure's own sampling error is added where its sample "
        "size is known (binomial, no design effect: an approximation).",
    )
    if part is None:
        return SectionContent(
            ANCHOR,
            TITLE,
            [intro, para("Not part of this report: the compare file has no [validation] table.", cls="meta")],
            nav_label="Validation out of sample",
        )
    res = _result(ctx)
    if res is None:
        return SectionContent(
            ANCHOR,
            TITLE,
            [
                intro,
                para(
                    f"Not run yet: no validation result in {rel(part.results)}. Run ",
                    Code("statebiz validate"),
                    " (after ",
                    Code("statebiz calibrate"),
                    "; or ",
                    Code("statebiz validate --uncalibrated"),
                    " for the scenario defaults), then this report again.",
                    cls="warning",
                ),
            ],
            nav_label="Validation out of sample",
        )
    m = res["manifest"]
    d = m.get("design", {})
    src = m.get("parameter_source", {})
    figs = ctx.figures.get(ANCHOR, {})
    primary = next((r for r in res["rankings"].itertuples() if bool(r.primary)), None)
    f, rk = res["figures"], res["rankings"]
    sources = {}
    for frame, key in ((f, "label"), (rk, "label")):
        for _, r in frame.iterrows():
            sources.setdefault(r[key], (r["source"], r["url"]))
    blocks = [
        intro,
        *_status(ctx, res),
        para(
            f"Parameters: {src.get('label')}"
            + (
                f" ({rel(src.get('posterior_file'))}, model '{src.get('posterior_model')}')"
                if src.get("posterior_file")
                else ""
            )
            + f"; {d.get('draws')} draws × {d.get('seeds')} seeds per scenario, root seed {m.get('root_seed')}; "
            f"Turkestan {d.get('turkestan_firms'):,} firms, national {d.get('national_firms'):,} firms in 20 regions "
            f"(power spread {d.get('power_spread')}); burn-in {d.get('burn_in')}, {d.get('quarters')} reported "
            f"quarters. Result: {rel(res['dir'])} (",
            Code("figures.csv"),
            ", ",
            Code("regions.csv"),
            ", ",
            Code("rankings.csv"),
            ", …).",
            cls="meta",
        ),
        *([figs["figures.png"]] if "figures.png" in figs else []),
        figures_table(f),
        *current_validation_blocks(ctx),
        para(
            "Verdict: 'consistent' when the difference's 90% interval contains 0; 'structural' when the model "
            "cannot produce the quantity at all (in the model every bribe is demanded by an official). The "
            "mapping from each survey question to a model quantity is ours and is given in the data file.",
            cls="meta",
        ),
        *([figs["ranking.png"]] if "ranking.png" in figs else []),
        regions_table(res["regions"], primary.ranking if primary else None),
        rankings_table(rk),
        para(
            "rho per run: Spearman's rank correlation of one run's regional values with the independent classes "
            "(ties share average ranks), over the regions the independent ranking covers; classes shuffled: the "
            "range of rho when the same classes are assigned to the regions at random (what no agreement looks "
            "like); p: the share of shuffles with a rho at least as far in the expected direction.",
            cls="meta",
        ),
        para("Sources:"),
        Bullets([_pieces((f"{label}: {s}. ", Code(url))) for label, (s, url) in sources.items()]),
    ]
    missing = m.get("not_found") or []
    if missing:
        blocks += [
            para("Searched for and not found (so not shown):"),
            Bullets([_pieces((f"{x['what']}: {x['searched']}.",)) for x in missing], cls="meta"),
        ]
    return SectionContent(ANCHOR, TITLE, blocks, nav_label="Validation out of sample")
