"""The main job (`statebiz compare`): the report is produced end to end at --quick size, holds
every section, every figure is a valid PNG, the summary's numbers are those of the result
tables, and the paired differences are computed on matched seeds."""

from __future__ import annotations

import html
import json
import re

import numpy as np
import pandas as pd
import pytest

from simulation.cli import main
from simulation.report.content import num, pct, pp, signed
from simulation.report.sections import SECTIONS
from simulation.report.stats import DIFF_OUTCOMES
from simulation.runs.seeds import replication_seeds


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare") / "pvs"
    assert main(["compare", "--quick", "--out", str(out), "--quiet"]) == 0
    return out


def test_report_has_every_section_and_no_external_resource(report_dir):
    page = (report_dir / "report.html").read_text(encoding="utf-8")
    for key in (s.ANCHOR for s in SECTIONS):
        assert f'id="{key}"' in page, key
    order = [page.index(f'id="{s.ANCHOR}"') for s in SECTIONS]
    assert order == sorted(order), "sections out of order"
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', page), "the page must not load anything from outside"
    assert "<link" not in page and "<script" not in page
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) >= 7
    manifest = json.loads((report_dir / "manifest.json").read_text())
    if not manifest["calibrated"]:
        assert "NOT calibrated" in page
    else:
        assert manifest["base_scenario"].endswith("turkestan_calibrated.toml")


def test_the_ends_differ_in_s_only_at_the_same_levers(report_dir):
    """Both ends run with the same Table 4 levers and every other parameter equal; only the
    symbiosis index differs (s = 0 partnership, s = 1 symbiotic), as the manifest, ends.csv
    and the page say."""
    from simulation.report.config import LEVERS

    manifest = json.loads((report_dir / "manifest.json").read_text())
    ends = manifest["ends"]
    assert ends["partnership"]["symbiosis"] == 0.0 and ends["symbiotic"]["symbiosis"] == 1.0
    assert set(LEVERS) >= {"transparency", "audit_rate", "consultation", "support_share", "legal_quality"}
    for lever in LEVERS:
        assert ends["partnership"][lever] == ends["symbiotic"][lever], lever
    assert manifest["ends_differ_only_in"] == ["governance", "symbiosis"]
    table = pd.read_csv(report_dir / "ends.csv").set_index("parameter")
    assert table.loc["symbiosis", "partnership"] == 0.0 and table.loc["symbiosis", "symbiotic"] == 1.0
    assert table.drop(index="symbiosis")["equal"].all() and set(table.index) == {"symbiosis", *LEVERS}
    statements = json.loads((report_dir / "summary.json").read_text())["statements"]
    (design,) = [s for s in statements if s["kind"] == "design"]
    assert "same 9 Table 4 levers" in design["text"] and "differ only in the symbiosis index s" in design["text"]
    page = html.unescape((report_dir / "report.html").read_text(encoding="utf-8"))
    assert design["text"] in page
    # the old preset bundles (transparency 0.7 vs 0.2, consultation 1 vs 0) are gone from the page
    assert "0.7 vs 0.2" not in page and "presets of the same model" not in page


def test_the_shipped_report_is_calibrated(report_dir):
    """With the shipped calibration the report runs on scenarios/turkestan_calibrated.toml and its
    posterior, and says nothing of being uncalibrated (the uncalibrated branch: test_report_posterior)."""
    from simulation.report.config import load_compare

    manifest = json.loads((report_dir / "manifest.json").read_text())
    config = load_compare(quick=True)
    assert manifest["calibrated"] is config.calibrated is True
    assert manifest["base_scenario"] == "scenarios/turkestan_calibrated.toml"
    page = html.unescape(re.sub(r"<[^>]+>", "", (report_dir / "report.html").read_text(encoding="utf-8")))
    assert "NOT calibrated" not in page and "Posterior of s in the fitted model (s free): median" in page
    assert "Model probabilities (equal prior probabilities" in page


