"""Scenario files and the command line: bad input is refused with one clear line, results
are written completely or not at all, and never over an old result unless asked."""

from __future__ import annotations

import json
import re

import pytest
from conftest import SCENARIO_DIR

from simulation.cli import main
from simulation.scenario import BY_NAME, GOVERNANCE_PRESETS, ScenarioError, defaults, load_scenario, resolve

HEADER = 'name = "bad"\n'

#: (id, file content, the key the message must name, text the message must also contain)
BAD_FILES = [
    ("unknown-top-level-key", HEADER + "audit_rat = 0.1\n", "audit_rat'", "'audit_rate'"),
    ("unknown-key-in-section", HEADER + "[levers]\naudit_rat = 0.1\n", "audit_rat'", "'audit_rate'"),
    ("unknown-section", HEADER + "[leverz]\naudit_rate = 0.1\n", "leverz", "levers"),
    ("key-in-wrong-section", HEADER + "[world]\naudit_rate = 0.1\n", "audit_rate", "levers"),
    ("string-for-number", HEADER + '[levers]\naudit_rate = "high"\n', "audit_rate", "number"),
    ("bool-for-number", HEADER + "[levers]\naudit_rate = true\n", "audit_rate", "number"),
    ("float-for-int", HEADER + "[world]\nfirms = 1500.5\n", "firms", "integer"),
    ("string-for-int", HEADER + '[run]\nsteps = "ten"\n', "steps", "integer"),
    ("out-of-range-high", HEADER + "[levers]\naudit_rate = 1.5\n", "audit_rate", "[0.0, 1.0]"),
    ("out-of-range-low", HEADER + "[world]\nfirms = 5\n", "firms", "10"),
    ("negative", HEADER + "[run]\nburn_in = -1\n", "burn_in", "integer"),
    ("bad-governance", 'governance = "authoritarian"\n', "governance", "partnership"),
    ("bad-governance-in-section", '[governance]\ngovernance = "authoritarian"\n', "governance", "symbiotic"),
    ("bad-meta-type", "name = 5\n", "name", "string"),
    (
        "budget-shares-over-one",
        HEADER + "[levers]\nsupport_share = 0.5\n[ppp]\nppp_share = 0.5\n",
        "support_share",
        "1",
    ),
    ("odd-firm-ties", HEADER + "[world]\nfirm_ties = 5\n", "firm_ties", "even"),
    ("bad-region-id", HEADER + '[world]\nregions = "atlantis"\n', "regions", "atlantis"),
    ("bad-region-list", HEADER + '[world]\nregions = "turkestan,turkestan"\n', "regions", "turkestan"),
]

#: Files that are not scenario files at all: the message names the file (there is no key).
BROKEN_FILES = [
    ("malformed-toml", "[world\nfirms = 100\n", "TOML"),
    ("malformed-value", "[world]\nfirms = \n", "TOML"),
    ("non-utf8", b'name = "caf\xe9"\n[world]\nfirms = 1000\n', "UTF-8"),
]


def check_message(message: str, path, *parts: str) -> None:
    assert "\n" not in message.strip(), f"message is not one line: {message!r}"
    assert str(path) in message, f"message does not name the file {path}: {message!r}"
    for part in parts:
        assert part in message, f"message does not contain {part!r}: {message!r}"
    assert "Traceback" not in message, f"message holds a traceback: {message!r}"


# --- load_scenario ----------------------------------------------------------------------------


