"""simulation.io: TOML input errors, atomic files, staged result directories, JSON, provenance."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation import io
from simulation.scenario import ScenarioError


def test_load_toml_errors_are_one_line_and_name_the_file(tmp_path):
    cases = {
        "missing.toml": (None, "experiment file not found"),
        "latin1.toml": (b'name = "\xe9"\n', "not a UTF-8 text file"),
        "bad.toml": (b"name = \n", "malformed TOML"),
    }
    for name, (content, expected) in cases.items():
        path = tmp_path / name
        if content is not None:
            path.write_bytes(content)
        with pytest.raises(ScenarioError) as err:
            io.load_toml(path, "experiment", ScenarioError)
        assert str(err.value).startswith(f"{path}: ") and expected in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(io.InputError, match="is a directory"):  # the default error class
        io.load_toml(tmp_path, "experiment")
    good = tmp_path / "good.toml"
    good.write_text('name = "x"\n')
    assert io.load_toml(good, "experiment") == ({"name": "x"}, 'name = "x"\n')


def test_suggest_matches_the_scenario_files_hint():
    from simulation import scenario

    for key in ("firm", "corruption_inital", "xyz", "wrld"):
        assert io.suggest(key, list(scenario.BY_NAME) + list(scenario.SECTIONS)) == scenario._suggest(key)
    assert io.suggest("firm", ["firms"]) == " (did you mean 'firms'?)"


def test_staged_directory_replaces_only_on_success(tmp_path):
    out = tmp_path / "res"
    with io.staged_directory(out, overwrite=False) as tmp:
        (tmp / "a.txt").write_text("one")
    assert (out / "a.txt").read_text() == "one"
    with pytest.raises(io.ResultExistsError, match="--overwrite"):
        with io.staged_directory(out, overwrite=False):
            pass
    with pytest.raises(RuntimeError):
        with io.staged_directory(out, overwrite=True) as tmp:
            (tmp / "b.txt").write_text("two")
            raise RuntimeError("fails half-way")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"] and (out / "a.txt").read_text() == "one"
    with io.staged_directory(out, overwrite=True) as tmp:
        (tmp / "b.txt").write_text("two")
    assert sorted(p.name for p in out.iterdir()) == ["b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]  # no temporary or old directory left


def test_atomic_writes_and_jsonable(tmp_path):
    path = tmp_path / "sub" / "doc.json"
    doc = {
        "n": np.int64(3),
        "x": np.float32(0.5),
        "a": np.arange(3),
        "p": Path("a/b"),
        "t": (1, 2),
        "when": pd.Timestamp("2026-01-02"),
        "flag": np.bool_(True),
    }
    io.atomic_write_json(path, doc)
    assert json.loads(path.read_text()) == {
        "n": 3,
        "x": 0.5,
        "a": [0, 1, 2],
        "p": "a/b",
        "t": [1, 2],
        "when": "2026-01-02T00:00:00",
        "flag": True,
    }
    io.atomic_write_text(path, "plain")
    assert path.read_text() == "plain" and [p.name for p in path.parent.iterdir()] == ["doc.json"]
    with pytest.raises(TypeError):
        io.jsonable(object())


def test_provenance():
    versions = io.package_versions(("scipy",))
    assert {"python", "mesa", "numpy", "scipy"} <= set(versions)
    assert io.package_version("no-such-distribution-xyz") == "not installed"
    assert len(io.model_version()) == 16 and io.git_commit()