def test_along_s_runs_between_the_ends_on_the_paired_seeds(report_dir):
    """The along-s table holds s = 0, 0.5, 1; its ends are the paired runs' means and the runs
    between them use the paired seeds."""
    manifest = json.loads((report_dir / "manifest.json").read_text())
    assert manifest["along_s"] == [0.0, 0.5, 1.0]
    along = pd.read_csv(report_dir / "along_s.csv")
    assert sorted(along["symbiosis"].unique()) == [0.0, 0.5, 1.0]
    for o in ("corruption_incidence", "business_satisfied", "population_satisfied", "hhi", "informality"):
        assert o in set(along["outcome"]), o
    assert {f"regime_{r}" for r in ("suppression", "patronage", "partnership")} <= set(along["outcome"])
    paired = pd.read_parquet(report_dir / "paired_runs.parquet")
    for g, s in (("partnership", 0.0), ("symbiotic", 1.0)):
        row = along[(along["symbiosis"] == s) & (along["outcome"] == "corruption_incidence")].iloc[0]
        assert np.isclose(row["mean"], paired[paired["governance"] == g]["corruption_incidence"].mean())
        assert row["ci_low"] <= row["mean"] <= row["ci_high"]
    runs = pd.read_parquet(report_dir / "along_runs.parquet")
    assert sorted(runs["seed"]) == sorted(manifest["replication_seeds"]["paired"])
    assert (runs["symbiosis"] == 0.5).all()


def _compare_file_like(tmp_path, text: str):
    """A compare file next to the default one (its relative paths resolve), removed by the caller."""
    from simulation.report.config import DEFAULT_FILE

    path = DEFAULT_FILE.parent / f"_test_{tmp_path.name}.toml"
    path.write_text(text)
    return path


def test_the_comparison_sets_s_itself(tmp_path):
    """A part's base may not set s; a base scenario that sets s does not move the ends; values of
    along_s must lie strictly between 0 and 1."""
    from simulation.report.config import DEFAULT_FILE, load_compare
    from simulation.scenario import ScenarioError

    text = DEFAULT_FILE.read_text()
    scenario = tmp_path / "s_scenario.toml"
    scenario.write_text(
        (DEFAULT_FILE.parent.parent / "scenarios" / "turkestan.toml")
        .read_text()
        .replace('governance = "partnership"', 'symbiosis = 0.3\ngovernance = "partnership"')
    )
    cases = {
        "base": text.replace(
            "base = { firms = 3000, residents_per_region = 1000 }",
            "base = { firms = 3000, residents_per_region = 1000, symbiosis = 0.5 }",
        ),
        "along": text.replace("along_s = [0.5]", "along_s = [1.0]"),
        # the base is the scenario file only when no calibrated scenario is named (one is shipped now)
        "scenario": text.replace('"../scenarios/turkestan.toml"', f'"{scenario}"').replace(
            '"../scenarios/turkestan_calibrated.toml"', '"no_such_calibration.toml"'
        ),
    }
    for name, case in cases.items():
        assert case != text, name
        path = _compare_file_like(tmp_path, case)
        try:
            if name == "scenario":
                config = load_compare(path, quick=True)
            else:
                with pytest.raises(ScenarioError, match="symbiosis" if name == "base" else "along_s"):
                    load_compare(path, quick=True)
        finally:
            path.unlink()
    assert config.scenario.params["symbiosis"] == 0.3
    assert [p["symbiosis"] for p in config.ends().values()] == [0.0, 1.0]


def test_every_figure_is_a_valid_nonempty_png(report_dir):
    import matplotlib.image as mpimg

    pngs = sorted(report_dir.glob("*.png"))
    names = {p.name for p in pngs}
    assert {
        "table1_matrix.png",
        "kpi_timeseries.png",
        "along_s.png",
        "counterfactuals.png",
        "survey.png",
        "survey_cells.png",
        "national_corruption_incidence.png",
        "levers.png",
        "regime_map.png",
    } <= names
    for p in pngs:
        data = p.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", p.name
        img = mpimg.imread(p)
        assert img.shape[0] >= 200 and img.shape[1] >= 300, p.name
        assert float(np.std(img)) > 0.01, f"{p.name} is blank"


