"""Consistency checks for simulation/data/turkestan_survey.toml.

This test stands alone: it reads the TOML directly and imports nothing from the
`simulation` package.

It checks that the respondent counts recovered from the paper's percentage
tables (Tables 2, 5, 6, 7, 8, 9) are internally consistent and reproduce every
printed percentage within rounding. The only exceptions are the entries listed
explicitly as printing errors.
"""

import math
import pathlib
import tomllib

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA_PATH = REPO_ROOT / "simulation" / "data" / "turkestan_survey.toml"

TOL = 0.05 + 1e-9  # percentage points: half of the printed 0.1 resolution
GRID_TABLES = ["table5", "table6", "table7", "table8", "table9"]
COHORT_TABLES = ["table5", "table7", "table8", "table9"]
ENTREPRENEUR_TABLES = ["table7", "table8", "table9"]


@pytest.fixture(scope="module")
def data():
    assert DATA_PATH.is_file(), f"survey data file missing: {DATA_PATH}"
    with DATA_PATH.open("rb") as fh:
        return tomllib.load(fh)


def _pct(count, base):
    return 100.0 * count / base


def _matches(count, base, printed):
    return abs(_pct(count, base) - printed) <= TOL


def _flag_set(table):
    """The (kind, row, column) positions that the TOML lists as printing errors."""
    return {(e["kind"], e["row"], e["column"]) for e in table["printing_errors"]}


def _percent_base(table):
    """Denominator of a cell percentage: the sample (grand total or per row)."""
    return table["sample_size"]


def _all_checked_values(table):
    """Yield (kind, row_label, col_label, count, base, printed) for every printed %."""
    base = _percent_base(table)
    rows, cols = table["rows"], table["columns"]
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            yield ("cell", r, c, table["counts"][i][j], base, table["printed_percent"][i][j])
    if "printed_total_percent" in table:
        for j, c in enumerate(cols):
            yield ("total", "Total", c, table["column_totals"][j], base, table["printed_total_percent"][j])
    if "printed_average_percent" in table:
        for j, c in enumerate(cols):
            yield ("average", "On average", c, table["average_counts"][j], base, table["printed_average_percent"][j])


# --------------------------------------------------------------------------- shape


@pytest.mark.parametrize("name", GRID_TABLES)
def test_shapes_and_types(data, name):
    t = data[name]
    n_r, n_c = len(t["rows"]), len(t["columns"])
    assert len(t["counts"]) == n_r, f"{name}: counts has {len(t['counts'])} rows, expected {n_r}"
    assert len(t["printed_percent"]) == n_r, f"{name}: printed_percent has wrong number of rows"
    for i in range(n_r):
        assert len(t["counts"][i]) == n_c, f"{name}: counts row {i} has wrong length"
        assert len(t["printed_percent"][i]) == n_c, f"{name}: printed_percent row {i} has wrong length"
        for j, c in enumerate(t["counts"][i]):
            assert isinstance(c, int) and c >= 0, f"{name}: counts[{i}][{j}]={c!r} is not a non-negative int"
    assert len(t["printed_columns"]) == n_c, f"{name}: printed_columns length differs from columns"
    assert len(t["column_keys"]) == n_c, f"{name}: column_keys length differs from columns"
    assert len(set(t["column_keys"])) == n_c, f"{name}: column_keys are not unique"
    assert len(set(t["columns"])) == n_c, f"{name}: column labels are not unique"
    assert isinstance(t["paper_table"], int), f"{name}: paper_table must be the paper's table number"
    assert t["question"].strip(), f"{name}: question wording is empty"


# --------------------------------------------------------------------------- sums


@pytest.mark.parametrize("name", GRID_TABLES)
def test_row_sums(data, name):
    t = data[name]
    sums = [sum(r) for r in t["counts"]]
    assert sums == t["row_totals"], f"{name}: row sums {sums} != row_totals {t['row_totals']}"


