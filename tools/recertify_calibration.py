"""Is a calibration record still the current model's fit? Run its fingerprint and the regression baseline.

A change of the model's files that computes the same numbers (a faster kernel, a comment) changes the
model version, so the report would call the shipped posterior "NOT RECALIBRATED". This tool checks that
the numbers are the same and, when they are, records the new version as equivalent
(``simulation/calibration/equivalence.py`` says how and what it does not prove):

Both run in the portable mode (the tool starts itself again in it if need be):

1. the record's fingerprint runs (``fingerprint.json``: 4 posterior particles of each model at the
   record's calibration settings and stored seeds) give the same survey statistics now;
2. the regression baseline holds (``python -m tests.regression`` in the portable mode).

Usage (from the repository root):
    python tools/recertify_calibration.py docs/calibration --make    # by the model version that made the fit:
                                                                    # store its fingerprint
    python tools/recertify_calibration.py docs/calibration          # check; print what differs
    python tools/recertify_calibration.py docs/calibration --write  # check, and if both hold, add the current
                                                                    # version to the record's equivalent versions

Exit status: 0 the same numbers (and, with --write, recorded), 1 the results differ (nothing written),
2 bad input (one line, nothing written).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulation.calibration.equivalence import (  # noqa: E402
    FINGERPRINT_FILE,
    accepted_versions,
    add_equivalent_version,
    check_current,
    write_fingerprint,
)
from simulation.io import InputError  # noqa: E402
from simulation.machine import check_portable_in_effect, portable_environment, portable_requested  # noqa: E402


def regression_holds() -> bool:
    """The regression baseline, checked in a child process in the portable mode (as `make baseline` wrote it)."""
    env = os.environ | portable_environment()
    done = subprocess.run([sys.executable, "-m", "tests.regression"], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        print((done.stdout + done.stderr).strip()[-2000:])
    return done.returncode == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("record", help="a calibration record's folder (manifest.json, posterior.csv)")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--make", action="store_true", help=f"store the record's {FINGERPRINT_FILE} (its own model only)")
    what.add_argument("--write", action="store_true", help="add the current model version if the numbers are the same")
    args = parser.parse_args(argv)
    if not portable_requested():  # the fingerprint is made and checked in the portable mode: one class on x86-64-v3+
        argv = sys.argv[1:] if argv is None else argv
        os.execve(sys.executable, [sys.executable, __file__, *argv], os.environ | portable_environment())
    problem = check_portable_in_effect()
    if problem:
        print(f"note: {problem}", file=sys.stderr)
    folder = Path(args.record)
    started = time.perf_counter()
    try:
        if args.make:
            path = write_fingerprint(folder)
            print(f"wrote {path} ({time.perf_counter() - started:.0f} s)")
            return 0
        now, diff = check_current(folder)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{len(now['runs'])} fingerprint runs in {time.perf_counter() - started:.0f} s on {now['machine_class']}")
    if diff:
        print(f"the results differ in {len(diff)} statistics: the model changed; fit again (`statebiz calibrate`)")
        for line in diff[:10]:
            print("  " + line)
        return 1
    print(f"the same survey statistics as the fit's model; current model version {now['model_version']}")
    if not args.write:
        return 0
    import json

    record = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    if now["model_version"] in accepted_versions(record):
        print("already recorded as equivalent; nothing written")
        return 0
    began = time.perf_counter()
    if not regression_holds():
        print("the regression baseline does not hold: nothing written")
        return 1
    print(f"the regression baseline holds ({time.perf_counter() - began:.0f} s)")
    add_equivalent_version(folder, now, also="the regression baseline held (python -m tests.regression, portable)")
    print(f"recorded in {folder / 'manifest.json'}: equivalent_model_versions += {now['model_version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
