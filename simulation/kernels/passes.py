"""The fused passes over the firms: economy, trust, support, dealings' demands, the observer, capture.

Each is the twin of its submodel's numpy path (the same operations in the same order, the same
draws); the submodel calls it when ``enabled()``. See the package's docstring for the rules.
"""

from __future__ import annotations

import numpy as np

from ..formulas import mining_shares, rent_segment
from .draws import binomial, poisson
from .switch import AVAILABLE, numba

if AVAILABLE:

    @numba.njit(cache=True, inline="always")
    def _maximum(a, b):  # np.maximum: a unless it is smaller (NaN propagates)
        return a if (a >= b or a != a) else b

    @numba.njit(cache=True, inline="always")
    def _minimum(a, b):  # np.minimum
        return a if (a <= b or a != a) else b

    @numba.njit(cache=True)
    def _economy(
        c,
        y,
        share,
        benefit_year,
        dealt_year,
        demanded_year,
        u_switch,
        u_hazard,
        hazard,
        region,  # pragma: no cover
        alive,
        formal,
        capital,
        trust,
        satisfaction,
        streak,
        age,
        profit_out,
        support,
        ppp_income,
        capture_income,
        disputes,
        extracted,
        fines,
        ppp_outlay,
        dealings,
        demands,
        fixed_investment,
        tax_revenue,
    ):
        """economy.step after its draws and transcendental functions, in one pass (same operations, same order)."""
        (
            tax_rate,
            tax_benefit,
            dispute_loss,
            labour_share,
            fixed_cost,
            legal,
            floor,
            reinvestment,
            depreciation,
            informality_rate,
            informality_burden,
            tax_morale,
            exit_losses,
            min_capital,
        ) = c
        exiting = np.zeros(y.size, dtype=np.bool_)
        for i in range(y.size):
            live = 1.0 if alive[i] else 0.0
            yi = y[i]
            benefit = 1.0 if (benefit_year[i] + support[i]) > 0 else 0.0
            tax = tax_rate * yi * (1.0 if formal[i] else 0.0) * (1.0 - tax_benefit * benefit)
            inflow = support[i] + ppp_income[i] + capture_income[i]
            loss = dispute_loss * disputes[i] * yi
            profit = ((1.0 - labour_share) * yi - tax - extracted[i] - fines[i] - loss - fixed_cost + inflow) * live
            profit_out[i] = profit
            dealt = dealt_year[i] + dealings[i]
            demanded = demanded_year[i] + demands[i]
            rate = demanded / dealt if dealt > 0 else 0.0
            risk = share[i] * (1.0 - legal) * _minimum(rate, 1.0)
            invest = reinvestment * _maximum(profit, 0.0) * (floor + (1.0 - floor) * trust[i]) * (1.0 - risk)
            capital[i] = _maximum((1.0 - depreciation) * capital[i] + invest - ppp_outlay[i], 0.0) * live
            r = region[i]
            fixed_investment[r] += invest
            tax_revenue[r] += tax
            burden = (tax + extracted[i]) / yi if yi > 0 else 0.0
            formal_burden = (tax_rate * yi + extracted[i]) / yi if yi > 0 else 0.0
            switch = u_switch[i] < informality_rate
            tolerance = informality_burden * (1.0 + tax_morale * satisfaction[i])
            if switch and alive[i]:
                if formal[i]:
                    if burden > tolerance:
                        formal[i] = False
                elif formal_burden <= tolerance:
                    formal[i] = True
            streak[i] = streak[i] + 1 if profit < 0 else 0
            exiting[i] = alive[i] and (streak[i] >= exit_losses or capital[i] < min_capital or u_hazard[i] < hazard[i])
            age[i] += 1 if alive[i] else 0
        return exiting


