"""The measurement tools of the fit's burn-in (tools/ppp_echo.py, tools/calibration_burn_in.py) run end to end on
a few seeds and refuse bad input in one line with exit code 2."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tool(name, *args):
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / name), *map(str, args)], cwd=ROOT, capture_output=True, text=True
    )


def test_the_echo_tool_reports_the_bias_at_the_fits_survey_quarter_and_draws_its_figure(tmp_path):
    figure, series = tmp_path / "echo.png", tmp_path / "series.npz"
    args = ("--seeds", 3, "--quarters", 160, "--window", "120,160", "--jitter", 4, "--models", "partnership")
    done = _tool("ppp_echo.py", *args, "--figure", figure, "--save", series)
    assert done.returncode == 0, done.stderr
    assert "bias at quarter 154 against the window" in done.stdout
    # Table 6 "satisfied" (the mean of the utilities) with its own 90% interval over seeds
    assert re.search(r"Table 6 satisfied [+-]\d+\.\d\d \[[+-]\d+\.\d\d, [+-]\d+\.\d\d\]\n", done.stdout)
    assert "a survey at a uniform quarter of 154-158" in done.stdout
    assert figure.stat().st_size > 10_000 and series.exists()
    import numpy as np

    saved = np.load(series)
    assert saved["partnership_shares"].shape == (3, 80, 26) and saved["partnership_operating"].shape == (3, 160)
    # the size tail's age, read from the start: the default start draws the large firms young
    assert saved["partnership_largest_age"].shape == (3, 161)
    assert "the 20 largest firms' mean age, years:" in done.stdout
    assert saved["partnership_largest_age"][:, 0].mean() < saved["partnership_largest_age"][:, -1].mean()


def test_the_echo_tool_refuses_a_window_outside_the_run_and_a_bad_parameter(tmp_path):
    for window in ("300,500", "abc"):
        done = _tool("ppp_echo.py", "--seeds", 2, "--quarters", 200, "--window", window)
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "--window" in done.stderr or "--quarters" in done.stderr
    for item in ("operation_spread=2.0", "no_such_parameter=1", "tender_pipeline=maybe"):
        done = _tool("ppp_echo.py", "--seeds", 2, "--set", item)
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert item.split("=")[0] in done.stderr and "Traceback" not in done.stderr


def test_the_burn_in_tool_refuses_a_bad_parameter_in_one_line():
    for item in ("stationary_sizes=2", "no_such_parameter=1", "tender_pipeline"):
        done = _tool("calibration_burn_in.py", "--draws", 2, "--set", item)
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert item.split("=")[0] in done.stderr and "Traceback" not in done.stderr


def test_parameter_assignments_read_flags_numbers_and_refuse_the_rest():
    import pytest

    from simulation.cli.common import parameter_assignments
    from simulation.parameters import ScenarioError

    got = parameter_assignments(["tender_pipeline=true", "operation_spread=0.5", "burn_in=40", "moral_cost=1e-3"])
    assert got == {"tender_pipeline": True, "operation_spread": 0.5, "burn_in": 40, "moral_cost": 0.001}
    assert parameter_assignments([]) == {}
    for bad in ("burn_in", "=3", "burn_in=", "burn_in=forty", "operation_spread=5.0", "nope=1"):
        with pytest.raises(ScenarioError, match="--set"):
            parameter_assignments([bad])


def test_table5_shape_finds_the_latent_that_made_a_table_and_refuses_bad_input():
    """The best latent of a family recovers the location and scale that made a table's shares exactly (normal
    and Student's t), so its X^2 is 0 there; the tool prints the paper's totals and every family, and refuses
    a negative --runs in one line with exit code 2."""
    import importlib.util

    import numpy as np

    spec = importlib.util.spec_from_file_location("table5_shape", ROOT / "tools" / "table5_shape.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    for df in (None, 2.0):
        counts = 1000.0 * tool.scores(0.3, 1.2, df)
        shares, x2, loc, scale = tool.best(counts, df)
        assert x2 < 1e-6 and abs(loc - 0.3) < 1e-3 and abs(scale - 1.2) < 1e-3
        assert np.allclose(shares, counts / 1000.0, atol=1e-6)
    wide = 1000.0 * tool.scores(0.0, 3.0, None)  # a flat table: a normal's best is still worse than exact
    assert tool.best(wide, 1.0)[1] > 1.0
    done = _tool("table5_shape.py")
    assert done.returncode == 0, done.stderr
    assert "Table 5 totals: [21, 20, 68, 48, 41] of 198" in done.stdout and "best Student t, 1 df" in done.stdout
    done = _tool("table5_shape.py", "--runs", -1)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and "--runs -1" in done.stderr


def test_the_cost_tool_splits_a_fit_run_and_refuses_an_unknown_model():
    """tools/fit_run_cost.py: a row per size whose parts add up to the run, a line through the quarters' cost,
    the compiled passes' share of a run between 0 and 100%; an unknown model is one line and exit 2."""
    done = _tool("fit_run_cost.py", "--firms", 100, 200, "--seeds", 1)
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines() if re.match(r"\s+\d+\s+\d", line)]
    assert [int(r[0]) for r in rows] == [100, 200]
    for r in rows:
        build, quarters, survey, run = map(float, r[1:5])
        assert run == pytest.approx(build + quarters + survey, abs=0.002)
        assert float(r[5]) == pytest.approx(1000 * quarters / 154, rel=0.01)
    share = re.search(r"\((\d+)%\) inside (\d+) calls", done.stdout)
    assert share and 0 < int(share.group(1)) < 100 and int(share.group(2)) > 154
    assert "a quarter:" in done.stdout
    bad = _tool("fit_run_cost.py", "--model", "nope")
    assert bad.returncode == 2 and len(bad.stdout.strip().splitlines()) == 1 and "fitted" in bad.stdout