def test_summary_numbers_are_the_tables_numbers(report_dir):
    statements = json.loads((report_dir / "summary.json").read_text())["statements"]
    findings = [s for s in statements if s["kind"] == "finding"]
    assert len(findings) >= 7
    page = html.unescape((report_dir / "report.html").read_text(encoding="utf-8"))
    checked = 0
    for s in statements:
        assert s["text"] in page
        for ref in s["values"]:
            table = pd.read_csv(report_dir / ref["file"])
            rows = table
            for col, value in ref["where"].items():
                rows = rows[rows[col] == value]
            if ref.get("agg") == "sum":
                actual = rows[ref["column"]].sum()
            else:
                assert len(rows) == 1, ref
                actual = rows[ref["column"]].iloc[0]
            assert np.isclose(float(actual), float(ref["value"]), rtol=1e-9, atol=1e-12), ref
            # and the statement shows that number (in one of the report's formats), so a statement whose
            # text drifted from the table it cites fails here, not only a reference to the wrong row
            v = float(ref["value"])
            shown = {pct(v), pp(v), num(v), signed(v), f"{v:g}", f"{100 * v:+.0f}%", f"{100 * v:.0f}% "}
            assert any(x in s["text"] for x in shown), (ref, s["text"])
            checked += 1
    assert checked >= 30
    # the headline corruption statement quotes the paired-differences table, in percent
    d = pd.read_csv(report_dir / "paired_differences.csv").set_index("outcome")
    corruption = next(s for s in findings if s["text"].startswith("Corruption"))
    assert f"{100 * d.loc['corruption_incidence', 'symbiotic']:.1f}%" in corruption["text"]
    assert f"{100 * d.loc['corruption_incidence', 'difference']:+.1f} pp" in corruption["text"]


def test_paired_differences_are_computed_on_matched_seeds(report_dir):
    """Every (draw, replication) unit runs on its own seed in every arm; the paired difference's
    interval is the 2.5th-97.5th percentile over the draws x seeds; sd^2 = the parameters' part
    (between-draw variance of the per-draw means less W / R) + the seeds' part W (mean
    within-draw variance), each part's share reported."""
    manifest = json.loads((report_dir / "manifest.json").read_text())
    runs = pd.read_parquet(report_dir / "paired_runs.parquet")
    part = manifest["parts"]["paired"]
    draws, reps = part["draws"], part["seeds_per_draw"]
    seeds = replication_seeds(manifest["root_seed"], draws * reps)
    assert manifest["replication_seeds"]["paired"] == seeds
    for g in ("calibrated", "partnership", "symbiotic"):
        arm = runs[runs["governance"] == g].sort_values(["draw", "replication"])
        assert arm["seed"].tolist() == seeds, g  # unit d * R + r runs on the same seed in every arm
    per_seed = pd.read_csv(report_dir / "per_seed.csv").sort_values(["draw", "replication"])
    assert per_seed["seed"].tolist() == seeds
    a = runs[runs["governance"] == "partnership"].set_index("seed").loc[seeds]
    b = runs[runs["governance"] == "symbiotic"].set_index("seed").loc[seeds]
    diffs = pd.read_csv(report_dir / "paired_differences.csv").set_index("outcome")
    assert set(diffs.index) == set(DIFF_OUTCOMES)
    for o in DIFF_OUTCOMES:
        d = b[o].to_numpy() - a[o].to_numpy()
        assert np.allclose(per_seed[f"{o}_diff"].to_numpy(), d), o
        x = d.reshape(draws, reps)
        w = x.var(axis=1, ddof=1).mean()
        param = max(x.mean(axis=1).var(ddof=1) - w / reps, 0.0) if draws > 1 else 0.0
        assert np.isclose(diffs.loc[o, "difference"], d.mean()), o
        assert np.isclose(diffs.loc[o, "ci_low"], np.percentile(d, 2.5)), o
        assert np.isclose(diffs.loc[o, "ci_high"], np.percentile(d, 97.5)), o
        total = param + w
        if total > 0:
            assert np.isclose(diffs.loc[o, "share_parameters"], param / total), o
    # lever effects are paired too: every (arm, lever, draw, replication) has its low and high run on one seed
    lever_runs = pd.read_parquet(report_dir / "lever_runs.parquet")
    per_pair = lever_runs.groupby(["governance", "lever", "draw", "replication"])["seed"].agg(["nunique", "size"])
    assert (per_pair["nunique"] == 1).all() and (per_pair["size"] == 2).all()