@pytest.mark.parametrize("name", GRID_TABLES)
def test_column_sums(data, name):
    t = data[name]
    sums = [sum(col) for col in zip(*t["counts"])]
    assert sums == t["column_totals"], f"{name}: column sums {sums} != column_totals {t['column_totals']}"


@pytest.mark.parametrize("name", GRID_TABLES)
def test_grand_totals(data, name):
    t = data[name]
    assert sum(t["row_totals"]) == t["total"], f"{name}: sum of row totals {sum(t['row_totals'])} != total {t['total']}"
    assert sum(t["column_totals"]) == t["total"], (
        f"{name}: sum of column totals {sum(t['column_totals'])} != total {t['total']}"
    )
    if t["percent_base"] == "grand_total":
        assert t["total"] == t["sample_size"], f"{name}: total {t['total']} != sample_size {t['sample_size']}"
    else:
        assert t["percent_base"] == "row", f"{name}: unknown percent_base {t['percent_base']!r}"
        assert all(rt == t["sample_size"] for rt in t["row_totals"]), (
            f"{name}: each row must hold the whole sample {t['sample_size']}, got {t['row_totals']}"
        )
        assert t["total"] == t["sample_size"] * len(t["rows"]), f"{name}: total != sample_size * number of rows"


def test_table6_average_counts(data):
    t = data["table6"]
    n_rows = len(t["rows"])
    assert [a * n_rows for a in t["average_counts"]] == t["column_totals"], (
        f"table6: average_counts {t['average_counts']} x {n_rows} != column_totals {t['column_totals']}"
    )
    assert sum(t["average_counts"]) == t["sample_size"], "table6: average counts must add up to the sample of 198"


def test_table2(data):
    t = data["table2"]
    assert t["counts"] == t["printed_counts"], "table2: counts must equal the printed counts"
    assert sum(t["counts"]) == t["total"] == t["printed_total"] == 198, "table2: cohorts must add up to 198"
    assert sum(t["gender_counts"]) == t["total"], "table2: gender counts must add up to 198"
    assert t["counts"] == data["samples"]["population"]["cohort_sizes"], (
        "table2: counts differ from samples.population.cohort_sizes"
    )
    assert t["printing_errors"] == [], "table2: no printing errors expected"
    for label, c, p in zip(t["rows"], t["counts"], t["printed_percent"]):
        assert _matches(c, t["total"], p), f"table2 {label}: {c}/198 = {_pct(c, 198):.2f}% != printed {p}"
    for label, c, p in zip(t["gender_labels"], t["gender_counts"], t["gender_printed_percent"]):
        assert _matches(c, t["total"], p), f"table2 gender {label}: {c}/198 = {_pct(c, 198):.2f}% != printed {p}"


# --------------------------------------------------------------------------- samples & cohorts


def test_table5_rows_equal_table2_cohorts(data):
    t5, t2 = data["table5"], data["table2"]
    assert t5["row_totals"] == t2["counts"], f"table5 row totals {t5['row_totals']} != Table 2 cohorts {t2['counts']}"
    assert t5["printed_row_totals"] == t2["counts"], "table5 printed 'Number of respondents' differs from Table 2"
    assert t5["rows"] == t2["rows"], "table5 and table2 cohort labels differ"


def test_population_sample(data):
    pop = data["samples"]["population"]
    assert pop["n"] == 198 == data["meta"]["population_respondents"], "population sample must be 198"
    assert sum(pop["cohort_sizes"]) == pop["n"], "population cohort sizes must add up to n"
    for name in ("table5", "table6"):
        assert data[name]["sample_size"] == pop["n"], f"{name}: sample_size must be the population n"


