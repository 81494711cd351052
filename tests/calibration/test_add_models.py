"""A stored fit continued by a file that fits one more model (tools/add_models_to_fit.py, then --resume)
writes the record that one run of that file writes: each model's sampler draws from (seed, model index)
alone. The shipped record was made this way (docs/calibration/NOTE.md)."""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path

import pandas as pd

from simulation import calibration as cal

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "turkestan.toml"

SMALL = f"""
name = "small"
scenario = "{SCENARIO}"
seed = 11
models = MODELS
[model]
firms = 150
residents_per_region = 200
burn_in = 6
steps = 2
[priors]
moral_cost = {{ distribution = "uniform", low = 0.001, high = 0.05 }}
utility_quality = {{ distribution = "uniform", low = 0.1, high = 0.95 }}
SYMBIOSIS
[likelihood]
design_effect = "survey"
[smc]
population_size = 12
moves_per_stage = 1
max_stages = 6
replicates = 2
predictive_draws = 10
surveys_per_draw = 1
recovery_datasets = 5
fresh_draws = 2
"""


def _file(folder: Path, models: list[str], seed: int = 11) -> Path:
    text = SMALL.replace("MODELS", repr(models).replace("'", '"')).replace("seed = 11", f"seed = {seed}")
    prior = 'symbiosis = { distribution = "uniform", low = 0.0, high = 1.0 }'
    path = folder / f"{'_'.join(models)}_{seed}.toml"
    path.write_text(text.replace("SYMBIOSIS", prior if "fitted" in models else ""))
    return path


def _tool():
    spec = importlib.util.spec_from_file_location("add_models_to_fit", ROOT / "tools" / "add_models_to_fit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _settings(db: Path) -> str:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT value FROM settings WHERE key = 'fit'").fetchone()[0]


def test_a_stored_fit_continued_with_another_model_equals_one_fit_of_all(tmp_path, capsys):
    both = _file(tmp_path, ["fitted", "partnership"])
    once = tmp_path / "once"
    cal.run_calibration(cal.load_calibration(both), once, backend="serial", quiet=True)

    part = tmp_path / "part"
    cal.run_calibration(cal.load_calibration(_file(tmp_path, ["partnership"])), part, backend="serial", quiet=True)
    tool = _tool()
    # another seed: refused, one line, the stored settings untouched
    before = [_settings(part / name) for name in ("smc.db", "smc_r1.db")]
    assert tool.main([str(_file(tmp_path, ["fitted", "partnership"], seed=12)), str(part), "--write"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "seed differ" in err
    assert [_settings(part / name) for name in ("smc.db", "smc_r1.db")] == before
    # checking alone writes nothing; --write lets --resume continue it
    assert tool.main([str(both), str(part)]) == 0 and "models to add: fitted" in capsys.readouterr().out
    assert [_settings(part / name) for name in ("smc.db", "smc_r1.db")] == before
    assert tool.main([str(both), str(part), "--write"]) == 0
    cal.run_calibration(cal.load_calibration(both), part, backend="serial", quiet=True, resume=True)

    for name in ("posterior.csv", "evidence.csv", "replicates.csv", "generations.csv", "ppc_fresh.csv"):
        assert pd.read_csv(part / name).equals(pd.read_csv(once / name)), name