def test_survey_and_table1_tables_are_complete(report_dir):
    from simulation.observe.survey import TABLES, observed_tables, table_totals

    survey = pd.read_csv(report_dir / "survey_summary.csv")
    observed = table_totals(observed_tables())
    for name in TABLES:
        assert survey[survey["table"] == name].sort_values("answer_index")["observed"].tolist() == observed[name]
    for g in ("calibrated", "partnership", "symbiotic"):
        assert (survey[f"{g}_p05"] <= survey[f"{g}_median"]).all() and (
            survey[f"{g}_median"] <= survey[f"{g}_p95"]
        ).all()
    t1 = pd.read_csv(report_dir / "table1.csv")
    assert len(t1) == 2 * 4 * 6
    shares = t1.dropna(subset=["share"]).groupby(["governance", "quadrant"])["share"].sum()
    # 4-quarter means: a quarter in which a quadrant is empty counts 0, so a sum may fall a little short of 1
    assert ((shares > 0.9) & (shares <= 1 + 1e-9)).all()
    assert (t1.groupby(["governance", "quadrant"])["dominant"].sum() <= 1).all()


def test_refuses_to_overwrite_and_rejects_a_bad_file(report_dir, tmp_path, capsys):
    before = (report_dir / "report.html").stat().st_mtime_ns
    assert main(["compare", "--quick", "--out", str(report_dir), "--quiet"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (report_dir / "report.html").stat().st_mtime_ns == before
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nscenario = "../scenarios/turkestan.toml"\nseed = 1\nreplicatons = 3\n')
    assert main(["compare", str(bad), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "replicatons" in err and "bad.toml" in err
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------ the page as components

EVIL = '<script>alert(1)</script> "quoted" & co'


def _context_from(report_dir, out_dir, config):
    """A report context rebuilt from the files of a written report (no model run)."""
    from simulation.report.content import ReportContext

    tables = {
        "per_seed": "per_seed.csv",
        "differences": "paired_differences.csv",
        "timeseries": "timeseries_summary.csv",
        "table1": "table1.csv",
        "survey": "survey_summary.csv",
        "survey_cells": "survey_cells.csv",
        "counterfactuals": "counterfactuals.csv",
        "national": "national.csv",
        "levers": "lever_effects.csv",
        "along": "along_s.csv",
        "ends": "ends.csv",
    }
    return ReportContext(
        config,
        out_dir,
        tables={k: pd.read_csv(report_dir / f) for k, f in tables.items()},
        runs={"regime_map": pd.read_parquet(report_dir / "regime_map_runs.parquet")},
        run_wall=1.0,
    )


def test_user_text_is_escaped_in_the_page(report_dir, tmp_path):
    """A scenario's and the compare file's name and description, file names, provenance comments
    and the command never reach the page as markup."""
    import dataclasses
    from pathlib import Path

    from simulation.report import html as report_html
    from simulation.report.config import load_compare
    from simulation.report.sections import draw
    from simulation.report.sections.summary import statements

    config = load_compare(quick=True)
    config = dataclasses.replace(
        config,
        name=EVIL,
        description=EVIL,
        path=Path(tmp_path / f"{EVIL}.toml"),
        scenario=dataclasses.replace(config.scenario, name=EVIL, description=EVIL),
        provenance=[EVIL, *config.provenance],
    )
    ctx = _context_from(report_dir, tmp_path, config)
    draw(ctx)
    t = ctx.tables
    ctx.statements = statements(
        t["differences"], t["table1"], t["survey"], t["levers"], config.calibrated, 8, ends=t["ends"], along=t["along"]
    )
    ctx.manifest = json.loads((report_dir / "manifest.json").read_text()) | {"command": EVIL, "host": EVIL}
    ctx.files = sorted([p.name for p in report_dir.iterdir()] + [EVIL])
    page = report_html.render(ctx)
    (tmp_path / "report.html").write_text(page, encoding="utf-8")

    assert "<script" not in page and "alert(1)</script>" not in page and '"quoted"' not in page
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; &#34;quoted&#34; &amp; co"
    # description: under the title and in the methods table (scenario and compare file); name: both
    # rows; file names: the compare file and the list of files; provenance; command; host
    assert page.count(escaped) >= 8, page.count(escaped)
    assert " & co" not in page
    assert html.unescape(page).count(EVIL) == page.count(escaped)


def test_the_section_list_drives_the_page(report_dir, monkeypatch):
    """Every section's anchor appears once as a heading and once in the table of contents, in
    list order; a module added to the list is on the page with nothing else changed."""
    from types import SimpleNamespace

    from simulation.report import sections
    from simulation.report.content import ReportContext, SectionContent, para

    page = (report_dir / "report.html").read_text(encoding="utf-8")
    anchors = [s.ANCHOR for s in SECTIONS]
    assert len(set(anchors)) == len(anchors)
    for a in anchors:
        assert page.count(f'id="{a}"') == 1 and page.count(f'href="#{a}"') == 1, a
    assert [page.index(f'href="#{a}"') for a in anchors] == sorted(page.index(f'href="#{a}"') for a in anchors)

    extra = SimpleNamespace(
        ANCHOR="extra",
        TITLE="An extra section: <new>",
        build=lambda ctx: SectionContent("extra", "An extra section: <new>", [para("Hello & bye")]),
    )
    order = [extra, sections.summary]
    monkeypatch.setattr(sections, "SECTIONS", order)
    from simulation.report import html as report_html

    ctx = ReportContext(None, report_dir, tables={}, runs={}, statements=[{"kind": "finding", "text": "A finding."}])
    ctx_title = SimpleNamespace(title="t", subtitle="s")
    built = sections.build(ctx)
    assert [c.anchor for c in built] == ["extra", "summary"]
    small = report_html.render_sections(ctx_title, built)
    assert (
        small.index('href="#extra"')
        < small.index('href="#summary"')
        < small.index('id="extra"')
        < small.index('id="summary"')
    )
    # numbered in list order (the summary is not numbered); the nav label is the heading up to ':'
    assert ctx.numbers == {"extra": 1} and [c.number for c in built] == [1, None]
    assert '<h2 id="extra">1. An extra section: &lt;new&gt;</h2>' in small and "<p>Hello &amp; bye</p>" in small
    assert '<a href="#extra">1. An extra section</a>' in small
    assert "<li>A finding.</li>" in small


def test_one_section_on_a_hand_made_input(tmp_path):
    """The counterfactuals section on two outcomes: its figure is drawn, its table formats
    shares in percent and differences in pp with each source's share of the width, and the page
    shows both; without a posterior it says that parameter uncertainty is absent."""
    from types import SimpleNamespace

    from simulation.report import html as report_html
    from simulation.report.content import Code, Figure, Para, Table
    from simulation.report.sections import differences

    d = pd.DataFrame(
        {
            "contrast": ["s → 0 (partnership) − calibrated"] * 2,
            "from": ["calibrated"] * 2,
            "to": ["partnership"] * 2,
            "outcome": ["corruption_incidence", "hhi"],
            "label": ["corruption", "HHI <index>"],
            "unit": ["pp", "index 0..1"],
            "from_mean": [0.5, 0.002],
            "to_mean": [0.62, 0.0035],
            "difference": [0.12, 0.0015],
            "ci_low": [0.1, -0.0001],
            "ci_high": [0.14, 0.0031],
            "significant": [True, False],
            "share_parameters": [0.0, 0.0],
            "share_seeds": [1.0, 1.0],
            "draws": [1, 1],
            "seeds": [8, 8],
        }
    )
    config = SimpleNamespace(
        posterior=None,
        paired=SimpleNamespace(replications=8),
        n_draws=lambda part: 1,
        n_seeds=lambda part: 8,
        base_symbiosis=lambda: 0.0,
    )
    draws_seeds = "8 seeds (no posterior: parameters fixed)"
    ctx = SimpleNamespace(
        tables={"counterfactuals": d},
        out_dir=tmp_path,
        sub_paired="hand-made",
        figures={},
        title="t",
        subtitle="s",
        config=config,
        posterior_name="docs/calibration/posterior.csv",
        draws_seeds=lambda part: draws_seeds,
    )
    ctx.figures[differences.ANCHOR] = differences.draw(ctx)
    assert (tmp_path / "counterfactuals.png").read_bytes()[:4] == b"\x89PNG"
    content = differences.build(ctx)
    assert (content.anchor, content.title) == ("differences", differences.TITLE)
    assert [type(b) for b in content.blocks] == [Para, Para, Para, Figure, Table]
    assert content.blocks[1].cls == "warning" and "parameter uncertainty is ABSENT" in "".join(
        map(str, content.blocks[1].parts)
    )
    assert Code("counterfactuals.csv") in content.blocks[2].parts
    (table,) = content.tables
    assert table.columns == ["outcome", "calibrated", "s → 0 (partnership) − calibrated"]
    assert table.rows == [
        ["corruption", "50.0%", "+12.0 pp [+10.0 pp, +14.0 pp] (0%)"],
        ["HHI <index>", "0.002", "+0.0015 [-0.0001, +0.0031] (0%)"],
    ]
    page = report_html.render_sections(ctx, [content])
    assert '<td class="l">HHI &lt;index&gt;</td>' in page and "<td>+12.0 pp [+10.0 pp, +14.0 pp] (0%)</td>" in page
    assert "<code>counterfactuals.csv</code>" in page and 'src="data:image/png;base64,' in page


def test_the_report_says_plainly_when_the_posterior_was_fitted_to_an_earlier_model(tmp_path):
    from types import SimpleNamespace

    from simulation.io import git_commit, model_version
    from simulation.report.sections.summary import _calibration_stale

    (tmp_path / "posterior.csv").write_text("")
    ctx = SimpleNamespace(config=SimpleNamespace(posterior=SimpleNamespace(path=tmp_path / "posterior.csv")))

    def stale(record):
        (tmp_path / "manifest.json").write_text(json.dumps(record))
        return _calibration_stale(ctx)

    assert stale({"model_version": model_version(), "git_commit": "0" * 40}) is None
    assert "NOT RECALIBRATED" in stale({"model_version": "0" * 16, "git_commit": "0" * 40})
    # an older record without a model version: git tells which model files changed since its commit
    from simulation.io import model_changes_since

    changed = model_changes_since("0f485d5")  # before this round's PPP mechanism
    if changed is None:
        pytest.skip("no git history here to tell what changed")
    assert "submodels/ppp.py" in changed and "app/pages.py" not in changed  # the app changes no run
    assert "NOT RECALIBRATED" in stale({"git_commit": "0f485d5"})
    head = git_commit().removesuffix("+dirty")
    if head != "unknown" and not git_commit().endswith("+dirty"):
        assert stale({"git_commit": head}) is None


def test_a_records_model_changes_come_from_git_when_it_can_tell():
    """A record is on the current model when its model version is today's, or when git finds no model file
    changed since its commit (a record's version was hashed over the files of its day); a record made with
    uncommitted edits is judged by its version alone."""
    from simulation.io import git_commit, model_changes_since, model_version
    from simulation.report.content import record_changes

    assert record_changes({"model_version": model_version(), "git_commit": "0" * 40}) == []
    assert record_changes({"model_version": "0" * 16, "git_commit": "0" * 40}) == ["the model's source"]
    if model_changes_since("0f485d5") is None:
        pytest.skip("no git history here to tell what changed")
    assert "submodels/ppp.py" in record_changes({"model_version": "0" * 16, "git_commit": "0f485d5"})
    assert record_changes({"model_version": "0" * 16, "git_commit": "0f485d5+dirty"}) == ["the model's source"]
    head = git_commit()
    if head != "unknown" and not head.endswith("+dirty"):
        assert record_changes({"model_version": "0" * 16, "git_commit": head}) == []


def test_a_fit_on_the_current_model_is_shown_beside_a_stale_record_and_an_old_one_is_not(tmp_path):
    """The posterior section adds a current-model fit's statement and its checks on fresh runs, labelled as
    a reduced fit; a folder whose record is an earlier model's adds nothing."""
    from simulation.io import model_version
    from simulation.report.sections.posterior import current_fit_blocks

    current, old = tmp_path / "current", tmp_path / "old"
    for folder, version in ((current, model_version()), (old, "0" * 16)):
        folder.mkdir()
        record = {
            "model_version": version,
            "git_commit": "0" * 40,
            "models": ["partnership", "symbiotic"],
            "abc": {"replicates": 5, "population_size": 24, "runs_per_estimate": 1},
            "model_settings": {"firms": 1000},
            "distinct_share": {"partnership": 0.37, "symbiotic": 0.28},
            "model_choice": "the interval contains 1, so the data cannot tell the models apart.",
            "r_hat_max": {"partnership": 1.73, "symbiotic": 1.005},
        }
        (folder / "manifest.json").write_text(json.dumps(record))
        pd.DataFrame(
            {"model": ["partnership"], "table": ["table8"], "p_value": [0.01], "draws": [32], "misfit_p_value": [0.2]}
        ).to_csv(folder / "ppc_fresh.csv", index=False)
    assert current_fit_blocks([old]) == []
    blocks = current_fit_blocks([old, current])
    text = " ".join(str(part) for part in blocks[0].parts)
    assert "reduced fit" in text and "cannot tell the models apart" in text and "partnership 0.37" in text
    assert "1 run per likelihood estimate" in text and "1000 firms" in text
    assert "runs disagree" in text and "partnership 1.73" in text and "degenerate" in text
    # runs that agree (R-hat at most 1.01) and 80% distinct particles: neither warning
    record = json.loads((current / "manifest.json").read_text())
    record |= {"r_hat_max": {"partnership": 1.004, "symbiotic": 1.01}, "distinct_share": {"partnership": 0.85}}
    (current / "manifest.json").write_text(json.dumps(record))
    agreed = " ".join(str(part) for part in current_fit_blocks([current])[0].parts)
    assert "disagree" not in agreed and "degenerate" not in agreed and "partnership 0.85" in agreed
    assert "P(s = 0 model)" not in agreed  # a record without the pooled estimator's interval shows none
    record["bayes_factor_s0_s1"] = {
        "estimator": "pooled evidences",
        "p_partnership": 0.4654,
        "p_partnership_q05": 0.0582,
        "p_partnership_q95": 0.9996,
    }
    (current / "manifest.json").write_text(json.dumps(record))
    pooled = " ".join(str(part) for part in current_fit_blocks([current])[0].parts)
    assert "P(s = 0 model) = 0.47 (90% bootstrap interval over the independent runs 0.06 to 1.00)" in pooled
    checks = " ".join(str(part) for part in blocks[1].parts)
    assert "fresh runs" in checks and "partnership: table8" in checks


def test_the_validation_at_a_current_model_fit_is_shown_beside_a_stale_posterior(tmp_path, monkeypatch):
    """Beside a validation at a posterior fitted to an earlier model, the validation section shows the same
    figures at the current model's reduced fit, one column pair per model, and counts the consistent ones;
    a result made on an earlier model is left out, and nothing is added when the posterior is current."""
    from types import SimpleNamespace

    from simulation.io import model_version
    from simulation.report.sections import validation

    figures = pd.DataFrame(
        {
            "figure": ["a", "b"],
            "label": ["Figure A", "Figure B"],
            "scenario": ["turkestan", "national"],
            "published": [0.27, 0.49],
            "bound": ["", "at least"],
            "simulated": [0.25, 0.66],
            "simulated_low": [0.10, 0.50],
            "simulated_high": [0.40, 0.80],
            "verdict": ["consistent", "model higher"],
        }
    )
    for model, version in (("partnership", model_version()), ("symbiotic", "0" * 16)):
        d = tmp_path / f"reduced_{model}"
        d.mkdir()
        record = {"model_version": version, "git_commit": "0" * 40, "design": {"draws": 10, "seeds": 2}}
        (d / "manifest.json").write_text(json.dumps(record))
        figures.to_csv(d / "figures.csv", index=False)
        for name in ("quantities", "regions", "rankings"):
            (d / f"{name}.csv").write_text("x\n")
    ctx = SimpleNamespace(config=None)
    monkeypatch.setattr(validation, "calibration_stale", lambda config: "NOT RECALIBRATED")
    blocks = validation.current_validation_blocks(ctx, tmp_path)
    text = " ".join(str(part) for part in blocks[0].parts)
    assert "partnership 1 of 2 (10 draws × 2 seeds)" in text and "symbiotic" not in text
    table = blocks[1].frame
    assert list(table["partnership: verdict"]) == ["consistent", "model higher"]
    assert list(table["published"]) == ["27.0%", ">= 49.0%"]
    monkeypatch.setattr(validation, "calibration_stale", lambda config: None)
    assert validation.current_validation_blocks(ctx, tmp_path) == []


def test_current_model_validations_take_each_model_from_the_first_folder_that_has_a_current_result(
    tmp_path, monkeypatch
):
    """Folders are searched in order, per model: a newer folder's current result wins, a model it lacks (or
    holds only on an earlier model) comes from the next folder, and a stale result is never shown."""
    from types import SimpleNamespace

    from simulation.io import model_version
    from simulation.report.sections import validation

    def result(folder, model, version, figure):
        d = folder / f"reduced_{model}"
        d.mkdir(parents=True)
        (d / "manifest.json").write_text(json.dumps({"model_version": version, "git_commit": "0" * 40}))
        row = {"figure": [figure], "label": [figure], "scenario": ["turkestan"], "published": [0.27], "bound": [""]}
        row |= {"simulated": [0.25], "simulated_low": [0.1], "simulated_high": [0.4], "verdict": ["consistent"]}
        pd.DataFrame(row).to_csv(d / "figures.csv", index=False)
        for name in ("quantities", "regions", "rankings"):
            (d / f"{name}.csv").write_text("x\n")

    new, old = tmp_path / "new", tmp_path / "old"
    result(new, "partnership", model_version(), "from new")
    result(new, "symbiotic", "0" * 16, "stale in new")
    result(old, "partnership", model_version(), "from old")
    result(old, "symbiotic", model_version(), "symbiotic from old")
    found = validation.current_model_validations((new, old))
    assert list(found["partnership"]["figures"]["figure"]) == ["from new"]
    assert list(found["symbiotic"]["figures"]["figure"]) == ["symbiotic from old"]
    assert set(validation.current_model_validations(new)) == {"partnership"}
    # the section names the folders its results came from (a tuple of folders, as the report passes them)
    monkeypatch.setattr(validation, "calibration_stale", lambda config: "NOT RECALIBRATED")
    blocks = validation.current_validation_blocks(SimpleNamespace(config=None), (new, old))
    text = " ".join(str(part) for part in blocks[0].parts)
    assert str(new) in text and str(old) in text


def test_the_first_screen_holds_the_headline_numbers_of_the_table(report_dir, tmp_path):
    """The report opened in Chromium at 1280×900: without scrolling, the question, the answer, the
    headline differences with their intervals, their figure and the caveats are in view, and every
    headline number is the one in paired_differences.csv (as the report formats it). The same
    numbers are in first_screen.txt, the terminal's version of the screen."""
    from simulation.report.content import fmt_diff, fmt_value
    from simulation.report.sections.headline import HEADLINE
    from tests.app.test_app_browser import ARGS, CHROMIUM, _require_browser

    _require_browser()
    from playwright.sync_api import sync_playwright

    d = pd.read_csv(report_dir / "paired_differences.csv").set_index("outcome")
    expected = {}
    for o in HEADLINE:
        r = d.loc[o]
        expected[r["label"]] = [
            fmt_value(r["partnership"], r["unit"]),
            fmt_value(r["symbiotic"], r["unit"]),
            fmt_diff(r["difference"], r["unit"]),
            f"{fmt_diff(r['ci_low'], r['unit'])} to {fmt_diff(r['ci_high'], r['unit'])}",
        ]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto((report_dir / "report.html").as_uri())
            glance = page.locator("section", has=page.locator("h2#glance"))
            rows = glance.locator("table tbody tr")
            shown = {}
            for i in range(rows.count()):
                cells = [c.strip() for c in rows.nth(i).locator("td").all_inner_texts()]
                shown[cells[0]] = cells[1:]
                assert rows.nth(i).bounding_box()["y"] + rows.nth(i).bounding_box()["height"] <= 900
            assert shown == expected
            for what in ("p.question", "p.answer", "figure img", "p.caveat"):
                box = glance.locator(what).first.bounding_box()
                assert box is not None and box["y"] + box["height"] <= 900, what
            warnings = glance.locator("p.warning")
            for i in range(warnings.count()):  # NOT RECALIBRATED and the like stay on the first screen
                box = warnings.nth(i).bounding_box()
                assert box["y"] + box["height"] <= 900
            page.screenshot(path=str(tmp_path / "first_screen.png"))
        finally:
            browser.close()
    text = (report_dir / "first_screen.txt").read_text(encoding="utf-8")
    for label, values in expected.items():
        assert label in text and all(v in text for v in values), (label, values)