@pytest.mark.parametrize("content, key, extra", [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_load_scenario_rejects_bad_values(write_scenario, content, key, extra):
    path = write_scenario(content)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    check_message(str(err.value), path, key, extra)


@pytest.mark.parametrize("content, extra", [c[1:] for c in BROKEN_FILES], ids=[c[0] for c in BROKEN_FILES])
def test_load_scenario_rejects_broken_files(write_scenario, content, extra):
    path = write_scenario(content)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    check_message(str(err.value), path, extra)


def test_load_scenario_missing_file(tmp_path):
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    check_message(str(err.value), path, "not found")


def test_load_scenario_directory_is_not_a_file(tmp_path):
    with pytest.raises(ScenarioError) as err:
        load_scenario(tmp_path)
    check_message(str(err.value), tmp_path)


def test_unknown_key_suggestion_names_the_nearest_parameter(write_scenario):
    path = write_scenario(HEADER + "[levers]\ntransparancy = 0.5\n")
    with pytest.raises(ScenarioError, match=re.escape("did you mean 'transparency'")):
        load_scenario(path)


def test_override_errors_name_the_key(small_scenario):
    with pytest.raises(ScenarioError) as err:
        load_scenario(small_scenario, audit_rate=2.0)
    check_message(str(err.value), small_scenario, "audit_rate")
    with pytest.raises(ScenarioError) as err:
        load_scenario(small_scenario, audit_rat=0.2)
    check_message(str(err.value), small_scenario, "audit_rat'", "'audit_rate'")


# --- resolution order: defaults < preset < file < overrides ------------------------------------


def test_resolve_defaults_and_presets():
    p = resolve({})
    assert p == defaults() | GOVERNANCE_PRESETS["partnership"], "resolve({}) is not defaults + partnership preset"
    s = resolve({"governance": "symbiotic"})
    for k, v in GOVERNANCE_PRESETS["symbiotic"].items():
        assert s[k] == v, f"symbiotic preset not applied: {k} = {s[k]}, preset {v}"
    s = resolve({"governance": "symbiotic", "audit_rate": 0.2})
    assert s["audit_rate"] == 0.2, f"an explicit value did not beat the preset: audit_rate {s['audit_rate']}"
    assert set(p) == set(BY_NAME), "resolve() does not return every parameter"


def test_resolve_converts_types():
    p = resolve({"firms": 1000.0, "audit_rate": 1})
    assert p["firms"] == 1000 and type(p["firms"]) is int, f"firms = {p['firms']!r}, expected int 1000"
    assert type(p["audit_rate"]) is float, f"audit_rate = {p['audit_rate']!r}, expected a float"


def test_file_beats_preset_and_override_beats_file(write_scenario):
    path = write_scenario('governance = "symbiotic"\n[levers]\naudit_rate = 0.2\n[world]\nfirms = 900\n')
    sc = load_scenario(path)
    assert sc.params["audit_rate"] == 0.2, "the file's audit_rate did not beat the symbiotic preset"
    assert sc.params["symbiosis"] == GOVERNANCE_PRESETS["symbiotic"]["symbiosis"], "symbiotic preset not applied"
    sc2 = load_scenario(path, governance="partnership", firms=1200, steps=None)
    assert sc2.params["symbiosis"] == GOVERNANCE_PRESETS["partnership"]["symbiosis"], (
        "a governance override did not re-apply that preset"
    )
    assert sc2.params["audit_rate"] == 0.2, "a governance override lost the file's explicit audit_rate"
    assert sc2.params["firms"] == 1200, "override firms=1200 not applied"
    assert sc2.params["steps"] == BY_NAME["steps"].default, "an override of None changed steps"
    sc3 = sc.with_overrides(governance="partnership")
    assert sc3.params == sc2.params | {"firms": 900}, "Scenario.with_overrides differs from load_scenario overrides"


@pytest.mark.parametrize("path", sorted(SCENARIO_DIR.glob("*.toml")), ids=lambda p: p.name)
def test_shipped_scenarios_load(path):
    sc = load_scenario(path)
    assert sc.name == path.stem, f"{path.name}: scenario name {sc.name!r}, expected {path.stem!r}"
    assert sc.description, f"{path.name}: no description"
    assert set(sc.params) == set(BY_NAME), f"{path.name}: resolved parameters incomplete"
    from simulation import regions

    assert regions.select(sc.params["regions"]), f"{path.name}: regions {sc.params['regions']!r} select nothing"


def test_shipped_scenarios_exist():
    names = {p.name for p in SCENARIO_DIR.glob("*.toml")}
    assert {"turkestan.toml", "kazakhstan.toml"} <= names, f"shipped scenarios: {sorted(names)}"


# --- keyword overrides to the model -----------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"typo": 1}, "typo"),
        ({"audit_rat": 0.1}, "audit_rat"),
        ({"firms": "many"}, "firms"),
        ({"audit_rate": -0.5}, "audit_rate"),
        ({"governance": "feudal"}, "governance"),
        ({"regions": "atlantis"}, "regions"),
    ],
)
def test_model_keyword_errors(kwargs, key):
    from simulation.model import StateBusinessModel
    from simulation.runner import run_model

    for build in (lambda: StateBusinessModel(rng=0, **kwargs), lambda: run_model(seed=0, **kwargs)):
        with pytest.raises(ScenarioError) as err:
            build()
        msg = str(err.value)
        assert "\n" not in msg and key in msg, f"{kwargs}: message {msg!r} is not one line naming {key!r}"