def test_entrepreneur_cohorts_consistent(data):
    ent = data["samples"]["entrepreneurs"]
    assert sum(ent["cohort_sizes"]) == ent["n"], (
        f"entrepreneur cohorts {ent['cohort_sizes']} don't add up to {ent['n']}"
    )
    for name in ENTREPRENEUR_TABLES:
        t = data[name]
        assert t["sample"] == "entrepreneurs", f"{name}: sample should be 'entrepreneurs'"
        assert t["sample_size"] == ent["n"], f"{name}: sample_size {t['sample_size']} != entrepreneurs n {ent['n']}"
        assert t["row_totals"] == ent["cohort_sizes"], (
            f"{name}: cohort sizes {t['row_totals']} != samples.entrepreneurs {ent['cohort_sizes']}"
        )
    first = data[ENTREPRENEUR_TABLES[0]]["row_totals"]
    for name in ENTREPRENEUR_TABLES[1:]:
        assert data[name]["row_totals"] == first, f"{name}: cohort sizes differ from {ENTREPRENEUR_TABLES[0]}"


def test_cohort_labels(data):
    for name in COHORT_TABLES:
        assert data[name]["rows"] == data["meta"]["cohorts"], f"{name}: rows must be the four age cohorts in order"


def test_entrepreneur_n_is_smallest_consistent(data):
    """58 is the smallest n for which every unflagged Table 7-9 % is round(100*k/n, 1)."""
    n_claimed = data["samples"]["entrepreneurs"]["n"]
    percents = set()
    for name in ENTREPRENEUR_TABLES:
        t = data[name]
        flags = _flag_set(t)
        for kind, r, c, _count, _base, p in _all_checked_values(t):
            if (kind, r, c) not in flags and p > 0:
                percents.add(p)

    def reproducible(p, n):
        k0 = round(p * n / 100)
        return any(k >= 0 and _matches(k, n, p) for k in (k0 - 1, k0, k0 + 1))

    smallest = next(n for n in range(1, 1000) if all(reproducible(p, n) for p in percents))
    assert smallest == n_claimed, (
        f"smallest n reproducing all unflagged percentages is {smallest}, TOML says {n_claimed}"
    )
    # The flagged values must be impossible at the claimed n (otherwise they are not errors).
    for name in ENTREPRENEUR_TABLES:
        for e in data[name]["printing_errors"]:
            assert not reproducible(e["printed"], n_claimed), (
                f"{name}: flagged value {e['printed']} is actually reproducible at n={n_claimed}"
            )


# --------------------------------------------------------------------------- percentages


@pytest.mark.parametrize("name", GRID_TABLES)
def test_percent_base(data, name):
    """Tables 5, 7, 8, 9 are % of the grand total (all cells add up to ~100). Table 6 is % per row."""
    t = data[name]
    pp = t["printed_percent"]
    n_cells = sum(len(r) for r in pp)
    if t["percent_base"] == "grand_total":
        s = sum(map(sum, pp))
        assert abs(s - 100.0) <= TOL * n_cells, f"{name}: printed cells add up to {s:.1f}, not ~100 (grand-total %)"
        for i, r in enumerate(pp):
            share = _pct(t["row_totals"][i], t["total"])
            assert abs(sum(r) - share) <= TOL * len(r), (
                f"{name}: row {t['rows'][i]} printed % adds up to {sum(r):.1f}, cohort share is {share:.1f}"
            )
    else:
        for i, r in enumerate(pp):
            assert abs(sum(r) - 100.0) <= TOL * len(r), f"{name}: row {t['rows'][i]} adds up to {sum(r):.1f}, not ~100"


@pytest.mark.parametrize("name", GRID_TABLES)
def test_counts_reproduce_printed_percent(data, name):
    t = data[name]
    flags = _flag_set(t)
    bad = []
    for kind, r, c, count, base, p in _all_checked_values(t):
        if (kind, r, c) in flags:
            continue
        if not _matches(count, base, p):
            bad.append(f"{kind} ({r}, {c}): {count}/{base} = {_pct(count, base):.3f}% vs printed {p}")
    assert not bad, f"{name}: counts do not reproduce printed percentages: {bad}"


