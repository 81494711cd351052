"""Let a stored fit be continued by a calibration file that fits more models than the stored fit did.

Each model's tempered SMC sampler draws only from streams of (the calibration's seed, the model's index
in ``simulation.calibration.config.MODELS``, the stage, the particle), and the models are fitted one after
the other, so a model's stages do not depend on which other models the same file fits. A stored fit of
models A and B, continued with ``statebiz calibrate FILE --resume`` by a file that fits A, B and C with the
same seed, sampler, model size, scenario and data, therefore keeps A's and B's stages, fits C, and writes
the record a single run of FILE would have written (``tests/calibration/test_add_models.py`` checks this
at the --quick size). ``--resume`` refuses a stored fit whose settings differ; this tool rewrites the
stored settings of every independent run's database in a result directory to FILE's, after checking that
they differ only in the list of models and in the priors of parameters that only the added models have.

Usage (from the repository root):
    python tools/add_models_to_fit.py experiments/calibration_turkestan.toml RESULT_DIR      # check only
    python tools/add_models_to_fit.py experiments/calibration_turkestan.toml RESULT_DIR --write
    statebiz calibrate experiments/calibration_turkestan.toml --out RESULT_DIR --resume
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulation.calibration.config import CalibrationError, load_calibration  # noqa: E402
from simulation.calibration.likelihood import observed_statistics  # noqa: E402
from simulation.calibration.run import replicate_file, replicate_seed  # noqa: E402
from simulation.calibration.smc import SamplerStore, _fit_settings  # noqa: E402


def compatible(stored: dict, wanted: dict, calib) -> str:
    """Why ``stored`` cannot be continued as ``wanted`` (empty when it can)."""
    differ = sorted(k for k in wanted if stored.get(k) != wanted[k])
    if set(differ) - {"models", "priors"}:
        return f"settings {', '.join(sorted(set(differ) - {'models', 'priors'}))} differ"
    if not set(stored["models"]) <= set(wanted["models"]):
        return f"the stored fit has models {stored['models']} that the file does not fit"
    kept = {n for m in stored["models"] for n in calib.model_priors(m)}
    for name in kept:
        if stored["priors"].get(name) != wanted["priors"].get(name):
            return f"the prior of {name}, a parameter of a stored model, differs"
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("calibration", help="the calibration file that will continue the fit")
    parser.add_argument("result", help="the stored fit's result directory (smc.db, smc_r1.db, ...)")
    parser.add_argument("--quick", action="store_true", help="the file's --quick settings")
    parser.add_argument("--write", action="store_true", help="rewrite the stored settings (otherwise check only)")
    args = parser.parse_args(argv)
    try:
        calib = load_calibration(args.calibration, quick=args.quick)
    except CalibrationError as err:
        print(f"add_models_to_fit: error: {err}", file=sys.stderr)
        return 2
    observed = observed_statistics()
    runs = range(calib.abc["replicates"])
    # each independent run's database holds its own seed (``replicate_seed``)
    wanted = [_fit_settings(replace(calib, seed=replicate_seed(calib.seed, r)), observed) for r in runs]
    paths = [Path(args.result) / replicate_file(r) for r in runs]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"add_models_to_fit: error: {', '.join(missing)} not found (one per independent run)", file=sys.stderr)
        return 2
    stores = [SamplerStore(p) for p in paths]
    try:
        for path, store, want in zip(paths, stores, wanted):
            stored = store.settings()
            why = "it holds no settings" if stored is None else compatible(stored, want, calib)
            if why:
                err = f"add_models_to_fit: error: {path}: cannot be continued by {args.calibration}: {why}"
                print(err, file=sys.stderr)
                return 2
        added = sorted(set(wanted[0]["models"]) - set(stores[0].settings()["models"]))
        adding = ", ".join(added) or "none"
        print(f"{len(paths)} databases can be continued by {args.calibration}; models to add: {adding}")
        if args.write:
            for store, want in zip(stores, wanted):
                store.set_settings(want)
            print("stored settings rewritten; now run: statebiz calibrate FILE --out RESULT_DIR --resume")
    finally:
        for store in stores:
            store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