if AVAILABLE:

    @numba.njit(cache=True)
    def _trust_a(
        c,
        u,
        alive,
        strength,
        member,
        trust,
        demands,
        dealings,
        reneged_on,
        cooperation,
        consulted,  # pragma: no cover
        output,
        support,
        ppp_income,
        extracted,
        fines,
        disputes,
        experience_year,
        output_year,
        experience,
        x,
    ):
        """trust.step up to the tanh: consultation, trust, this quarter's experience, tanh's argument x."""
        consultation, trust_rate, dispute_loss, experience_scale = c
        for i in range(u.size):
            s = strength[i]
            invited = s + (1.0 if member[i] else 0.0) * (1.0 - s)
            voice = alive[i] and u[i] < consultation * invited
            cooperation[i] += 1.0 if voice else 0.0
            consulted[i] = 1.0 if voice else 0.0
            share = demands[i] / dealings[i] if dealings[i] > 0 else 0.0
            honoured = 1.0 - share - (1.0 if reneged_on[i] > 0 else 0.0)
            honoured = _minimum(_maximum(honoured, 0.0), 1.0)
            if alive[i]:
                trust[i] = (1.0 - trust_rate) * trust[i] + trust_rate * honoured
            y = output[i]
            gain = support[i] + ppp_income[i]
            loss = extracted[i] + fines[i] + dispute_loss * disputes[i] * y
            net_year = experience_year[i] + gain - loss
            experience[i] = gain - loss
            x[i] = experience_scale * net_year / _maximum(output_year[i] + y, 1e-9)

    @numba.njit(cache=True)
    def _trust_b(rate, alive, signal, sat, live, weighted):  # pragma: no cover - compiled
        """Satisfaction follows the signal; live and sat x live for the sums over ties."""
        for i in range(sat.size):
            sat[i] = (1.0 - rate) * sat[i] + rate * signal[i] if alive[i] else 0.0
            live[i] = 1.0 if alive[i] else 0.0
            weighted[i] = sat[i] * live[i]

    @numba.njit(cache=True)
    def _trust_c(rate, alive, sat, heard, degree):  # pragma: no cover - compiled
        """Word of mouth: satisfaction moves toward the mean of the firm's ties."""
        for i in range(sat.size):
            mean = heard[i] / degree[i] if degree[i] > 0 else sat[i]
            sat[i] = (1.0 - rate) * sat[i] + rate * mean if alive[i] else 0.0


def trust_pass(world, log, rng) -> None:
    """``trust.step`` with its element-wise work in three compiled passes (see there)."""
    p, f, ev = world.params, world.firms, log.firm
    u = rng.random(f.n)
    x = np.empty(f.n)
    c = (float(p["consultation"]), float(p["trust_rate"]), float(p["dispute_loss"]), float(p["experience_scale"]))
    _trust_a(
        c, u, f.alive, f.strength, f.member, f.trust, ev["demands"], ev["dealings"], ev["reneged_on"],
        ev["cooperation"], ev["consulted"], ev["output"], ev["support"], ev["ppp_income"], ev["extracted"],
        ev["fines"], ev["disputes"], f.last_year("experience"), f.last_year("output"), ev["experience"], x,
    )  # fmt: skip
    signal = np.tanh(x)
    sat = f.satisfaction
    live, weighted = np.empty(f.n), np.empty(f.n)
    _trust_b(float(p["satisfaction_rate"]), f.alive, signal, sat, live, weighted)
    (heard,) = world.ties.sums_over_ties(weighted)
    # ties to firms in business: every tie less those to firms that left (few), counted from their
    # side; whole numbers, so the same numbers as the sum over ties of ``live``
    degree = world.ties.degree(f.n) - world.ties.count_over_ties(1.0 - live)
    _trust_c(float(p["word_of_mouth"]), f.alive, sat, heard, degree)


