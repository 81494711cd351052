"""The identification study's data file, its arithmetic and its command's bad inputs (no model run)."""

from __future__ import annotations

import math
import tomllib
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from simulation.cli import main
from simulation.io import InputError
from simulation.studies import identification as idf


def _data() -> dict:
    return tomllib.loads(resources.files("simulation.data").joinpath("identification.toml").read_text("utf-8"))


def test_every_figure_has_a_source_url_a_year_a_use_and_a_known_observable():
    figures = idf.load_figures()
    assert figures["figure"], "the data file holds no figure"
    for fig in figures["figure"]:
        assert fig["url"].startswith(("http://", "https://")), fig["id"]
        assert fig["read_in"].strip(), fig["id"]
        assert str(fig["year"]).strip(), fig["id"]
        assert fig["use"] in ("fit", "validation"), fig["id"]
        assert fig["observable"] in idf.BY_OBSERVABLE, fig["id"]
        assert set(fig["compare_with"]) <= set(idf.SCENARIOS) and fig["compare_with"], fig["id"]
        if "sample_size" in fig:
            assert isinstance(fig["sample_size"], int) and fig["sample_size"] > 0, fig["id"]
    ids = [f["id"] for f in figures["figure"]]
    assert len(ids) == len(set(ids))
    for entry in figures["unmapped"]:
        assert entry["url"].startswith(("http://", "https://")) and entry["model_lacks"].strip(), entry["id"]
    for entry in figures["missing"]:
        assert entry["what"].strip() and entry["searched"].strip() and entry["consequence"].strip()


def test_no_figure_is_used_twice_here_and_in_the_validation_file():
    validation = tomllib.loads(resources.files("simulation.data").joinpath("validation.toml").read_text("utf-8"))
    theirs = {f["id"] for f in validation["figure"]} | {(f["url"], float(f["value"])) for f in validation["figure"]}
    for fig in _data()["figure"]:
        assert fig["id"] not in theirs
        assert (fig["url"], float(fig["value"])) not in theirs, fig["id"]
    # the validation's figures shown by the study keep their own label
    assert all(f["use"] == "validation (validation.toml)" for f in idf.validation_figures())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.pop("url"), "missing url"),
        (lambda f: f.pop("year"), "missing year"),
        (lambda f: f.update(use="both"), "use 'both'"),
        (lambda f: f.update(observable="nope"), "observable 'nope'"),
        (lambda f: f.update(value="12%"), "value must be a number"),
        (lambda f: f.update(colour="red"), "unknown key"),
    ],
)
def test_a_bad_figure_is_refused_with_its_name(tmp_path, change, message):
    fig = dict(_data()["figure"][0])
    change(fig)
    path = tmp_path / "bad.toml"
    path.write_text("[[figure]]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in fig.items()), encoding="utf-8")
    with pytest.raises(InputError, match=message):
        idf.load_figures(path)


def _toml(value) -> str:
    """A flat TOML value (string, number or list of strings)."""
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def test_the_sample_size_against_a_hand_computation():
    # |d| = 0.10, sigma = 0.02, p = 0.5: (0.10 / 2.8016)^2 - 0.0004 = 0.000874..., n = 0.25 / that
    z = 1.959964 + 0.841621
    expected = 0.25 / ((0.10 / z) ** 2 - 0.02**2)
    assert idf.sample_size(0.10, 0.02, 0.5) == pytest.approx(expected, rel=1e-5)
    assert idf.sample_size(-0.10, 0.02, 0.5) == pytest.approx(expected, rel=1e-5)
    assert idf.sample_size(0.10, 0.05, 0.5) == math.inf  # the model's spread swamps the difference
    assert math.isnan(idf.sample_size(0.10, 0.02, 1.0))


def _frame(m0: float, m1: float, sd: float, seeds: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(seeds)
    noise = (noise - noise.mean()) / noise.std(ddof=1) * sd  # exactly sd between seeds
    rows = []
    for s, m in ((0.0, m0), (1.0, m1)):
        for i in range(seeds):
            row = {"scenario": "national", "s": s, "seed_index": i, "seed": i}
            rows.append(row | {o.name: m + noise[i] for o in idf.OBSERVABLES})
    return pd.DataFrame(rows)


def test_the_separation_of_a_planted_difference():
    sep = idf.separation(_frame(0.20, 0.40, 0.02))
    row = sep[sep["observable"] == "support_recipient_share"].iloc[0]
    assert row["difference"] == pytest.approx(0.20)
    assert row["z"] == pytest.approx(10.0)
    assert row["separates"] and row["interval_excludes_0"]
    p = 0.30
    assert row["sample_needed"] == pytest.approx(p * (1 - p) / ((0.20 / (idf.Z_LEVEL + idf.Z_POWER)) ** 2 - 0.02**2))
    value_row = sep[sep["observable"] == "support_hhi"].iloc[0]
    assert math.isnan(value_row["sample_needed"])  # a registry index has no sampling term
    none = idf.separation(_frame(0.20, 0.20, 0.02))
    assert not none["separates"].any()


def test_the_evidence_favours_the_end_that_holds_the_figure():
    frame = _frame(0.20, 0.60, 0.02)
    fig = {"id": "x", "observable": "support_small_medium_share", "unit": "percent of support"}
    fig |= {"compare_with": ["national"], "use": "fit"}
    near0 = idf.evidence(frame, [fig | {"value": 21.0}]).iloc[0]
    near1 = idf.evidence(frame, [fig | {"value": 59.0}]).iloc[0]
    between = idf.evidence(frame, [fig | {"value": 25.0}]).iloc[0]  # 2.5 sd from s = 0
    far = idf.evidence(frame, [fig | {"value": 45.0}]).iloc[0]
    assert near0["favours"] == "s = 0" and near0["log_likelihood_ratio_s1_s0"] < 0
    assert near1["favours"] == "s = 1" and near1["log_likelihood_ratio_s1_s0"] > 0
    assert between["favours"] == "neither (both miss it; nearer s = 0)"
    assert far["favours"] == "neither (both miss it by more than 3 sd)"
    assert near0["s0_low"] == pytest.approx(0.20 - idf.Z_LEVEL * 0.02)


@pytest.mark.parametrize(
    "argv",
    [
        ["identify", "--seeds", "1"],
        ["identify", "--seeds", "two"],
        ["identify", "--quick", "--data", "{tmp}/none.toml"],
        ["identify", "--quick", "--backend", "nope"],
    ],
)
def test_bad_input_to_the_command_is_one_line_and_exit_2(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    code = main([a.format(tmp=tmp_path) for a in argv] + ["--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert not out.exists()
