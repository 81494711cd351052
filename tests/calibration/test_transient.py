"""What the burn-in leaves (``statebiz calibrate FILE --transient-of POSTERIOR``): the check reads the fit's own
survey, its table against a hand computation, the command's bad input, and the report's statement."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import t as t_dist

from simulation.calibration import load_calibration
from simulation.calibration.checks import (
    TRANSIENT_MARGIN_PP,
    _transient_task,
    transient,
    transient_cells,
    transient_table,
)
from simulation.calibration.likelihood import TABLES, _rows, run_survey_model
from simulation.cli import main
from simulation.provenance import model_version

ROOT = Path(__file__).resolve().parents[2]
CALIBRATION = ROOT / "experiments" / "calibration_turkestan.toml"
SHIPPED = ROOT / "docs" / "calibration" / "posterior.csv"
VALUES = {
    "moral_cost": 0.01,
    "choice_sensitivity": 2.0,
    "experience_scale": 10.0,
    "support_share": 0.1,
    "business_strength": 0.5,
    "utility_quality": 0.5,
    "resident_noise": 0.2,
    "symbiosis": 0.5,
}


def test_the_check_reads_the_fits_own_survey_and_follows_the_seed():
    """Up to the survey quarter a transient run is the fit's run: its shares there equal, to the bit, the
    statistics the likelihood reads for the same parameters and seed (run_survey_model); the window's surveys
    are every 5th quarter; the same seed gives the same series, and the check's table is the same serially
    and on processes."""
    calib = load_calibration(CALIBRATION, quick=True)
    params = calib.run_parameters("fitted", VALUES)
    survey_at = params["burn_in"] + params["steps"]
    run = json.loads(_transient_task(params, 11, 20, (survey_at, 12, 4))["series"])
    stats, _ = run_survey_model(params, 11)
    fit = np.concatenate([np.ravel(_rows(t, stats[t])) for t in TABLES])
    assert np.array_equal(np.array(run["at"]), fit) and len(run["at"]) == len(transient_cells()) == 26
    assert len(run["window"]) == 3  # quarters 12, 16, 20
    assert run == json.loads(_transient_task(params, 11, 20, (survey_at, 12, 4))["series"])
    other = json.loads(_transient_task(params, 12, 20, (survey_at, 12, 4))["series"])
    assert other["at"] != run["at"]

    from simulation.runs.evaluator import open_executor

    medians = {"fitted": VALUES, "partnership": {k: v for k, v in VALUES.items() if k != "symbiosis"}}
    serial = transient(calib, medians, None, seeds=3, window=(10, 16), every=3)
    with open_executor("processes", 2) as pool:
        parallel = transient(calib, medians, pool, seeds=3, window=(10, 16), every=3)
    pd.testing.assert_frame_equal(serial, parallel)
    assert len(serial) == 2 * (26 + 1) and (serial["runs"] == 3).all()
    with pytest.raises(ValueError, match="at least 2 runs"):
        transient(calib, medians, None, seeds=1, window=(10, 16))
    with pytest.raises(ValueError, match="survey quarter 8 < from < to"):
        transient(calib, medians, None, seeds=2, window=(6, 16))


def test_the_table_is_the_bias_against_the_same_runs_window_with_a_t_interval():
    """By hand: three runs, two surveys in the window each; the bias of a cell is the run's share at the survey
    quarter minus its own window mean, in pp, averaged over the runs with Student's t 90% half-width; Table 6
    "satisfied" is the mean over the utilities' "Satisfied" cells, per run, with its own interval; a run that
    could not be surveyed (NaN) is left out; a cell is beyond the margin only when its whole interval is."""
    cells = transient_cells()
    sat = [i for i, (t, label) in enumerate(cells) if t == "table6" and label.endswith(" / Satisfied")]
    assert [cells[i][1] for i in sat] == [
        "heat / Satisfied",
        "water / Satisfied",
        "power / Satisfied",
        "gas / Satisfied",
    ]
    base = np.full(26, 0.2)
    runs = []
    for k, shift in enumerate((0.05, 0.06, 0.07)):
        at = base.copy()
        at[0] += shift  # table5 "1": 5-7 pp above its window
        at[sat] -= 0.01 * (k + 1)  # Table 6 satisfied: 1, 2, 3 pp below
        runs.append({"at": at.tolist(), "window": [base.tolist(), (base + 0.002 * (k - 1)).tolist()]})
    runs.append({"at": [float("nan")] * 26, "window": [base.tolist()]})  # a run with no one to ask
    table = transient_table({"fitted": runs}, {"fitted": 154}, window=(250, 400))
    assert len(table) == 27 and (table["runs"] == 3).all() and (table["survey_quarter"] == 154).all()
    first = table.iloc[0]
    bias = np.array([100 * (0.25 - (0.2 + 0.001 * -1)), 100 * (0.26 - 0.2), 100 * (0.27 - 0.201)])
    half = t_dist.ppf(0.95, 2) * bias.std(ddof=1) / np.sqrt(3)
    assert first["cell"] == "Total / 1" and first["bias_pp"] == pytest.approx(bias.mean())
    assert first["bias_q05_pp"] == pytest.approx(bias.mean() - half) and bool(first["beyond_margin"])
    assert first["at_survey_pct"] == pytest.approx(26.0) and first["window_pct"] == pytest.approx(20.0)
    mean6 = table.iloc[-1]
    per_run = np.array([-1.0, -2.0, -3.0]) - 100 * 0.002 * np.array([-1, 0, 1]) / 2
    assert mean6["cell"] == "mean of the utilities / Satisfied"
    assert mean6["bias_pp"] == pytest.approx(per_run.mean())
    half6 = t_dist.ppf(0.95, 2) * per_run.std(ddof=1) / np.sqrt(3)
    assert mean6["bias_q95_pp"] == pytest.approx(per_run.mean() + half6)
    assert bool(mean6["beyond_margin"]) == (per_run.mean() + half6 < -TRANSIENT_MARGIN_PP)
    untouched = table[table["cell"] == "Total / 2"].iloc[0]  # table5 "2": only the window's drift
    assert abs(untouched["bias_pp"]) < 0.2 and not bool(untouched["beyond_margin"])


def test_the_command_refuses_bad_input_in_one_line_and_writes_nothing(tmp_path, capsys):
    """--seeds below 2, a window that does not lie after the survey quarter, a malformed window, --window
    without --transient-of, both checks at once and a missing posterior: one line, exit 2, nothing written."""
    out = tmp_path / "out"
    cases = [
        (["--transient-of", str(SHIPPED), "--seeds", "1"], "--seeds = 1 is not allowed"),
        (["--transient-of", str(SHIPPED), "--window", "3,20"], "survey quarter 8 < FROM < TO"),
        (["--transient-of", str(SHIPPED), "--window", "20"], "expected two quarters FROM,TO"),
        (["--window", "12,20"], "--window is for --transient-of only"),
        (["--transient-of", str(SHIPPED), "--misfit-of", str(SHIPPED)], "give one of them"),
        (["--transient-of", str(SHIPPED), "--sbc", "2"], "--transient-of and --sbc: give one of them"),
        (["--transient-of", str(tmp_path / "none.csv")], "none.csv: posterior file not found"),
    ]
    for extra, expected in cases:
        rc = main(["calibrate", str(CALIBRATION), "--quick", "--out", str(out), *extra])
        err = capsys.readouterr().err.strip()
        assert rc == 2 and expected in err and len(err.splitlines()) == 1, (extra, err)
        assert not out.exists()


def test_the_command_writes_the_table_with_its_provenance(tmp_path, capsys):
    """At the quick size: the table has a row per model and cell plus Table 6's mean, the manifest names the
    posterior, the medians, the window, the model version and the commit; a second run does not overwrite."""
    out = tmp_path / "out"
    args = ["calibrate", str(CALIBRATION), "--quick", "--transient-of", str(SHIPPED), "--seeds", "2"]
    rc = main([*args, "--window", "10,14", "--out", str(out), "--backend", "serial"])
    assert rc == 0, capsys.readouterr().err
    manifest = json.loads((out / "manifest.json").read_text())
    table = pd.read_csv(out / "transient.csv")
    assert set(table["model"]) == set(manifest["medians"]) == {"fitted", "partnership", "symbiotic"}
    assert len(table) == 3 * 27 and manifest["window"] == [10, 14] and manifest["survey_quarter"] == 8
    assert manifest["model_version"] == model_version() and manifest["git_commit"]
    assert "symbiosis" in manifest["medians"]["fitted"] and "symbiosis" not in manifest["medians"]["partnership"]
    before = (out / "transient.csv").read_bytes()
    rc = main([*args, "--window", "10,14", "--out", str(out), "--backend", "serial"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "already there" in err and (out / "transient.csv").read_bytes() == before


def _record(folder: Path, bias6: dict[str, float], beyond: dict[str, bool], manifest: dict | None = None) -> None:
    """A record folder with the shipped posterior and a transient table and manifest."""
    import shutil

    folder.mkdir()
    shutil.copy(SHIPPED, folder / "posterior.csv")
    from simulation.cli.calibrate import _posterior_medians

    medians = _posterior_medians(load_calibration(CALIBRATION), folder / "posterior.csv")
    rows = []
    for m, b in bias6.items():
        rows.append({"model": m, "table": "table6", "cell": "heat / Satisfied", "runs": 32, "bias_pp": b - 1.0})
        rows[-1] |= {"bias_q05_pp": b - 2.5, "bias_q95_pp": b + 0.5, "beyond_margin": beyond[m]}
        rows.append({"model": m, "table": "table6", "cell": "mean of the utilities / Satisfied", "runs": 32})
        rows[-1] |= {"bias_pp": b, "bias_q05_pp": b - 1.0, "bias_q95_pp": b + 1.0, "beyond_margin": False}
    pd.DataFrame(rows).to_csv(folder / "transient.csv", index=False)
    doc = {"model_version": model_version(), "git_commit": "unknown", "medians": medians, "survey_quarter": 154}
    doc |= {"window": [250, 400], "margin_pp": 1.0, "posterior_file": "docs/calibration/posterior.csv"}
    (folder / "transient_manifest.json").write_text(json.dumps(doc | (manifest or {})))


def _text(blocks) -> tuple[str, str]:
    (block,) = blocks
    return "".join(getattr(p, "text", str(p)) for p in block.parts), block.cls


def test_the_report_states_the_transient_and_warns_when_a_cell_is_beyond_the_margin(tmp_path):
    """The calibration section states each model's Table 6 "satisfied" bias with its interval; it warns and
    names the cells when any lies surely beyond the margin, and is plain when none does; it says when the
    measurement is missing, of another posterior's medians, or of an earlier model."""
    from simulation.report.sections.posterior import transient_blocks

    folder = tmp_path / "none"
    folder.mkdir()
    text, cls = _text(transient_blocks(folder))
    assert "has not been measured" in text and "transient.csv not found" in text and cls == "meta"

    broken = tmp_path / "broken"
    _record(broken, {"fitted": -0.4}, {"fitted": False})
    frame = pd.read_csv(broken / "transient.csv")
    for column, value in (("bias_pp", "abc"), ("beyond_margin", "maybe"), ("cell", None)):
        bad = frame.astype({column: object})
        bad.loc[0, column] = value
        bad.to_csv(broken / "transient.csv", index=False)
        text, cls = _text(transient_blocks(broken))
        assert cls == "meta" and "transient.csv cannot be read" in text, (column, text)

    quiet = tmp_path / "quiet"
    _record(
        quiet,
        {"fitted": -0.4, "partnership": -4.2, "symbiotic": -3.9},
        dict.fromkeys(("fitted", "partnership", "symbiotic"), False),
    )
    text, cls = _text(transient_blocks(quiet))
    assert "fitted -0.4 pp [-1.4, +0.6]; partnership -4.2 pp [-5.2, -3.2]; symbiotic -3.9 pp" in text
    assert "survey quarter 154" in text and "quarters 250-400" in text and "32 runs" in text
    assert "No fitted cell's 90% interval lies beyond ±1 pp" in text and cls == "" and "Read with care" not in text

    loud = tmp_path / "loud"
    _record(loud, {"fitted": -0.4, "partnership": -4.2}, {"fitted": False, "partnership": True})
    text, cls = _text(transient_blocks(loud))
    assert cls == "warning" and "beyond ±1 pp: partnership: Table 6 heat / Satisfied -5.2 pp." in text

    other = tmp_path / "other"
    _record(other, {"fitted": -0.4}, {"fitted": False}, {"medians": {"fitted": {"moral_cost": 0.5}}})
    text, cls = _text(transient_blocks(other))
    assert cls == "warning" and text.startswith("Read with care: it was measured at the medians of docs/")

    old = tmp_path / "old"
    _record(old, {"fitted": -0.4}, {"fitted": False}, {"model_version": "0123456789abcdef", "git_commit": "unknown"})
    text, cls = _text(transient_blocks(old))
    assert cls == "warning" and "measured on an earlier version of the model" in text
    # the record certifies that version and today's as the same model (recertified): the measure holds
    record = {"model_version": "0123456789abcdef", "equivalent_model_versions": [{"model_version": model_version()}]}
    (old / "manifest.json").write_text(json.dumps(record))
    text, cls = _text(transient_blocks(old))
    assert cls == "" and "Read with care" not in text
    (old / "manifest.json").write_text(json.dumps({"model_version": "0123456789abcdef"}))  # today's not certified
    assert "measured on an earlier version of the model" in _text(transient_blocks(old))[0]
