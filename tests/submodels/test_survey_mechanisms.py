"""The mechanisms behind the survey's answers (issue 22, finding 6), on hand-built inputs.

- utility quality by utility from the wear of the four networks (``data/utilities.toml``,
  ``formulas.utility_levels``);
- owners who grow older with their firms (life stage: ``world.owner_entry_ages``,
  ``world.owner_cohorts``, refreshed each quarter by the economy step);
- the youth window of the support programmes (owners under 30 may apply to it as well);
- the residents' judgement of the authorities as a composite of three domains, each perceived
  with the spread of one utility's perception;
- the judgement of a utility against the quality expected of it, coloured by the disposition
  towards the authorities (expectation-disconfirmation; issue 25, Table 6).

Every expected value is computed by hand here; nothing is simulated beyond one submodel step.
"""

from __future__ import annotations

import tomllib
from importlib import resources

import numpy as np
import pytest
from test_submodels import Draws, Recorder, _kpis
from worlds import make_log, make_world

from simulation import formulas, kernels
from simulation.initialisation import build, make_streams
from simulation.parameters import resolve
from simulation.regions import UTILITIES, utility_wear
from simulation.submodels import economy, support, utilities
from simulation.world import OWNER_AGE_EDGES, owner_cohorts, owner_entry_ages


def test_the_wear_data_name_a_source_year_and_scope_for_every_utility():
    raw = tomllib.loads(resources.files("simulation.data").joinpath("utilities.toml").read_text(encoding="utf-8"))
    assert set(raw["wear"]) == set(UTILITIES)
    for u in UTILITIES:
        entry = raw["wear"][u]
        assert 0.0 < entry["value"] < 1.0
        assert 2010 <= entry["year"] <= 2026
        assert len(entry["source"]) > 40 and entry["scope"]
        assert isinstance(entry["approximate"], bool)
        if entry["approximate"]:
            assert entry["note"]  # what the figure stands for
    assert utility_wear() == tuple(raw["wear"][u]["value"] for u in UTILITIES)


def test_utility_levels_fail_in_proportion_to_wear():
    # mean wear 0.4: the network of mean wear has the level; twice the mean wear fails twice as often
    wear = [0.4, 0.2, 0.8, 0.2]
    q = formulas.utility_levels(0.7, wear)
    np.testing.assert_allclose(q, [0.7, 1 - 0.3 * 0.5, 1 - 0.3 * 2.0, 1 - 0.3 * 0.5])
    # equal wear: the four utilities share the level (the model before issue 22)
    np.testing.assert_allclose(formulas.utility_levels(0.6, [0.5] * 4), [0.6] * 4)
    # a perfect level stays perfect; a poor one clips at 0 for a network far above the mean wear
    np.testing.assert_allclose(formulas.utility_levels(1.0, wear), [1.0] * 4)
    assert formulas.utility_levels(0.2, [0.1, 0.1, 0.1, 0.9]).min() == 0.0
    # the data order the utilities: gas (least worn) best, power (most worn) worst
    q = formulas.utility_levels(0.7, utility_wear())
    assert q[UTILITIES.index("gas")] == q.max() and q[UTILITIES.index("power")] == q.min()


def test_initial_quality_is_the_wear_rule_in_every_region():
    p = resolve({"regions": "turkestan,zhambyl", "firms": 200, "residents_per_region": 200, "utility_quality": 0.7})
    w = build(p, 1, make_streams(1, ("world", "network", "residents")))
    expected = 1.0 - 0.3 * np.asarray(utility_wear()) / np.mean(utility_wear())
    np.testing.assert_allclose(w.akimats.utility_quality, [expected, expected])


def test_owner_ages_and_cohorts_by_hand():
    assert OWNER_AGE_EDGES.tolist() == [18.0, 30.0, 40.0, 50.0, 63.0]
    np.testing.assert_allclose(owner_entry_ages([0, 1, 2, 3], [0.0, 0.5, 0.25, 1.0 - 1e-12]), [18, 35, 42.5, 63])
    # an owner who entered at 28: 29.75 after 7 quarters (<30), 30 after 8 (30-39); 52 after 96 (50+)
    assert owner_cohorts([28.0, 28.0, 28.0, 39.9], [7, 8, 96, 0]).tolist() == [0, 1, 3, 1]


def test_owners_grow_older_with_their_firms_in_the_economy_step():
    """Firm 0: owner entered at 29.8, firm age 0 -> after the step (age 1) the owner is 30.05: 30-39.
    Firm 1: owner's entry age unknown (0): its given cohort stays. Nothing else decides exit here."""
    w = make_world(
        [{"age": 0, "cohort": 0, "owner_entry_age": 29.8}, {"age": 0, "cohort": 2}],
        exit_hazard=0.0,
        min_capital=0.0,
        output_shock=0.0,
    )
    log = make_log(w)
    log.potential_output = w.potential_output()
    economy.step(w, log, np.random.default_rng(0))
    assert w.firms.age.tolist() == [1, 1]
    assert w.firms.cohort.tolist() == [1, 2]