# --- the command line: bad input --------------------------------------------------------------


def run_cli(argv, capsys):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def check_cli_error(code, out, err, *parts):
    assert code == 2, f"exit code {code}, expected 2; stderr {err!r}"
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"stderr is {len(lines)} lines, expected one: {err!r}"
    assert lines[0].startswith("statebiz: error:"), f"stderr does not start with 'statebiz: error:': {err!r}"
    assert "Traceback" not in err + out, f"traceback printed: {err!r}"
    for part in parts:
        assert part in lines[0], f"error line does not contain {part!r}: {lines[0]!r}"


def leftovers(directory, keep):
    return sorted(p.name for p in directory.iterdir() if p.name not in keep)


@pytest.mark.parametrize("content, key, extra", [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_cli_rejects_bad_values(write_scenario, tmp_path, capsys, content, key, extra):
    path = write_scenario(content)
    out_dir = tmp_path / "out"
    code, out, err = run_cli(["run", path, "--out", out_dir, "--quiet"], capsys)
    check_cli_error(code, out, err, str(path), key)
    assert not out_dir.exists(), f"{out_dir} was created although the input was bad"
    assert leftovers(tmp_path, {path.name}) == [], f"files left behind: {leftovers(tmp_path, {path.name})}"


@pytest.mark.parametrize("content, extra", [c[1:] for c in BROKEN_FILES], ids=[c[0] for c in BROKEN_FILES])
def test_cli_rejects_broken_files(write_scenario, tmp_path, capsys, content, extra):
    path = write_scenario(content)
    out_dir = tmp_path / "out"
    code, out, err = run_cli(["run", path, "--out", out_dir, "--quiet"], capsys)
    check_cli_error(code, out, err, str(path), extra)
    assert not out_dir.exists(), f"{out_dir} was created although the input was bad"


def test_cli_missing_file(tmp_path, capsys):
    path = tmp_path / "nowhere.toml"
    out_dir = tmp_path / "out"
    code, out, err = run_cli(["run", path, "--out", out_dir, "--quiet"], capsys)
    check_cli_error(code, out, err, str(path))
    assert not out_dir.exists(), f"{out_dir} was created for a missing scenario"


@pytest.mark.parametrize(
    "args",
    [["--seed", "-1"], ["--steps", "x"], ["--governance", "feudal"]],
    ids=["negative-seed", "non-int-steps", "bad-governance-option"],
)
def test_cli_bad_options_exit_2_without_traceback(small_scenario, tmp_path, capsys, args):
    out_dir = tmp_path / "out"
    try:
        code = main(["run", str(small_scenario), "--out", str(out_dir), "--quiet", *args])
    except SystemExit as exit_:  # argparse exits on bad options
        code = exit_.code
    captured = capsys.readouterr()
    assert code == 2, f"{args}: exit code {code}, expected 2"
    assert "Traceback" not in captured.err, f"{args}: traceback printed"
    assert "error:" in captured.err, f"{args}: no error message on stderr: {captured.err!r}"
    assert not out_dir.exists(), f"{args}: {out_dir} was created"


# --- the command line: results ----------------------------------------------------------------


def test_cli_writes_a_complete_result(small_scenario, tmp_path, capsys):
    out_dir = tmp_path / "result"
    code, out, err = run_cli(["run", small_scenario, "--seed", "3", "--out", out_dir, "--quiet"], capsys)
    assert code == 0, f"exit code {code}; stderr {err!r}"
    files = sorted(p.name for p in out_dir.iterdir())
    assert files == ["manifest.json", "regimes.parquet", "regions.parquet", "summary.json"], f"result files {files}"
    assert leftovers(tmp_path, {small_scenario.name, out_dir.name}) == [], (
        f"temporary files left behind: {leftovers(tmp_path, {small_scenario.name, out_dir.name})}"
    )
    manifest = json.loads((out_dir / "manifest.json").read_text())
    assert manifest["seed"] == 3, f"manifest seed {manifest.get('seed')!r}, expected 3"
    expected = json.loads(json.dumps(load_scenario(small_scenario).params))  # tuples are JSON lists
    assert manifest["parameters"] == expected, (
        f"manifest parameters differ from the resolved scenario: "
        f"{ {k: (manifest['parameters'].get(k), v) for k, v in expected.items() if manifest['parameters'][k] != v} }"
    )
    from simulation.io import lock_hash

    assert manifest["lock_sha256"] == lock_hash() != "none", "the manifest records the dependency lock's hash"
    versions = manifest["package_versions"]
    for pkg in ("python", "mesa", "numpy", "pandas"):
        assert pkg in versions and versions[pkg] not in ("", "not installed"), (
            f"manifest lacks the {pkg} version: {versions}"
        )
    commit = manifest["git_commit"]
    assert isinstance(commit, str) and commit, f"manifest git_commit {commit!r}"
    from conftest import REPO_ROOT

    if (REPO_ROOT / ".git").exists():
        assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", commit), f"manifest git_commit {commit!r} is not a commit id"
    wall = manifest["wall_time_seconds"]
    assert isinstance(wall, (int, float)) and wall > 0, f"manifest wall_time_seconds {wall!r}"
    assert manifest["reported_quarters"] == expected["steps"], (
        f"manifest reported_quarters {manifest['reported_quarters']}, expected {expected['steps']}"
    )
    summary = json.loads((out_dir / "summary.json").read_text())
    assert "regime_partnership" in summary and "corruption_incidence" in summary, (
        f"summary keys {sorted(summary)[:10]}..."
    )
    assert str(out_dir) in out, f"the printed summary does not say where the result went: {out!r}"


def test_cli_refuses_to_overwrite_and_overwrite_replaces(small_scenario, tmp_path, capsys):
    out_dir = tmp_path / "result"
    code, _, err = run_cli(["run", small_scenario, "--seed", "1", "--out", out_dir, "--quiet"], capsys)
    assert code == 0, f"first run exited {code}: {err!r}"
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out_dir.iterdir()}

    code, out, err = run_cli(["run", small_scenario, "--seed", "2", "--out", out_dir, "--quiet"], capsys)
    check_cli_error(code, out, err, str(out_dir), "--overwrite")
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out_dir.iterdir()}
    assert after == before, "the refused run changed the existing result"
    assert leftovers(tmp_path, {small_scenario.name, out_dir.name}) == [], "the refused run left files behind"

    code, _, err = run_cli(["run", small_scenario, "--seed", "2", "--out", out_dir, "--quiet", "--overwrite"], capsys)
    assert code == 0, f"--overwrite run exited {code}: {err!r}"
    manifest = json.loads((out_dir / "manifest.json").read_text())
    assert manifest["seed"] == 2, f"after --overwrite the manifest seed is {manifest['seed']}, expected 2"
    assert (out_dir / "summary.json").read_bytes() != before["summary.json"][0], "--overwrite left the old summary"
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(before), "--overwrite changed the set of result files"
    assert leftovers(tmp_path, {small_scenario.name, out_dir.name}) == [], (
        f"--overwrite left files behind: {leftovers(tmp_path, {small_scenario.name, out_dir.name})}"
    )


