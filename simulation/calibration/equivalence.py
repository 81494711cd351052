"""Whether a calibration record still describes the current model: its fingerprint runs.

A record is fitted to one model version (``provenance.model_version``, a hash of the model's files).
A change of those files that computes the same numbers (a faster kernel, a renamed variable, a
comment) changes the version but not the fit: the record's posterior is still the current model's
best fit. Without a way to tell the two apart, every such change would make the report call the
shipped posterior "NOT RECALIBRATED" until a two-hour refit, and speed work on the model would cost
a refit each time.

The **fingerprint** tells them apart. It is a fixed set of fit runs, made when the record is made
(or later, by the version that made it): :data:`RUNS_PER_MODEL` particles of each model's posterior,
evenly spaced over its rows, each run at the record's calibration settings with a stored seed, and
the survey statistics that the likelihood reads (every table's shares and every cohort's). The
current code runs them again; when every statistic equals the stored one (bit for bit on the
fingerprint's machine class, within a relative 1e-9 on another, as the regression baseline is
compared), the current version joins the record's ``equivalent_model_versions`` and the record counts
as current (``report.content.record_changes``). When one differs, the model's results changed and
the fit must be made again; nothing is written.

What this does not prove: that the two versions agree at parameters no fingerprint run visits. A
change whose effect is confined to a region of the parameter space that 12 posterior particles of
three models do not reach would pass. The regression baseline (the model's contract for "no change of
results") is the other half of the check: ``tools/recertify_calibration.py`` runs both.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..io import InputError, atomic_write_json
from ..machine import fingerprint as machine_fingerprint
from ..posterior import load_posterior
from ..provenance import accepted_versions, git_commit, model_version
from .config import load_calibration
from .likelihood import particle_seed, run_survey_model

#: The fingerprint's file in a calibration record's folder.
FINGERPRINT_FILE = "fingerprint.json"
#: What the fingerprint's file holds, in a record's ``files``.
FINGERPRINT_NOTE = (
    "survey statistics of 4 posterior particles per model at stored seeds, made by the fit's model: a later "
    "model whose runs give the same numbers counts as this fit's (calibration/equivalence.py)"
)
#: Posterior particles run per model.
RUNS_PER_MODEL = 4
#: The largest relative difference allowed between machine classes (the regression baseline's).
RELATIVE = 1e-9
#: Salt of the fingerprint runs' seeds (other than the fit's runs' seeds).
SALT = 4177


def _record(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no calibration record here (written by `statebiz calibrate`)") from None
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: cannot read the calibration record ({err})") from None
    if not isinstance(record, dict):
        raise InputError(f"{path}: the calibration record must be a JSON object")
    for key in ("calibration_file", "models", "seed", "model_version"):
        if key not in record:
            raise InputError(f"{path}: the record has no '{key}'; it must come from `statebiz calibrate`")
    return record


def fingerprint_runs(folder: Path, record: dict[str, Any]) -> list[dict[str, Any]]:
    """The fingerprint's runs of a record: model, particle values and seed, :data:`RUNS_PER_MODEL` per model."""
    runs = []
    for model in record["models"]:
        post = load_posterior(folder / "posterior.csv", model)
        rows = np.unique(np.linspace(0, len(post.weights) - 1, RUNS_PER_MODEL).round().astype(int))
        for i in rows:
            values = post.row(int(i))
            seed = particle_seed(int(record["seed"]) + SALT, model, values)
            runs.append({"model": model, "row": int(i), "values": values, "seed": seed})
    return runs


