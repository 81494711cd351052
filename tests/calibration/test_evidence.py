"""The calibration's Monte Carlo error and priors, without model runs: the Bayes factor's interval over
independent runs and the statement it makes, the pooled posterior, distinct particles, the pile-at-bound
flag, log-uniform priors over the registered ranges, and independent runs that differ only by seed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation import calibration as cal
from simulation.calibration import results
from simulation.calibration.run import replicate_seed

ROOT = Path(__file__).resolve().parents[2]
CALIBRATION = ROOT / "experiments" / "calibration_turkestan.toml"


def _runs(z0, z1):
    rows = [{"model": "partnership", "run": r, "log_evidence": z} for r, z in enumerate(z0)]
    rows += [{"model": "symbiotic", "run": r, "log_evidence": z} for r, z in enumerate(z1)]
    return pd.DataFrame(rows)


def _lme(z):
    """log(mean(exp(z))) by hand."""
    return float(np.log(np.mean(np.exp(np.asarray(z, dtype=float)))))


def test_the_model_choice_statement_follows_the_bayes_factor_interval():
    """Five runs per model whose log evidences spread by about 2 nats and overlap: the Bayes factor is the ratio of
    the pooled evidences (by hand), the model probabilities of the two follow from it, and the 90%
    bootstrap interval spans 1, so the data cannot tell the models apart; the same runs with s = 1's
    evidences lowered by 10 nats exclude 1 and favour s = 0; raised by 10, s = 1. One run: no Monte
    Carlo error, no statement."""
    z0 = np.array([-100.0, -101.0, -99.5, -100.2, -98.8])
    z1 = np.array([-99.0, -100.5, -100.0, -99.6, -101.2])
    bf = results.bayes_factor(_runs(z0, z1), seed=7)
    assert bf["log_bf"] == pytest.approx(_lme(z0) - _lme(z1), abs=1e-12) and bf["runs"] == 5
    pa, pb = np.exp(_lme(z0)), np.exp(_lme(z1))
    assert bf["p_partnership"] == pytest.approx(pa / (pa + pb), rel=1e-12)
    assert bf["log_bf_q05"] < 0 < bf["log_bf_q95"] and bf["log_bf_q05"] < bf["log_bf"] < bf["log_bf_q95"]
    # the bootstrap cannot leave the range that the runs span: all worst runs of s = 0 against all best of s = 1
    assert z0.min() - z1.max() <= bf["log_bf_q05"] and bf["log_bf_q95"] <= z0.max() - z1.min()
    assert bf["p_partnership_q05"] < 0.5 < bf["p_partnership_q95"]
    assert results.bayes_factor(_runs(z0, z1), seed=7) == bf  # the same seed, the same interval
    assert results.bayes_factor(_runs(z0, z1), seed=8)["log_bf_q05"] != bf["log_bf_q05"]
    text = results.model_choice_statement(bf)
    assert "cannot tell the models apart" in text and "interval contains 1" in text
    assert "luckiest run" not in text  # no run carries half of either pooled evidence
    favour0 = results.model_choice_statement(results.bayes_factor(_runs(z0, z1 - 10)))
    assert "favour the partnership model" in favour0 and "cannot tell" not in favour0
    favour1 = results.model_choice_statement(results.bayes_factor(_runs(z0, z1 + 10)))
    assert "favour the symbiotic model" in favour1
    one = results.model_choice_statement(results.bayes_factor(_runs(z0[:1], z1[:1])))
    assert "no Monte Carlo error" in one
    assert "No comparison" in results.model_choice_statement(results.bayes_factor(_runs(z0, z1)[:5]))


def test_the_bayes_factor_does_not_penalise_a_model_for_its_monte_carlo_noise():
    """Each run's evidence estimate is unbiased for Z, so the mean of the runs' log evidences lies
    below log Z by about half their variance: a model whose runs spread more would lose by its noise.
    The pooled evidence does not: s = 1's runs spread by 12 nats around s = 0's constant value, so the
    mean log Bayes factor would be 0, and the pooled one favours s = 1 (the ratio of the mean
    evidences). Its luckiest run carries most of its pooled evidence, and the statement says so.
    Identical runs give an interval of one point."""
    z0 = np.full(5, -100.0)
    z1 = -100.0 + np.array([3.0, -3.0, 0.0, -6.0, 6.0])
    bf = results.bayes_factor(_runs(z0, z1), seed=3)
    assert bf["log_bf"] == pytest.approx(-np.log(np.mean(np.exp(z1 + 100.0))), abs=1e-12)
    assert bf["log_bf"] < -4.0  # the mean of the log Bayes factors is 0
    assert bf["top_run_share"]["symbiotic"] == pytest.approx(np.exp(6.0) / np.exp(z1 + 100.0).sum())
    assert bf["top_run_share"]["partnership"] == pytest.approx(0.2)
    text = results.model_choice_statement(bf)
    assert "symbiotic model (95% from its luckiest run)" in text and "understates the error" in text
    assert "partnership model (" not in text
    flat = results.bayes_factor(_runs(z0, z0 - 2.0), seed=3)
    assert flat["log_bf_q05"] == pytest.approx(2.0) and flat["log_bf_q95"] == pytest.approx(2.0)
    assert flat["log_bf_sd"] == pytest.approx(0.0, abs=1e-12)


def test_independent_runs_differ_only_by_seed():
    c = cal.load_calibration(CALIBRATION)
    seeds = [replicate_seed(c.seed, r) for r in range(c.abc["replicates"])]
    assert seeds[0] == c.seed and len(set(seeds)) == len(seeds)
    assert seeds == [replicate_seed(c.seed, r) for r in range(c.abc["replicates"])]  # deterministic
    from simulation.calibration.smc import _fit_settings

    obs = cal.observed_statistics()
    a, b = _fit_settings(c, obs), _fit_settings(replace(c, seed=seeds[1]), obs)
    assert {k for k in a if a[k] != b[k]} == {"seed"}


def test_distinct_share_and_the_pooled_evidence():
    u = np.array([[0.1, 0.2], [0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
    assert results.distinct_share(u) == 0.75
    mp = [
        results.ModelPosterior("partnership", 3, ["a"], np.array([[1.0], [2.0]]), np.full(2, 0.5), [{}, {}], 1.0, z)
        for z in (-10.0, -12.0)
    ]

    class Fake:
        pass

    from simulation.calibration import results as r

    orig = r.posterior
    try:
        r.posterior = lambda st, calib: {"partnership": st}
        pooled = r.pooled_posterior(mp, Fake())
    finally:
        r.posterior = orig
    assert pooled["partnership"].log_evidence == pytest.approx(np.log((np.exp(-10) + np.exp(-12)) / 2))
    assert pooled["partnership"].weights.sum() == pytest.approx(1.0) and len(pooled["partnership"].weights) == 4


def test_the_sampler_moves_at_the_final_temperature_until_enough_particles_are_distinct():
    """wants_stage: on while the temperature is above 1; at beta = 1 only while fewer than
    distinct_target of the particles are distinct, and for at most max_final_stages stages."""
    from simulation.calibration.smc import Stage, final_stages, wants_stage

    def stage(k, beta, u):
        u = np.asarray(u, dtype=float)
        return Stage("partnership", k, beta, -5.0, u, np.zeros(len(u)), np.zeros((len(u), 1)), 4.0, 0.2, 8, 0.5)

    copies = [[0.1], [0.1], [0.1], [0.4], [0.5]]  # 3 of 5 distinct
    apart = [[0.1], [0.2], [0.3], [0.4], [0.5]]
    abc = {"distinct_target": 0.8, "max_final_stages": 2}
    assert wants_stage([stage(0, 0.0, apart), stage(1, 0.4, apart)], abc)  # not yet at the posterior
    reached = [stage(0, 0.0, apart), stage(1, 1.0, copies)]
    assert final_stages(reached) == 0 and wants_stage(reached, abc)
    assert not wants_stage(reached, abc | {"distinct_target": 0.6})  # 0.6 distinct: enough
    assert not wants_stage(reached, abc | {"distinct_target": 0.0})  # off (the default)
    assert not wants_stage(reached[:1] + [stage(1, 1.0, apart)], abc)
    two_more = reached + [stage(2, 1.0, copies), stage(3, 1.0, copies)]
    assert final_stages(two_more) == 2 and not wants_stage(two_more, abc)  # the cap
    assert wants_stage(two_more[:-1], abc)


def test_a_fit_moves_on_at_the_final_temperature_until_its_particles_are_distinct(tmp_path, monkeypatch):
    """With a noise-free likelihood in place of the model (a Gaussian on the unit cube): the fit with
    distinct_target = 0.95 is the fit without it up to the stage that reached beta = 1, then goes on
    with stages of moves alone, which keep the evidence and every particle (ESS = n) and raise the
    share of distinct particles until it reaches the target or the cap."""
    from simulation.calibration import smc

    def gaussian(self, u):
        self.simulations += len(u)
        return np.zeros((len(u), 1)), -0.5 * np.sum(((u - 0.4) / 0.05) ** 2, axis=1)

    monkeypatch.setattr(smc.Sampler, "simulate", gaussian)
    c = cal.load_calibration(CALIBRATION)
    small = {"population_size": 40, "max_stages": 60, "max_walltime_minutes": 10.0}
    plain = replace(c, models=["partnership"], abc=c.abc | small)
    more = replace(plain, abc=plain.abc | {"distinct_target": 0.95, "max_final_stages": 10})
    a = cal.fit(plain, tmp_path / "plain.db", backend="serial")["partnership"]
    b = cal.fit(more, tmp_path / "more.db", backend="serial")["partnership"]
    assert a[-1].beta == 1.0 and all(s.beta < 1.0 for s in a[:-1])
    assert smc.distinct_share(a[-1].u) < 0.95  # the plain fit left copies: the test could fail
    for x, y in zip(a, b):
        assert x.beta == y.beta and x.log_evidence == y.log_evidence and np.array_equal(x.u, y.u)
    extra = b[len(a) :]
    shares = [smc.distinct_share(s.u) for s in [a[-1], *extra]]
    assert 1 <= len(extra) <= 10 and shares == sorted(shares) and shares[-1] > shares[0]
    assert shares[-1] >= 0.95 and all(x < 0.95 for x in shares[:-1])  # stops as soon as the target is met
    n = small["population_size"]
    for s in extra:
        assert s.beta == 1.0 and s.log_evidence == a[-1].log_evidence and s.ess == pytest.approx(n)
        assert s.simulations == n * c.abc["moves_per_stage"]
    capped = replace(plain, abc=plain.abc | {"distinct_target": 1.0, "max_final_stages": 1})
    assert len(cal.fit(capped, tmp_path / "capped.db", backend="serial")["partnership"]) == len(a) + 1


def test_registered_priors_are_log_uniform_for_scales_and_flag_a_pile_at_a_bound():
    c = cal.load_calibration(CALIBRATION)
    assert cal.config.is_scale_parameter("experience_scale") and cal.config.is_scale_parameter("moral_cost")
    assert not cal.config.is_scale_parameter("choice_sensitivity")  # starts at 0
    assert not cal.config.is_scale_parameter("business_strength")  # a 0..1 index
    u = np.random.default_rng(0).random((20000, len(c.model_priors("partnership"))))
    x = c.to_values("partnership", u)
    assert np.allclose(c.to_unit("partnership", x), u)
    j = list(c.model_priors("partnership")).index("experience_scale")
    # log-uniform on 0.1..1000: a quarter of the mass in each decade
    assert np.mean(x[:, j] < 1.0) == pytest.approx(0.25, abs=0.01)
    assert np.mean(x[:, j] > 100.0) == pytest.approx(0.25, abs=0.01)
    # a posterior with 60% of its mass in the top tenth of experience_scale's prior is flagged; flat is not
    n = len(u)
    w = np.full(n, 1.0 / n)
    piled = u.copy()
    piled[: int(0.6 * n), j] = 0.95
    for values, flagged in ((x, False), (c.to_values("partnership", piled), True)):
        mp = results.ModelPosterior("partnership", 1, list(c.model_priors("partnership")), values, w, [])
        s = results.posterior_summary({"partnership": mp}, c).set_index("parameter")
        assert bool(s.loc["experience_scale", "piles_at_bound"]) is flagged
        assert s.loc["experience_scale", "prior"] == "loguniform" and s.loc["support_share", "prior"] == "uniform"
        assert not s.drop(index="experience_scale")["piles_at_bound"].any()
    assert s.loc["experience_scale", "mass_top_tenth"] == pytest.approx(0.6 + 0.4 * 0.1, abs=0.01)


def test_a_posterior_piling_at_a_bound_is_read_as_a_one_sided_bound():
    """A pile at the top is read as "at least" its 5% quantile, one at the bottom as "at most" its 95%; an
    older record without the quantiles keeps the plain statement."""
    top = {"model": "symbiotic", "parameter": "experience_scale", "bottom": 0.0, "top": 0.53, "q05": 210.4, "q95": 990}
    bottom = {"model": "symbiotic", "parameter": "support_share", "bottom": 0.42, "top": 0.0}
    bottom |= {"q05": 0.001, "q95": 0.061}
    assert results.pile_reading(top) == "read as at least 210"
    assert results.pile_reading(bottom) == "read as at most 0.061"
    assert results.pile_reading({k: v for k, v in top.items() if k not in ("q05", "q95")}) == ""


def test_a_stored_record_gets_the_pooled_bayes_factor_only_when_asked(tmp_path, capsys):
    """tools/model_choice_again.py prints the stored and the new statement; with --write it replaces the
    Bayes factor and the statement in manifest.json and README.md, and nothing else; a folder without
    replicates.csv is a one-line error (exit 2) and nothing is written."""
    import importlib.util
    import json

    spec = importlib.util.spec_from_file_location("model_choice_again", ROOT / "tools" / "model_choice_again.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    record = tmp_path / "record"
    record.mkdir()
    z0 = np.full(5, -100.0)
    z1 = -100.0 + np.array([3.0, -3.0, 0.0, -6.0, 6.0])
    _runs(z0, z1).to_csv(record / "replicates.csv", index=False)
    manifest = {"seed": 11, "model_choice": "old statement", "bayes_factor_s0_s1": {"bf": 1.0}, "other": [1, 2]}
    (record / "manifest.json").write_text(json.dumps(manifest))
    (record / "README.md").write_text("# Record\n\n- **Model choice**: old statement\n- **Other**: kept\n")
    before = {p.name: p.read_bytes() for p in record.iterdir()}
    assert tool.main([str(record)]) == 0
    assert "old statement" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in record.iterdir()} == before  # printed only
    assert tool.main([str(record), "--write"]) == 0
    doc = json.loads((record / "manifest.json").read_text())
    expected = results.bayes_factor(_runs(z0, z1), seed=11)
    assert doc["bayes_factor_s0_s1"]["log_bf"] == pytest.approx(expected["log_bf"])
    assert doc["model_choice"] == results.model_choice_statement(expected) and doc["other"] == [1, 2]
    readme = (record / "README.md").read_text()
    assert f"- **Model choice**: {doc['model_choice']}\n" in readme and "- **Other**: kept" in readme
    (record / "replicates.csv").unlink()
    written = {p.name: p.read_bytes() for p in record.iterdir()}
    assert tool.main([str(record), "--write"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "replicates.csv not found" in err
    assert {p.name: p.read_bytes() for p in record.iterdir()} == written
