"""Mutation score per module from mutmut's results in mutants/, and the surviving mutants.

Run from the repository root after ``mutmut run`` (``make mutation`` does both):

    python tools/mutation_report.py            # scores per module, survivors by name
    python tools/mutation_report.py --diff     # and each survivor's diff (``mutmut show NAME``)
    python tools/mutation_report.py --markdown # the score table as Markdown, for docs/MUTATION.md

Mutants judged equivalent (no test can tell them from the original: docs/MUTATION.md gives
the reasons) are listed in ``docs/mutation-equivalent.toml``, in groups that share a reason.
The table's last column is the score over the non-equivalent mutants,
killed / (killed + survived + no tests - equivalent survivors); the report flags a mutant
listed as equivalent that a test killed (then it was not equivalent) or that no longer exists.

mutmut keeps one ``<module>.py.meta`` JSON file per mutated module under mutants/, with the
exit code of the test run of every mutant. Score = killed / (killed + survived + no tests):
a mutant that no test of the runner calls ("no tests") counts as surviving, and mutants not
run yet are left out and counted apart. Timeouts count as killed (the mutant made the tests
hang or loop), as mutmut counts them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

MUTANTS = Path("mutants")
EQUIVALENT = Path("docs/mutation-equivalent.toml")

# mutmut 3.8's exit codes of a mutant's test run (mutmut.stats.status_by_exit_code; others: suspicious)
STATUS = {
    1: "killed",
    3: "killed",
    0: "survived",
    5: "no tests",
    33: "no tests",
    2: "interrupted",
    None: "not checked",
    34: "skipped",
    35: "suspicious",
    36: "timeout",
    37: "caught by type check",
    -24: "timeout",
    24: "timeout",
    152: "timeout",
    255: "timeout",
    -11: "segfault",
    -9: "segfault",
}
KILLED = ("killed", "timeout", "segfault", "caught by type check")
NOT_KILLED = ("survived", "no tests", "suspicious")


def load() -> dict[str, dict[str, str]]:
    """Module name -> {mutant name: status}, for every module mutmut has mutated."""
    out = {}
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        source = meta.relative_to(MUTANTS).with_suffix("")  # simulation/formulas.py
        module = ".".join(source.with_suffix("").parts)
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        out[module] = {name: STATUS.get(code, "suspicious") for name, code in codes.items()}
    return out


def load_equivalent(path: Path = EQUIVALENT) -> dict[str, str]:
    """Mutant name -> the reason it is equivalent, from ``docs/mutation-equivalent.toml``."""
    if not path.is_file():
        return {}
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    return {name: group["reason"] for group in doc.get("group", []) for name in group["mutants"]}


def score_rows(results: dict[str, dict[str, str]], equivalent: dict[str, str] | None = None) -> list[dict]:
    """One row per module (and a total): counts by status, the raw score over mutants run, and
    the score over the non-equivalent ones (equivalent survivors left out)."""
    equivalent = equivalent or {}
    rows = []
    total = Counter()
    for module, statuses in results.items():
        counts = Counter(statuses.values())
        counts["equivalent"] = sum(1 for n, s in statuses.items() if n in equivalent and s in NOT_KILLED)
        total.update(counts)
        rows.append({"module": module, **_row(counts)})
    rows.append({"module": "total", **_row(total)})
    return rows


def _row(counts: Counter) -> dict:
    killed = sum(counts[s] for s in KILLED)
    not_killed = sum(counts[s] for s in NOT_KILLED)
    run = killed + not_killed
    judged = run - counts["equivalent"]
    return {
        "mutants": sum(counts.values()) - counts["equivalent"],
        "killed": killed,
        "survived": counts["survived"],
        "no_tests": counts["no tests"],
        "other": not_killed - counts["survived"] - counts["no tests"],
        "not_run": sum(counts.values()) - counts["equivalent"] - run,
        "score": killed / run if run else float("nan"),
        "equivalent": counts["equivalent"],
        "score_ne": killed / judged if judged else float("nan"),
    }


def _percent(score: float) -> str:
    return "-" if score != score else f"{100 * score:.1f}%"  # nan: no mutant of the module run yet


COLUMNS = ["module", "mutants", "killed", "survived", "no_tests", "other", "not_run", "score", "equivalent", "score_ne"]
SCORES = ("score", "score_ne")


def print_table(rows: list[dict], markdown: bool) -> None:
    """The table: ``score`` is killed over every mutant run; ``equivalent``, the survivors judged
    equivalent (docs/mutation-equivalent.toml); ``score_ne``, killed over the non-equivalent ones."""
    cols = COLUMNS

    def cell(r, c):
        return _percent(r[c]) if c in SCORES else str(r[c])

    if markdown:
        print("| " + " | ".join(cols) + " |")
        print("|" + "---|" * len(cols))
        for r in rows:
            print("| " + " | ".join([f"`{r['module']}`"] + [cell(r, c) for c in cols[1:]]) + " |")
        return
    width = max(len(r["module"]) for r in rows)
    print(f"{'module':<{width}}  " + "  ".join(f"{c:>10}" for c in cols[1:]))
    for r in rows:
        print(f"{r['module']:<{width}}  " + "  ".join(f"{cell(r, c):>10}" for c in cols[1:]))


def diff(module: str, name: str) -> str:
    """The mutant's diff against the original function, as ``mutmut show NAME`` prints it."""
    path = Path(*module.split(".")).with_suffix(".py")
    try:
        from mutmut.mutation.diff_apply import get_diff_for_mutant  # mutmut 3.8: in-process, fast
    except ImportError:
        mutmut = Path(sys.executable).with_name("mutmut")
        return subprocess.run([str(mutmut), "show", name], capture_output=True, text=True, check=False).stdout
    return get_diff_for_mutant(name, path=path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--diff", action="store_true", help="print each surviving mutant's diff")
    ap.add_argument("--markdown", action="store_true", help="the score table as Markdown")
    args = ap.parse_args(argv)
    results = load()
    if not results:
        print("no results in mutants/: run `make mutation` (or `mutmut run`) first", file=sys.stderr)
        return 1
    equivalent = load_equivalent()
    print_table(score_rows(results, equivalent), args.markdown)
    if args.markdown:
        return 0
    status = {n: s for statuses in results.values() for n, s in statuses.items()}
    killed = sorted(n for n in equivalent if status.get(n) in KILLED)
    unknown = sorted(n for n in equivalent if n not in status)
    if killed:
        print(f"\nListed as equivalent in {EQUIVALENT} but killed (not equivalent; remove them): {' '.join(killed)}")
    if unknown:
        print(f"\nListed as equivalent in {EQUIVALENT} but not a mutant of this run: {' '.join(unknown)}")
    survivors = [
        (m, n, s)
        for m, statuses in results.items()
        for n, s in statuses.items()
        if s in NOT_KILLED and n not in equivalent
    ]
    print(
        f"\nSurviving mutants not judged equivalent ({len(survivors)}; 'no tests': no test of the runner "
        "calls the function):"
    )
    for _, name, status_ in survivors:
        print(f"  {name}  [{status_}]")
    if args.diff and survivors:
        for module, name, status in survivors:
            print(f"\n# {name}: {status}")
            print(diff(module, name), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
