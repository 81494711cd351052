"""docs/ODD.md stays true to the code: its parameter table is generated from simulation/parameters.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ODD = ROOT / "docs" / "ODD.md"
GENERATOR = ROOT / "tools" / "param_table.py"
START = "<!-- param-table:start -->"
END = "<!-- param-table:end -->"
STALE = "docs/ODD.md parameter table is stale: run python tools/param_table.py --write"


def generator_output() -> str:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, str(GENERATOR)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"tools/param_table.py exited {done.returncode}: {done.stderr}"
    return done.stdout


def table_block() -> str:
    text = ODD.read_text(encoding="utf-8")
    assert text.count(START) == 1 and text.count(END) == 1, (
        f"docs/ODD.md must hold exactly one '{START}' and one '{END}' marker"
    )
    head, rest = text.split(START + "\n", 1)
    block, sep, _ = rest.partition(END)
    assert sep and (block == "" or block.endswith("\n")), f"'{END}' must start a line of its own in docs/ODD.md"
    return block


def test_parameter_table_is_current():
    assert table_block() == generator_output(), STALE


def test_every_parameter_and_preset_is_in_the_odd():
    from simulation.parameters import GOVERNANCE_PRESETS, PARAMETERS

    block = table_block()
    missing = [p.name for p in PARAMETERS if f"| `{p.name}` |" not in block]
    assert not missing, f"parameters missing from the ODD's table: {missing}; {STALE}"
    for name in GOVERNANCE_PRESETS:
        assert f"| {name} |" in block, f"governance preset '{name}' is not a column of the ODD's preset table; {STALE}"


def test_the_odd_process_table_follows_the_schedule():
    """ODD section 3 numbers the steps as the schedule does, each with its module."""
    import re

    from simulation.schedule import SCHEDULE

    odd = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
    section = odd[odd.index("## 3 Process overview") : odd.index("## 4 Design concepts")]
    rows = {int(m.group(1)): m.group(2) for m in re.finditer(r"^\| (\d+) \| [^|]+ \| ([^|]+) \|", section, re.M)}
    assert sorted(rows) == [s.number for s in SCHEDULE], f"ODD steps {sorted(rows)}"
    for step in SCHEDULE:
        if step.run is not None:
            module = step.run.__module__.rsplit(".", 1)[1]
            assert f"submodels/{module}.py" in rows[step.number], f"step {step.number}: ODD says {rows[step.number]}"
