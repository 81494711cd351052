"""A stored fit's Bayes factor and model-choice statement, computed again the current way.

Since issue 25's fix of the estimator, the Bayes factor of s = 0 against s = 1 is the ratio of the pooled
evidences (the log of the mean of each model's run evidences, which is what the model probabilities use)
with a percentile bootstrap interval over the independent runs
(``simulation.calibration.results.bayes_factor``). Records written before took the mean of the runs'
log Bayes factors, which penalises the model whose runs spread more and could point the other way from
the record's own model probabilities. This tool reads a record's ``replicates.csv`` (every run's log
evidence) and its manifest's seed, prints the stored and the new statement, and with ``--write``
replaces ``bayes_factor_s0_s1`` and ``model_choice`` in ``manifest.json`` and the model-choice line of
``README.md`` (each file written atomically; ``model_choice_recomputed`` in the manifest says by what).
Nothing else of the record changes: no model run is made.

Usage (from the repository root):
    python tools/model_choice_again.py docs/calibration/measured/reduced_fit_k4
    python tools/model_choice_again.py docs/calibration/measured/reduced_fit_k4 --write
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulation.calibration.results import bayes_factor, model_choice_statement  # noqa: E402
from simulation.io import atomic_write_json, atomic_write_text, jsonable  # noqa: E402
from simulation.provenance import provenance  # noqa: E402

README_PREFIX = "- **Model choice**: "


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("record", help="a calibration record (a folder with manifest.json and replicates.csv)")
    parser.add_argument("--write", action="store_true", help="replace the statement in manifest.json and README.md")
    args = parser.parse_args(argv)
    record = Path(args.record)
    manifest_path, runs_path = record / "manifest.json", record / "replicates.csv"
    for path in (manifest_path, runs_path):
        if not path.is_file():
            print(f"model_choice_again: error: {path} not found (a calibration record has it)", file=sys.stderr)
            return 2
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        runs = pd.read_csv(runs_path)
    except (OSError, ValueError) as err:
        print(f"model_choice_again: error: {record}: cannot be read ({err})", file=sys.stderr)
        return 2
    if not isinstance(manifest, dict) or "seed" not in manifest or not {"model", "run", "log_evidence"} <= set(runs):
        print(
            f"model_choice_again: error: {record}: manifest.json needs 'seed' and replicates.csv the columns "
            "model, run and log_evidence",
            file=sys.stderr,
        )
        return 2
    bf = bayes_factor(runs, seed=int(manifest["seed"]))
    statement = model_choice_statement(bf)
    print(f"stored: {manifest.get('model_choice', '(none)')}")
    print(f"now:    {statement}")
    if not args.write:
        return 0
    manifest["bayes_factor_s0_s1"] = bf
    manifest["model_choice"] = statement
    manifest["model_choice_recomputed"] = {
        "by": "tools/model_choice_again.py",
        "why": "the Bayes factor is now the ratio of the pooled evidences with a bootstrap interval (issue 25)",
        "provenance": provenance(),
    }
    readme = record / "README.md"
    if readme.is_file():
        lines = readme.read_text(encoding="utf-8").splitlines(keepends=True)
        lines = [README_PREFIX + statement + "\n" if ln.startswith(README_PREFIX) else ln for ln in lines]
        atomic_write_text(readme, "".join(lines))
    atomic_write_json(manifest_path, jsonable(manifest))
    print(f"wrote {manifest_path}" + (f" and {readme}" if readme.is_file() else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