if AVAILABLE:

    @numba.njit(cache=True)
    def _support_score(
        favouritism, connection_weight, merit, connection, client, symbiosis, region, score
    ):  # pragma: no cover
        """selection_score(merit, max(L, client), s of the region) per firm."""
        for i in range(merit.size):
            theta = 1.0 - symbiosis[region[i]] * favouritism
            tie = _maximum(connection[i], 1.0 if client[i] else 0.0)
            score[i] = theta * merit[i] + (1.0 - theta) * connection_weight * tie

    @numba.njit(cache=True)
    def _support(
        c,
        u_apply,
        u_got,
        exp_score,
        share,
        region,
        alive,
        formal,
        trust,
        home,
        client,
        connection,  # pragma: no cover
        capital,
        captor,
        budget,
        corrupt_share,
        rents,
        capture_transfer,
        support,
        extracted,
        capture_income,
        bribe_income,
        kicked,
        youth,
    ):
        """support.step after its draws and transcendental functions (three passes: totals, awards, payments)."""
        apply_base, apply_trust, grant_size, kickback_rate, connected_from, compliance = c
        n = region.size
        R = budget.size
        weight = np.empty(n)
        total = np.zeros(R)
        members = np.zeros(R)
        total_stake = np.zeros(R)
        for i in range(n):
            r = region[i]
            applicant = alive[i] and formal[i] and u_apply[i] < apply_base + apply_trust * trust[i]
            weight[i] = exp_score[i] * (1.0 if applicant else 0.0)
            total[r] += weight[i]
            network = alive[i] and (client[i] or connection[i] >= connected_from)
            members[r] += capital[i] * (1.0 if network else 0.0)
            total_stake[r] += capital[i] * (1.0 if (captor[i] and alive[i]) else 0.0)
        count = np.zeros(R)
        got = np.empty(n, dtype=np.bool_)
        for i in range(n):
            r = region[i]
            k = budget[r] / grant_size
            prob = _minimum(1.0, k * weight[i] / total[r] if total[r] > 0 else 0.0)
            if youth[i]:  # the youth window as well: selected by either window
                prob = 1.0 - (1.0 - prob) * (1.0 - prob)
            got[i] = u_got[i] < prob
            count[r] += 1.0 if got[i] else 0.0
        for i in range(n):
            r = region[i]
            per = budget[r] / count[r] if count[r] > 0 else 0.0
            grant = (1.0 if got[i] else 0.0) * per
            corrupt_home = 1.0 if home[i] < corrupt_share[r] else 0.0
            kickback = grant * corrupt_home * kickback_rate * share[i]
            network = alive[i] and (client[i] or connection[i] >= connected_from)
            w = capital[i] * (1.0 if network else 0.0)
            rent = w * rents[r] / members[r] if members[r] > 0 else 0.0
            support[i] = grant * (1.0 - compliance) + rent
            extracted[i] += kickback
            bribe_income[r] += kickback
            kicked[i] = kickback
            stake = capital[i] * (1.0 if (captor[i] and alive[i]) else 0.0)
            capture_income[i] = stake * capture_transfer[r] / total_stake[r] if total_stake[r] > 0 else 0.0


def youth_eligible(f, p) -> np.ndarray:
    """Firms whose owner is eligible for the youth window of the support programmes (owner under 30)."""
    return (f.cohort == 0) & bool(p["youth_programme"])


def support_pass(world, log, rng, merit) -> np.ndarray:
    """``support.step`` with its element-wise work compiled (see there); returns each firm's kickback."""
    p, f, a = world.params, world.firms, world.akimats
    u_apply, u_got = rng.random(f.n), rng.random(f.n)
    score = np.empty(f.n)
    _support_score(
        float(p["favouritism"]), float(p["connection_weight"]), merit(f.productivity), f.connection, f.client,
        a.symbiosis, f.region, score,
    )  # fmt: skip
    share = world.bargaining()[2]
    bribe_income = np.zeros(world.n_regions)
    kicked = np.zeros(f.n)
    c = (
        float(p["apply_base"]), float(p["apply_trust"]), float(p["grant"]), float(p["kickback"]),
        float(p["connected_from"]), float(p["support_compliance"]),
    )  # fmt: skip
    _support(
        c, u_apply, u_got, np.exp(score), share, f.region, f.alive, f.formal, f.trust, f.home_official, f.client,
        f.connection, f.capital, f.captor, a.support_budget, a.corrupt_share, a.rents, a.capture_transfer,
        log.firm["support"], log.firm["extracted"], log.firm["capture_income"], bribe_income, kicked,
        youth_eligible(f, p),
    )  # fmt: skip
    log.region["bribe_income"][:] += bribe_income
    return kicked