def run_fingerprint(folder: str | Path, runs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Run a record's fingerprint runs with the current code (``runs``: the stored ones, else chosen anew)."""
    folder = Path(folder)
    record = _record(folder)
    calib = load_calibration(record["calibration_file"], quick=bool(record.get("quick", False)))
    if runs is None:
        runs = fingerprint_runs(folder, record)
    out = []
    for run in runs:
        params = calib.run_parameters(run["model"], run["values"])
        stats, _ = run_survey_model(params, int(run["seed"]))
        out.append(run | {"statistics": {k: [float(x) for x in np.asarray(v).ravel()] for k, v in stats.items()}})
    machine = machine_fingerprint()
    return {
        "model_version": model_version(),
        "machine_class": machine["machine_class"],
        "portable": machine["portable"],
        "calibration_file": record["calibration_file"],
        "made": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": out,
    }


def read_fingerprint(folder: str | Path) -> dict[str, Any] | None:
    """A record's stored fingerprint, or None when it has none.

    Raises:
        InputError: the file exists but is not a fingerprint (one line naming it).
    """
    path = Path(folder) / FINGERPRINT_FILE
    if not path.exists():
        return None
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(stored.get("runs"), list) or not stored["runs"]:
            raise ValueError("no runs")
        for run in stored["runs"]:
            if not {"model", "values", "seed", "statistics"} <= set(run):
                raise ValueError("a run lacks model, values, seed or statistics")
    except (OSError, ValueError, AttributeError, TypeError) as err:
        raise InputError(f"{path}: not a calibration fingerprint ({err})") from None
    return stored


def _same(a: float, b: float, exact: bool) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if exact or a == b:
        return a == b
    return abs(a - b) <= RELATIVE * max(abs(a), abs(b))


def differences(stored: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """Where the current runs differ from the stored ones (empty: the same numbers)."""
    exact = stored.get("machine_class") == now.get("machine_class")
    out = []
    if len(stored["runs"]) != len(now["runs"]):
        return [f"{len(now['runs'])} runs now against {len(stored['runs'])} stored"]
    for k, (s, n) in enumerate(zip(stored["runs"], now["runs"], strict=True)):
        for key in sorted(set(s["statistics"]) | set(n["statistics"])):
            a, b = s["statistics"].get(key), n["statistics"].get(key)
            if a is None or b is None or len(a) != len(b):
                out.append(f"run {k} ({s['model']}): statistic {key} is missing or has another length")
                continue
            bad = [j for j, (x, y) in enumerate(zip(a, b, strict=True)) if not _same(float(x), float(y), exact)]
            if bad:
                j = bad[0]
                out.append(f"run {k} ({s['model']}, row {s.get('row')}): {key}[{j}] {b[j]!r} now, {a[j]!r} stored")
    return out


def write_fingerprint(folder: str | Path, overwrite: bool = False) -> Path:
    """Make and store a record's fingerprint. Only the model version the record was fitted to may make it.

    Raises:
        InputError: the current model is not the record's, or a fingerprint exists and ``overwrite`` is off.
    """
    folder = Path(folder)
    record = _record(folder)
    path = folder / FINGERPRINT_FILE
    if path.exists() and not overwrite:
        raise InputError(f"{path}: a fingerprint exists; check against it instead, or ask to overwrite it")
    if model_version() != record["model_version"]:
        raise InputError(
            f"{folder / 'manifest.json'}: model_version {record['model_version']} is not the current model's "
            f"({model_version()}); only the model a record was fitted to can make its fingerprint"
        )
    atomic_write_json(path, run_fingerprint(folder))
    listed = record.get("files")
    written = (record.get("statebiz_result") or {}).get("files")
    if isinstance(listed, dict) and FINGERPRINT_FILE not in listed:  # a record made before fingerprints
        listed[FINGERPRINT_FILE] = FINGERPRINT_NOTE
        if isinstance(written, list) and FINGERPRINT_FILE not in written:
            record["statebiz_result"]["files"] = sorted(written + [FINGERPRINT_FILE])
        atomic_write_json(folder / "manifest.json", record)
    return path


def check_current(folder: str | Path) -> tuple[dict[str, Any], list[str]]:
    """Run a record's stored fingerprint with the current code: (the runs now, their differences).

    Raises:
        InputError: the record or its fingerprint is missing or malformed.
    """
    folder = Path(folder)
    _record(folder)
    stored = read_fingerprint(folder)
    if stored is None:
        raise InputError(f"{folder / FINGERPRINT_FILE}: the record has no fingerprint (make one with its own model)")
    keep = ("model", "row", "values", "seed")
    now = run_fingerprint(folder, [{k: r[k] for k in keep if k in r} for r in stored["runs"]])
    return now, differences(stored, now)


def add_equivalent_version(folder: str | Path, now: dict[str, Any], also: str = "") -> dict[str, Any]:
    """Add the current model version to a record's ``equivalent_model_versions`` (written atomically);
    ``also``: what else was checked, in words."""
    folder = Path(folder)
    record = _record(folder)
    if now["model_version"] in accepted_versions(record):
        return record
    entry = {
        "model_version": now["model_version"],
        "git_commit": git_commit(),
        "checked": now["made"],
        "machine_class": now["machine_class"],
        "how": f"{len(now['runs'])} fingerprint runs ({FINGERPRINT_FILE}) gave the same survey statistics"
        + (f"; {also}" if also else ""),
    }
    record["equivalent_model_versions"] = list(record.get("equivalent_model_versions", []) or []) + [entry]
    atomic_write_json(folder / "manifest.json", record)
    return record