def test_initial_owners_are_as_old_as_their_firms_allow():
    """Life stage at the start: an owner under 30 entered at 18 at the earliest, so runs a firm
    younger than 12 years (48 quarters); every owner's cohort is the entry age plus the firm's age."""
    p = resolve({"regions": "turkestan", "firms": 3000, "residents_per_region": 200})
    f = build(p, 2, make_streams(2, ("world", "network", "residents"))).firms
    assert (f.owner_entry_age >= 18).all() and (f.owner_entry_age < 63).all()
    assert f.age[f.cohort == 0].max() < 48
    assert (f.cohort == owner_cohorts(f.owner_entry_age, f.age)).all()
    # young owners run younger firms: mean firm age rises with the owner's cohort
    means = [f.age[f.cohort == c].mean() for c in range(4)]
    assert means == sorted(means)


@pytest.mark.parametrize("cohort, weights", [(0, (0.8, 1.2)), (3, (1.2, 0.8))])
def test_the_authorities_composite_spread_is_three_domains_of_one_utility_spread(cohort, weights):
    """No signal, no exposure: the authorities' latent value is noise x |(w_services, w_economy, 1)|
    x (taste + eps/2); a utility met at its expected quality is noise x (taste_u + eps/2)."""
    w = make_world(
        [{}],
        akimats={"utility_quality": 0.5, "maintenance": 1.0, "maintenance_reference": 1.0},
        residents={"region": [0], "cohort": [cohort], "taste": [1.0]},
        utility_quality=1.0,
        utility_depreciation=0.0,
        resident_noise=0.5,
        services_signal=0.0,
        wage_signal=0.0,
        jobs_signal=0.0,
        corruption_signal=0.0,
        resident_contact=0.0,
        quarter=0,
    )
    w.kpi_history.append(_kpis([100.0]))
    r = Recorder(2)
    utilities.step(w, make_log(w), r)
    z, zz = r.results("standard_normal")
    composite = np.sqrt(weights[0] ** 2 + weights[1] ** 2 + 1.0)
    np.testing.assert_allclose(w.residents.authority, 0.5 * composite * (1.0 + 0.5 * z), rtol=1e-12)
    np.testing.assert_allclose(
        w.residents.utilities, 0.5 * (w.residents.utility_taste + 0.5 * zz), rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("programme", [True, False])
def test_the_youth_window_gives_owners_under_30_a_second_chance(programme, compiled):
    """Four equal applicants, budget for two grants: each window selects with p = k w / sum w = 1/2.
    An owner under 30 is funded with 1 - (1 - 1/2)^2 = 3/4: an award draw of 0.6 funds the two
    young owners and not the two of 30-39; without the programme nobody at 0.6. The budget is
    split among the funded. Both ways: the support pass compiled and interpreted."""
    previous = kernels.use(compiled)
    try:
        _youth_window(programme)
    finally:
        kernels.use(previous)


def _youth_window(programme):
    firms = [{"cohort": c} for c in (0, 0, 1, 1)]
    w = make_world(
        firms,
        akimats={"support_budget": 0.4, "symbiosis": 0.0},
        grant=0.2,
        support_compliance=0.0,
        youth_programme=programme,
    )
    log = make_log(w)
    support.step(w, log, Draws(0.0, 0.6, 1.0))  # everyone applies; every award draw 0.6; no kickback found
    expected = [0.2, 0.2, 0.0, 0.0] if programme else [0.0] * 4
    np.testing.assert_allclose(log.firm["support"], expected, rtol=1e-12)
    # at 0.74 still funded (< 3/4), at 0.76 not
    for draw, funded in ((0.74, programme), (0.76, False)):
        w = make_world(firms, akimats={"support_budget": 0.4, "symbiosis": 0.0}, grant=0.2,
                       support_compliance=0.0, youth_programme=programme)  # fmt: skip
        log = make_log(w)
        support.step(w, log, Draws(0.0, draw, 1.0))
        assert (log.firm["support"][:2] > 0).all() == funded and (log.firm["support"][2:] == 0).all()


def _support_rates_and_ages(programme: bool) -> tuple[np.ndarray, np.ndarray]:
    """Share of formal, unconnected firms of at least a year that received support in the last
    4 quarters, and the mean firm age (quarters), by owner cohort, pooled over seeds 1 and 2
    (Turkestan, 3,000 firms, burn-in 60)."""
    from simulation.model import StateBusinessModel

    got, n, age_sum, alive_n = np.zeros(4), np.zeros(4), np.zeros(4), np.zeros(4)
    for seed in (1, 2):
        m = StateBusinessModel(
            rng=seed, regions="turkestan", firms=3000, residents_per_region=200, burn_in=60, steps=1,
            youth_programme=programme,
        )  # fmt: skip
        m.run()
        f = m.world.firms
        frame = f.alive & f.formal & (f.age >= 4) & (f.connection < m.world.params["connected_from"]) & ~f.client
        funded = f.last_year("support") > 0
        for c in range(4):
            got[c] += (funded & frame & (f.cohort == c)).sum()
            n[c] += (frame & (f.cohort == c)).sum()
            age_sum[c] += f.age[f.alive & (f.cohort == c)].sum()
            alive_n[c] += (f.alive & (f.cohort == c)).sum()
    return got / n, age_sum / alive_n


def test_model_young_owners_run_young_firms_and_the_youth_window_funds_them():
    """Model-level partner of the hand-built tests above (life stage and the youth window).

    Size and power: 2 seeds x 3,000 firms pool about 600 formal, unconnected firms of owners under
    30 and 1,100 of 30-39. Measured (commit of this test): with the window, 0.27 of the young
    owners' firms were funded in the year against 0.16 of 30-39's (standard error of the
    difference about 0.02, so the asserted gap of 0.05 is 5 standard errors below the measured
    0.11); without it 0.15 against 0.16 (the asserted |gap| < 0.06 is 3 standard errors). Mean firm
    age by owner cohort: 13, 24, 35, 64 quarters (asserted: increasing, and under 30 below 48, the
    most an owner who entered at 18 can have). A model without the window or without owners who
    age with their firms fails these."""
    with_window, ages = _support_rates_and_ages(True)
    without, _ = _support_rates_and_ages(False)
    assert with_window[0] - with_window[1] > 0.05
    assert abs(without[0] - without[1]) < 0.06
    assert list(ages) == sorted(ages) and ages[0] < 48 and ages[3] > 2 * ages[1]


def _quality_above_expectation(adaptation: float, quarters: int) -> tuple[list[float], list[float]]:
    """A region whose utilities hold quality 0.8 while its residents expect 0.5; no noise, no
    signal: the latent satisfaction with heat and the expectation, quarter after quarter."""
    w = make_world(
        [{}],
        akimats={
            "utility_quality": 0.8,
            "utility_expectation": 0.5,
            "maintenance": 1.0,
            "maintenance_reference": 1.0,
        },
        residents={"region": [0], "cohort": [1], "taste": [0.0], "utility_taste": np.zeros((1, 4))},
        utility_depreciation=0.0,
        resident_noise=0.0,
        services_signal=0.0,
        wage_signal=0.0,
        jobs_signal=0.0,
        corruption_signal=0.0,
        resident_contact=0.0,
        resident_smoothing=0.25,
        utility_scale=4.0,
        expectation_adaptation=adaptation,
        quarter=1,
    )
    w.kpi_history.append(_kpis([100.0]))
    heat, expected = [], []
    for _ in range(quarters):
        utilities.step(w, make_log(w), np.random.default_rng(0))
        heat.append(float(w.residents.utilities[0, 0]))
        expected.append(float(w.akimats.utility_expectation[0, 0]))
    return heat, expected


def test_a_utility_better_than_expected_satisfies_until_the_expectation_catches_up():
    """Expectation-disconfirmation with adaptive expectations (ODD 7.10): quality 0.3 above the
    expectation first raises the latent satisfaction (0.25 x 4 x 0.3 = 0.3 in the first smoothed
    quarter), the expectation then climbs toward the quality (0.5 + 0.1 x 0.3 = 0.53 after one
    quarter), and the satisfaction fades back toward the disposition (0 here). Without adaptation it
    stays at 4 x 0.3 = 1.2 for good."""
    heat, expected = _quality_above_expectation(0.1, 80)
    assert heat[0] == pytest.approx(0.25 * 4.0 * 0.3)
    assert expected[0] == pytest.approx(0.53)
    assert np.all(np.diff(expected) > 0) and expected[-1] == pytest.approx(0.8, abs=1e-3)
    peak = int(np.argmax(heat))
    assert 0 < heat[peak] < 1.2 and heat[-1] < 0.01 and np.all(np.diff(heat[peak:]) < 0)
    frozen, still = _quality_above_expectation(0.0, 80)
    assert still == [0.5] * 80 and frozen[-1] == pytest.approx(1.2, rel=1e-6)


def test_utilities_met_at_their_expected_quality_are_judged_alike_whatever_their_wear():
    """Four utilities of different quality (heat 0.9, gas 0.3), each met at the quality its residents
    expect: the latent satisfaction with each is the resident's disposition, the same for all four
    (Table 6's rows are alike: 44-49% satisfied with each utility)."""
    q = np.array([[0.9, 0.7, 0.5, 0.3]])
    w = make_world(
        [{}],
        akimats={"utility_quality": q, "utility_expectation": q, "maintenance": 1.0, "maintenance_reference": 1.0},
        residents={"region": [0], "cohort": [1], "taste": [0.0], "utility_taste": np.zeros((1, 4))},
        utility_depreciation=0.0,
        resident_noise=0.0,
        services_signal=3.0,
        wage_signal=0.0,
        jobs_signal=0.0,
        corruption_signal=0.0,
        resident_contact=0.0,
        quarter=0,
    )
    w.kpi_history.append(_kpis([100.0]))
    utilities.step(w, make_log(w), np.random.default_rng(0))
    disposition = 1.0 * 3.0 * (q.mean() - 0.5)  # cohort 30-39 weighs services 1.0
    np.testing.assert_allclose(w.residents.utilities, disposition, atol=1e-14)
    np.testing.assert_allclose(w.residents.authority, disposition, atol=1e-14)