if AVAILABLE:

    @numba.njit(cache=True)
    def _dealings_before(
        c,
        region,
        insider,
        connection,
        client,
        captor,
        symbiosis,
        output,  # pragma: no cover
        outsider,
        shield,
        shield_home,
        rival,
    ):
        """Before the rotation of officials: who is an outsider, the shields of patronage, a captor's rivals."""
        connected_from, R = c[0], int(c[1])
        captor_output = np.zeros(R)
        region_output = np.zeros(R)
        for i in range(region.size):
            r = region[i]
            outsider[i] = (not insider[i]) and connection[i] < connected_from and not client[i]
            s = symbiosis[i]
            shield[i] = 1.0 - s * _maximum(connection[i], 1.0 if client[i] else 0.0)
            shield_home[i] = 1.0 - s * connection[i]
            captor_output[r] += output[i] * (1.0 if captor[i] else 0.0)
            region_output[r] += output[i]
        for i in range(region.size):
            r = region[i]
            weight = captor_output[r] / region_output[r] if region_output[r] > 0 else 0.0
            rival[i] = weight * (0.0 if captor[i] else 1.0)

    @numba.njit(cache=True)
    def _dealings_lam(
        c,
        age,
        formal,
        alive,
        outsider,
        symbiosis,
        power_dp,
        rival,
        dealt_year,
        output_year,  # pragma: no cover
        extracted_year,
        lam,
        x,
    ):
        """The rate of dealings before their cost, and exp's argument for the cost."""
        (
            startup,
            growth,
            mature,
            startup_age,
            mature_age,
            reach,
            outsider_bias,
            inspection_share,
            harassment,
            informal_dealings,
            choice_sensitivity,
        ) = c
        for i in range(age.size):
            stage_rate = startup if age[i] < startup_age else (growth if age[i] < mature_age else mature)
            bias = symbiosis[i] * outsider_bias
            value = stage_rate * reach * power_dp[i] * (1.0 + inspection_share * bias * (1.0 if outsider[i] else 0.0))
            value = value * (1.0 + harassment * rival[i])
            value = value * (1.0 if formal[i] else informal_dealings) * (1.0 if alive[i] else 0.0)
            lam[i] = value
            y_before = _maximum(output_year[i], 1e-12)
            dealt = dealt_year[i]
            cost = extracted_year[i] * 4.0 / (dealt * y_before) if dealt > 0 else 0.0
            x[i] = -choice_sensitivity * cost

    @numba.njit(cache=True)
    def _dealings_demand(
        c,
        lam,
        e,
        strength,
        home,
        corrupt_share,
        region,
        shield_home,
        shield,
        symbiosis,  # pragma: no cover
        outsider,
        formal,
        segment,
        demand_p,
    ):
        """The rate of dealings after their cost (in place), and the chance of a demand in a dealing."""
        discretionary, visibility_base, home_share, damping, outsider_bias, informal_demand = c
        for i in range(lam.size):
            d = discretionary * (1.0 - segment[i])  # the rent segment cannot put its extractive dealings off
            lam[i] = lam[i] * (1.0 - d + d * e[i])
            visibility = visibility_base + (1.0 - visibility_base) * strength[i]
            ci = corrupt_share[region[i]]
            corrupt = home_share * (1.0 if home[i] < ci else 0.0) * shield_home[i] + (1.0 - home_share) * ci * shield[i]
            value = corrupt * damping * visibility
            bias = symbiosis[i] * outsider_bias
            value = value * (1.0 + bias * (1.0 if outsider[i] else 0.0)) * (1.0 if formal[i] else informal_demand)
            demand_p[i] = _minimum(_maximum(value, 0.0), 1.0)


