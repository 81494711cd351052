"""The bad-input corpus (tests/bad_inputs.py): one-line error, exit 2, no traceback, nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulation.cli import main
from tests.bad_inputs import CASES, EXPERIMENT, SCENARIO

REPO = Path(__file__).resolve().parents[1]


def _tree(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_size if p.is_file() else -1 for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2(case, tmp_path, monkeypatch, capsys):
    case_id, kind, content, argv = case
    (tmp_path / "tiny.toml").write_text(SCENARIO)
    (tmp_path / "exp.toml").write_text(EXPERIMENT)
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("not a statebiz result\n")
    (tmp_path / "listmanifest").mkdir()
    (tmp_path / "listmanifest" / "manifest.json").write_text("[1, 2]\n")
    (tmp_path / "results" / "earlier").mkdir(parents=True)
    (tmp_path / "results" / "earlier" / "manifest.json").write_text("{}\n")
    file = tmp_path / "bad.toml"
    if content is not None:
        file.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = tmp_path / "out"
    fill = {"file": str(file), "out": str(out), "scenario": str(tmp_path / "tiny.toml")}
    fill |= {"experiment": str(tmp_path / "exp.toml"), "tmp": str(tmp_path)}
    args = [a.format(**fill) for a in argv]
    before = _tree(tmp_path)
    if case_id.endswith("-subprocess"):
        env = dict(os.environ, PYTHONPATH=str(REPO))
        proc = subprocess.run(
            [sys.executable, "-m", "simulation", *args], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        code, err = proc.returncode, proc.stderr
    else:
        monkeypatch.chdir(tmp_path)
        code = main(args)
        err = capsys.readouterr().err
    assert code == 2, f"exit {code}; stderr {err!r}"
    assert "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, f"stderr is not one line: {err!r}"
    assert not out.exists(), "output directory created"
    assert _tree(tmp_path) == before, "files were written or removed"


def test_the_corpus_bases_are_valid(tmp_path, monkeypatch):
    """Each bad case is one change to a valid file: the valid files load (so a case fails for its own reason)."""
    from simulation.calibration import load_calibration
    from simulation.report.config import load_compare
    from simulation.runs.spec import load_experiment
    from simulation.scenario import load_scenario
    from tests.bad_inputs import CALIBRATION, COMPARE

    monkeypatch.chdir(tmp_path)
    for name, text in [("tiny.toml", SCENARIO), ("exp.toml", EXPERIMENT), ("cmp.toml", COMPARE)]:
        (tmp_path / name).write_text(text)
    (tmp_path / "cal.toml").write_text(CALIBRATION)
    load_scenario(tmp_path / "tiny.toml")
    load_experiment(tmp_path / "exp.toml")
    load_compare(tmp_path / "cmp.toml", quick=True)
    load_calibration(tmp_path / "cal.toml", quick=True)
