"""A calibration record stays the current model's fit across a change of the model's files exactly when its
fingerprint runs give the same numbers (simulation/calibration/equivalence.py, tools/recertify_calibration.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from simulation.calibration import equivalence as eq
from simulation.io import InputError
from simulation.machine import portable_environment
from simulation.provenance import accepted_versions, model_version
from simulation.report.content import record_changes

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "recertify_calibration.py"
SHIPPED = ROOT / "docs" / "calibration"

SMALL = f"""
name = "small"
scenario = "{ROOT / "scenarios" / "turkestan.toml"}"
seed = 5
models = ["partnership", "symbiotic"]
[model]
firms = 120
residents_per_region = 200
burn_in = 4
steps = 2
[priors]
moral_cost = {{ distribution = "uniform", low = 0.001, high = 0.05 }}
[likelihood]
design_effect = "survey"
[smc]
population_size = 8
"""


@pytest.fixture
def record(tmp_path):
    """A small record: a calibration file, two particles of each model, a manifest of the current model."""
    calib = tmp_path / "small.toml"
    calib.write_text(SMALL, encoding="utf-8")
    folder = tmp_path / "record"
    folder.mkdir()
    rows = ["model,weight,moral_cost"] + [f"{m},0.5,{v}" for m in ("partnership", "symbiotic") for v in (0.01, 0.03)]
    (folder / "posterior.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    manifest = {"calibration_file": str(calib), "quick": False, "models": ["partnership", "symbiotic"], "seed": 5}
    (folder / "manifest.json").write_text(json.dumps(manifest | {"model_version": model_version()}), encoding="utf-8")
    return folder


def test_a_fingerprint_reproduces_and_sees_a_change_of_one_ulp(record):
    path = eq.write_fingerprint(record)
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert [r["model"] for r in stored["runs"]] == ["partnership", "partnership", "symbiotic", "symbiotic"]
    assert len({r["seed"] for r in stored["runs"]}) == 4
    now, diff = eq.check_current(record)
    assert diff == []
    run = now["runs"][1]
    key = next(k for k, v in run["statistics"].items() if any(0 < x < 1 for x in v))
    j = next(i for i, x in enumerate(run["statistics"][key]) if 0 < x < 1)
    ulp = json.loads(json.dumps(now))
    ulp["runs"][1]["statistics"][key][j] = float(np.nextafter(run["statistics"][key][j], 2.0))
    assert eq.differences(stored, ulp) and key in eq.differences(stored, ulp)[0]  # one class: bit for bit
    ulp["machine_class"] = "another"
    assert eq.differences(stored, ulp) == []  # another class: within a relative 1e-9
    ulp["runs"][1]["statistics"][key][j] = run["statistics"][key][j] * (1 + 1e-6)
    assert eq.differences(stored, ulp)


def test_only_the_records_own_model_makes_its_fingerprint_and_nothing_is_overwritten(record):
    manifest = record / "manifest.json"
    before = manifest.read_text(encoding="utf-8")
    manifest.write_text(before.replace(model_version(), "0" * 16), encoding="utf-8")
    with pytest.raises(InputError, match="model_version"):
        eq.write_fingerprint(record)
    assert not (record / eq.FINGERPRINT_FILE).exists()
    manifest.write_text(before, encoding="utf-8")
    eq.write_fingerprint(record)
    made = (record / eq.FINGERPRINT_FILE).read_bytes()
    with pytest.raises(InputError, match="a fingerprint exists"):
        eq.write_fingerprint(record)
    assert (record / eq.FINGERPRINT_FILE).read_bytes() == made


def test_an_equivalent_version_makes_an_old_record_current(record):
    eq.write_fingerprint(record)
    manifest = record / "manifest.json"
    old = json.loads(manifest.read_text(encoding="utf-8")) | {"model_version": "0" * 16, "git_commit": "0" * 40}
    manifest.write_text(json.dumps(old), encoding="utf-8")
    assert record_changes(old) == ["the model's source"]  # the report would say NOT RECALIBRATED
    now, diff = eq.check_current(record)
    assert diff == []
    eq.add_equivalent_version(record, now)
    new = json.loads(manifest.read_text(encoding="utf-8"))
    assert accepted_versions(new) == {"0" * 16, model_version()}
    assert record_changes(new) == []
    assert new["equivalent_model_versions"][0]["machine_class"] == now["machine_class"]
    eq.add_equivalent_version(record, now)  # once only
    assert len(json.loads(manifest.read_text(encoding="utf-8"))["equivalent_model_versions"]) == 1


def _tool(*args):
    env = os.environ | portable_environment()
    command = [sys.executable, str(TOOL), *map(str, args)]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)


def test_the_tool_refuses_bad_input_in_one_line_and_writes_nothing_when_results_differ(record, tmp_path):
    missing = _tool(tmp_path / "nowhere")
    assert missing.returncode == 2 and "manifest.json" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1 and "Traceback" not in missing.stderr
    no_print = _tool(record)
    assert no_print.returncode == 2 and "no fingerprint" in no_print.stderr
    eq.write_fingerprint(record)
    fp = record / eq.FINGERPRINT_FILE
    stored = json.loads(fp.read_text(encoding="utf-8"))
    stored["runs"][0]["statistics"]["table7"][0] += 0.01  # as if the model had changed its numbers
    fp.write_text(json.dumps(stored), encoding="utf-8")
    manifest = (record / "manifest.json").read_bytes()
    differ = _tool(record, "--write")
    assert differ.returncode == 1 and "differ" in differ.stdout and "table7[0]" in differ.stdout
    assert (record / "manifest.json").read_bytes() == manifest
    fp.write_text("{not json", encoding="utf-8")
    bad = _tool(record)
    assert bad.returncode == 2 and "fingerprint.json" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_the_shipped_record_is_current_exactly_when_its_fingerprint_runs_agree():
    """Today's code against the shipped fit's fingerprint (in the portable mode, as it was made): the record
    may count today's model version as its own only if the numbers are the same, and should when they are."""
    record = json.loads((SHIPPED / "manifest.json").read_text(encoding="utf-8"))
    done = _tool(SHIPPED)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    same, accepted = done.returncode == 0, model_version() in accepted_versions(record)
    assert not (same and not accepted), (
        "the model computes the shipped fit's numbers but the record does not know this version: "
        "run `python tools/recertify_calibration.py docs/calibration --write` and commit the record"
    )
    assert not (accepted and not same), "the shipped record counts this model as its own, but its numbers differ:\n" + (
        done.stdout
    )