def dealings_demands(world, log, rng):
    """``dealings._demands`` compiled (the same operations, draws and order; see there)."""
    p, f, a = world.params, world.firms, world.akimats
    n, region = f.n, f.region
    symbiosis = a.symbiosis[region]
    output = world.potential_output()
    log.potential_output = output
    segment = rent_segment(output, f.formal, region, mining_shares(world.regions))
    outsider = np.empty(n, dtype=np.bool_)
    shield, shield_home, rival = np.empty(n), np.empty(n), np.empty(n)
    _dealings_before(
        (float(p["connected_from"]), float(world.n_regions)), region, f.insider, f.connection, f.client, f.captor,
        symbiosis, output, outsider, shield, shield_home, rival,
    )  # fmt: skip
    # rotation of home officials (numpy: the draws as the numpy path makes them)
    rotated = np.flatnonzero(f.alive & (rng.random(n) < p["official_rotation"]))
    f.home_official[rotated] = rng.random(rotated.size)
    f.client[rotated] = False
    power = a.power[region]
    lam, x = np.empty(n), np.empty(n)
    c = (
        float(p["dealings_startup"]), float(p["dealings_growth"]), float(p["dealings_mature"]),
        int(p["startup_age"]), int(p["mature_age"]), float(p["dealings_reach"]), float(p["outsider_bias"]),
        float(p["outsider_inspection_share"]), float(p["capture_harassment"]), float(p["informal_dealings"]),
        float(p["choice_sensitivity"]),
    )  # fmt: skip
    _dealings_lam(
        c, f.age, f.formal, f.alive, outsider, symbiosis, (a.power ** p["dealings_power"])[region], rival,
        f.last_year("dealings"), f.last_year("output"), f.last_year("extracted"), lam, x,
    )  # fmt: skip
    demand_p = np.empty(n)
    c = (
        float(p["discretionary_share"]), float(p["visibility_base"]), float(p["home_share"]),
        float(1.0 - p["transparency_demand"] * p["transparency"]), float(p["outsider_bias"]),
        float(p["informal_demand"]),
    )  # fmt: skip
    _dealings_demand(
        c, lam, np.exp(x), f.strength, f.home_official, a.corrupt_share, region, shield_home, shield, symbiosis,
        outsider, f.formal, segment, demand_p,
    )  # fmt: skip
    n_deal = poisson(rng, lam)
    demands = binomial(rng, n_deal, demand_p)
    return n_deal, demands, shield, symbiosis, power, a.corrupt_share[region], segment


if AVAILABLE:

    @numba.njit(cache=True)
    def _observe(
        c,
        dealings,
        events,
        cooperation,
        disputes,
        extracted,
        support,
        refused,
        reported,
        paid,  # pragma: no cover
        rule_bending,
        output,
        alive,
        region,
        power,
        strength,
        labels,
        quadrant,
        cells,
    ):
        """Observer.step per firm from its 4-quarter sums: regime label (observer.classify), quadrant, cell sums."""
        threshold, power_threshold, business_threshold, Q, K = c[0], c[1], c[2], int(c[3]), int(c[4])
        conflict, suppression, partnership, patronage, non_interference, capture = 3, 0, 2, 1, 4, 5
        for i in range(alive.size):
            d = dealings[i]
            coop = cooperation[i]
            disp = disputes[i]
            lost = extracted[i]
            received = support[i]
            pd = paid[i]
            interaction = d + events[i] + coop + disp
            label = non_interference
            if interaction >= threshold:
                if disp > 0 or ((refused[i] + reported[i] > pd) and lost >= 0.01 * output[i]):
                    label = conflict
                elif (pd > 0 and lost > received) or (d >= 2 * threshold and received == 0 and coop == 0):
                    label = suppression
                elif coop > 0 and received >= lost:
                    label = partnership
                elif received > 0:
                    label = patronage
            if rule_bending[i] > 0:
                label = capture
            labels[i] = label
            strong_power = power[region[i]] >= power_threshold
            quad = 2 * (0 if strong_power else 1) + (1 if strength[i] >= business_threshold else 0)
            quadrant[i] = quad
            cells[(region[i] * Q + quad) * K + label] += 1.0 if alive[i] else 0.0  # each relation once


def observe(world, n_quadrants: int, n_regimes: int):
    """Observer.step's per-firm work compiled: (labels, quadrants, relations by region x quadrant x regime)."""
    p, f = world.params, world.firms
    labels = np.empty(f.n, dtype=np.int8)
    quadrant = np.empty(f.n, dtype=np.int8)
    cells = np.zeros(world.n_regions * n_quadrants * n_regimes)
    c = (
        float(p["interaction_threshold"]), float(p["power_threshold"]), float(p["business_threshold"]),
        float(n_quadrants), float(n_regimes),
    )  # fmt: skip
    y = f.last_year
    events = (f.memory("support") > 0).sum(axis=0)
    _observe(
        c, y("dealings"), events, y("cooperation"), y("disputes"), y("extracted"), y("support"), y("refused"),
        y("reported"), y("paid"), y("rule_bending"), y("output"), f.alive, f.region, world.akimats.power,
        f.strength, labels, quadrant, cells,
    )  # fmt: skip
    return labels, quadrant, cells