@pytest.mark.parametrize("name", GRID_TABLES)
def test_flagged_printing_errors_are_exact(data, name):
    """Every flagged entry must point at a real printed value and really fail the rounding check."""
    t = data[name]
    rows, cols = t["rows"], t["columns"]
    values = {(k, r, c): (count, base, p) for k, r, c, count, base, p in _all_checked_values(t)}
    seen = set()
    for e in t["printing_errors"]:
        key = (e["kind"], e["row"], e["column"])
        assert key not in seen, f"{name}: printing error {key} listed twice"
        seen.add(key)
        assert key in values, (
            f"{name}: printing error {key} does not match any printed value (rows {rows}, cols {cols})"
        )
        count, base, printed = values[key]
        assert printed == e["printed"], f"{name}: {key} printed value {printed} != flagged {e['printed']}"
        assert count == e["recovered_count"], f"{name}: {key} count {count} != recovered_count {e['recovered_count']}"
        assert not _matches(count, base, printed), (
            f"{name}: {key} is flagged but {count}/{base} reproduces {printed}; unflag it"
        )
        assert _matches(count, base, e["recovered_percent"]), (
            f"{name}: {key} recovered_percent {e['recovered_percent']} != {count}/{base} = {_pct(count, base):.2f}"
        )
        assert e["reason"].strip() and e["trusted"].strip(), f"{name}: {key} needs a reason and a trusted value"


def test_expected_flag_list(data):
    """Pin the exact list of flagged printing errors, so a flag cannot be added or removed by accident."""
    got = {name: sorted(_flag_set(data[name])) for name in GRID_TABLES}
    expected = {
        "table5": sorted([("total", "Total", "1"), ("total", "Total", "4")]),
        "table6": [("average", "On average", "Satisfied partially")],
        "table7": [("cell", "30-39", "Satisfied")],
        "table8": [],
        "table9": sorted([("cell", "40-49", "No cases"), ("total", "Total", "Yes, constantly")]),
    }
    assert got == expected, f"flagged printing errors changed: {got}"


@pytest.mark.parametrize("name", ["table5", "table9"])
def test_recovered_total_percent(data, name):
    t = data[name]
    for j, c in enumerate(t["columns"]):
        exact = round(_pct(t["column_totals"][j], t["total"]), 1)
        assert math.isclose(t["recovered_total_percent"][j], exact), (
            f"{name}: recovered total % for {c} is {t['recovered_total_percent'][j]}, counts give {exact}"
        )


@pytest.mark.parametrize("name", GRID_TABLES + ["table2"])
def test_ocr_repairs_point_at_values(data, name):
    t = data[name]
    for rep in t["ocr_repairs"]:
        r, c, v = rep["row"], rep["column"], rep["value"]
        if r == "Total":
            printed = t["printed_total_percent"][t["columns"].index(c)]
        else:
            printed = t["printed_percent"][t["rows"].index(r)][t["columns"].index(c)]
        assert printed == v, f"{name}: OCR repair at ({r}, {c}) says {v}, printed_percent holds {printed}"
        raw = rep["ocr_text"]
        if raw == "-":
            assert v == 0.0, f"{name}: '-' at ({r}, {c}) must be repaired to 0.0"
        else:
            assert raw == f"{v:.1f}".replace(".", ""), f"{name}: OCR text {raw!r} is not {v} without its decimal point"


def test_table8_third_column_renamed(data):
    t = data["table8"]
    assert t["columns"][2] != "Satisfied", "table8: third column must not keep the misprinted 'Satisfied' label"
    assert "misprint" in t["printed_columns"][2].lower(), "table8: printed third header should be marked as a misprint"
    share = _pct(t["column_totals"][2], t["total"])
    assert share > 100 / 3, f"table8: 'does not affect' column should be more than a third, got {share:.1f}%"