def test_cli_governance_and_steps_overrides(small_scenario, tmp_path, capsys):
    out_dir = tmp_path / "sym"
    code, _, err = run_cli(
        ["run", small_scenario, "--governance", "symbiotic", "--steps", "4", "--out", out_dir, "--quiet"], capsys
    )
    assert code == 0, f"exit code {code}: {err!r}"
    manifest = json.loads((out_dir / "manifest.json").read_text())
    assert manifest["parameters"]["governance"] == "symbiotic", "--governance symbiotic not applied"
    assert manifest["parameters"]["symbiosis"] == GOVERNANCE_PRESETS["symbiotic"]["symbiosis"], (
        "--governance symbiotic did not apply the symbiotic preset"
    )
    assert manifest["reported_quarters"] == 4, f"--steps 4 gave {manifest['reported_quarters']} reported quarters"


def test_the_one_to_one_scenario_holds_every_operating_sme_and_large_enterprise():
    """The 1:1 scenario's firms are the official counts (simulation/data/enterprises.toml): the operating
    SMEs (medium ones included) plus the large enterprises (those over 100 employees minus the medium)."""
    import tomllib
    from pathlib import Path

    data = Path(__file__).resolve().parents[2] / "simulation" / "data" / "enterprises.toml"
    with open(data, "rb") as fh:
        counts = {c["id"]: c for c in tomllib.load(fh)["count"]}
    big = counts["large_and_medium_2023"]
    assert big["detail"]["large"] == big["value"] - big["detail"]["medium"]
    expected = counts["operating_smes_2024"]["value"] + big["detail"]["large"]
    assert load_scenario(SCENARIO_DIR / "kazakhstan_1to1.toml").params["firms"] == expected