if AVAILABLE:

    @numba.njit(cache=True)
    def _capture_a(c, bp, pp, power, side, success_p, risk, payoff, x):  # pragma: no cover - compiled
        """The akimat's side of the bargain, the chance and the payoff of an attempt, and exp's argument."""
        legal, retaliation, diversion = c
        for i in range(bp.size):
            side[i] = pp[i] / (bp[i] + pp[i])
            success_p[i] = (1.0 - side[i]) * (1.0 - legal)
            risk[i] = _maximum(retaliation * power[i], 1e-9)
            payoff[i] = success_p[i] * diversion - (1.0 - success_p[i]) * risk[i]
            x[i] = -_maximum(payoff[i], 0.0) / risk[i]

    @numba.njit(cache=True)
    def _capture_b(
        c,
        side,
        success_p,
        payoff,
        e,
        strength_k,
        u_lost,
        u_attempt,
        u_success,
        alive,
        formal,  # pragma: no cover
        captor,
        rule_bending,
        connection,
    ):
        """Captures that end, attempts and successes."""
        loss_rate, effort = c
        for i in range(side.size):
            lost = u_lost[i] < loss_rate * side[i]
            if captor[i] and ((not alive[i]) or lost):
                captor[i] = False
            drive = 1.0 - e[i] if payoff[i] > 0 else 0.0
            candidate = alive[i] and formal[i] and not captor[i]
            attempt = candidate and u_attempt[i] < effort * strength_k[i] * drive
            if attempt and u_success[i] < success_p[i]:
                captor[i] = True
            rule_bending[i] = 1.0 if captor[i] else 0.0
            if captor[i]:
                connection[i] = 1.0


def capture_pass(world, log, rng) -> None:
    """``capture.step`` compiled (the same operations, draws and order; see there)."""
    p, f, a = world.params, world.firms, world.akimats
    n, legal = f.n, p["legal_quality"]
    power = a.power[f.region]
    bp, pp, _ = world.bargaining()
    u_lost, u_attempt, u_success = rng.random(n), rng.random(n), rng.random(n)
    side, success_p, risk, payoff, x = (np.empty(n) for _ in range(5))
    _capture_a((float(legal), float(p["retaliation"]), float(p["capture_diversion"])), bp, pp, power, side,
               success_p, risk, payoff, x)  # fmt: skip
    loss_rate = p["capture_loss"] * (1.0 + p["legal_capture_loss"] * legal) * 2.0
    _capture_b(
        (float(loss_rate), float(p["capture_effort"])), side, success_p, payoff, np.exp(x),
        f.strength ** p["capture_strength_exponent"], u_lost, u_attempt, u_success, f.alive, f.formal, f.captor,
        log.firm["rule_bending"], f.connection,
    )  # fmt: skip


def economy_pass(p, f, ev, y, share, benefit_year, dealt_year, demanded_year, u_switch, u_hazard, hazard, n_regions):
    """The fused pass of ``economy.step`` (see there); returns (exiting, fixed investment, tax revenue)."""
    c = (
        float(p["tax_rate"]), float(p["tax_benefit"]), float(p["dispute_loss"]), float(p["labour_share"]),
        float(p["fixed_cost"]), float(p["legal_quality"]), float(p["trust_investment_floor"]),
        float(p["reinvestment"]), float(p["depreciation"]), float(p["informality_rate"]),
        float(p["informality_burden"]), float(p["tax_morale"]), int(p["exit_losses"]),
        float(p["min_capital"]),
    )  # fmt: skip
    fixed_investment, tax_revenue = np.zeros(n_regions), np.zeros(n_regions)
    exiting = _economy(
        c, y, share, benefit_year, dealt_year, demanded_year, u_switch, u_hazard, hazard, f.region,
        f.alive, f.formal, f.capital, f.trust, f.satisfaction, f.loss_streak, f.age, f.profit,
        ev["support"], ev["ppp_income"], ev["capture_income"], ev["disputes"], ev["extracted"], ev["fines"],
        ev["ppp_outlay"], ev["dealings"], ev["demands"], fixed_investment, tax_revenue,
    )  # fmt: skip
    return exiting, fixed_investment, tax_revenue
