"""The bad-input corpus (tests/bad_inputs.py): one-line error, exit 2, no traceback, nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulation.cli import main
from tests.bad_inputs import CASES, EXPERIMENT, SCENARIO

REPO = Path(__file__).resolve().parents[2]


def _tree(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_size if p.is_file() else -1 for p in sorted(root.rglob("*"))}


def _small_store(directory: Path) -> None:
    """A sweep's results made by hand, quickly: the manifest (as a sweep writes it) and one part."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    identity = {"experiment_id": "x", "model_version": "y"}
    manifest = identity | {
        "experiment": {"name": "exp"},
        "factors": [
            {"name": "governance", "role": "lever", "values": ["partnership", "symbiotic"]}
            | {"low": None, "high": None, "levels": None}
        ],
        "outcomes": ["corruption_incidence"],
        "design": {"type": "factorial"},
        "replications": 1,
        "design_points": 2,
        "root_seed": 1,
        "statebiz_result": {"kind": "sweep store", "written_by": "statebiz"},
    }
    part = pa.table(
        {
            "run_key": ["a", "b"],
            "point": [0, 1],
            "replication": [0, 0],
            "seed": [1, 1],
            "governance": ["partnership", "symbiotic"],
            "corruption_incidence": [0.1, 0.2],
            "error": pa.array([None, None], pa.string()),
            "elapsed_s": [0.1, 0.1],
        }
    )
    part = part.replace_schema_metadata({"statebiz": json.dumps(identity, sort_keys=True)})
    pq.write_table(part, directory / "part-00000.parquet")
    (directory / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2(case, tmp_path, monkeypatch, capsys):
    case_id, kind, content, argv = case
    (tmp_path / "tiny.toml").write_text(SCENARIO)
    (tmp_path / "exp.toml").write_text(EXPERIMENT)
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("not a statebiz result\n")
    (tmp_path / "listmanifest").mkdir()
    (tmp_path / "listmanifest" / "manifest.json").write_text("[1, 2]\n")
    (tmp_path / "fake").mkdir()  # a manifest statebiz did not write, beside the user's files
    (tmp_path / "fake" / "manifest.json").write_text('{"name": "x"}\n')
    (tmp_path / "fake" / "notes.txt").write_text("not a statebiz result\n")
    (tmp_path / "marked").mkdir()  # a statebiz result to which the user added a file
    marker = {"statebiz_result": {"kind": "result", "written_by": "statebiz", "files": ["summary.json"]}}
    (tmp_path / "marked" / "manifest.json").write_text(json.dumps(marker))
    (tmp_path / "marked" / "summary.json").write_text("{}")
    (tmp_path / "marked" / "notes.txt").write_text("mine\n")
    (tmp_path / "victim.txt").write_text("precious\n")  # planted lock files that lead to it
    (tmp_path / ".linked.lock").symlink_to(tmp_path / "victim.txt")
    os.link(tmp_path / "victim.txt", tmp_path / ".hardlinked.lock")
    (tmp_path / ".lockdir.lock").mkdir()
    (tmp_path / "linkedstore").mkdir()  # a sweep's results whose analysis/ leads elsewhere
    (tmp_path / "linkedstore" / "analysis").symlink_to(tmp_path / "fake")
    _small_store(tmp_path / "linkedstore")
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


# -- fuzzing: any scenario or experiment file loads cleanly or fails with one line --------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402 - the fuzz tests' own imports
from hypothesis import strategies as st  # noqa: E402

from simulation.io import InputError  # noqa: E402

_KEYS = [
    "name", "description", "scenario", "replications", "seed", "quarters", "outcomes", "governance",
    "firms", "steps", "burn_in", "regions", "residents_per_region", "transparency", "audit_rate",
    "power_strength", "business_strength", "type", "samples", "levels", "low", "high", "trajectories",
]  # fmt: skip
_SECTIONS = ["run", "world", "governance", "levers", "base", "design", "uncertainties", "dealings", "x"]
_scalars = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=12),
    st.sampled_from(["tiny.toml", "partnership", "symbiotic", "factorial", "lhs", "sobol", "morris", "regime_*"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(_KEYS), inner, max_size=3)),
    max_leaves=8,
)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v).replace("inf", "inf").replace("nan", "nan")
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + "}"


@st.composite
def _documents(draw) -> str:
    top = draw(st.dictionaries(st.sampled_from(_KEYS), _values, max_size=6))
    lines = [f"{k} = {_toml_value(v)}" for k, v in top.items()]
    for section in draw(st.lists(st.sampled_from(_SECTIONS), max_size=3, unique=True)):
        lines.append(f"[{section}]")
        body = draw(st.dictionaries(st.sampled_from(_KEYS), _values, max_size=4))
        lines += [f"{k} = {_toml_value(v)}" for k, v in body.items()]
    return "\n".join(lines) + "\n"


_FILES = st.one_of(_documents(), st.text(max_size=200), st.binary(max_size=100))


def _load_or_one_line(loader, path, content) -> None:
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))
    try:
        loader(path)
    except InputError as err:  # ScenarioError and its kin: the CLI prints it as one line, exit 2
        assert "\n" not in str(err) and str(err), repr(str(err))


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=_FILES)
def test_fuzzed_scenario_files_load_or_fail_in_one_line(tmp_path, content):
    from simulation.scenario import load_scenario

    _load_or_one_line(load_scenario, tmp_path / "fuzz.toml", content)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=_FILES)
def test_fuzzed_experiment_files_load_or_fail_in_one_line(tmp_path, content):
    from simulation.runs.spec import load_experiment

    (tmp_path / "tiny.toml").write_text(SCENARIO)
    _load_or_one_line(load_experiment, tmp_path / "fuzz.toml", content)
