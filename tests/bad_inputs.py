"""The corpus of bad inputs: every one must end in a one-line error, exit code 2, nothing written.

A case is ``(id, kind, content, argv)``. ``kind`` names the file written as ``bad.toml`` in a
fresh directory (scenario, experiment, compare, calibration; None: no file); ``argv`` is the
command, with ``{file}`` (that file), ``{out}`` (an output directory that must stay absent),
``{scenario}`` and ``{experiment}`` (small valid files) and ``{tmp}`` (the directory) filled in.
Commands run in-process with the directory as working directory; ids ending in ``-subprocess``
run as a real ``python -m simulation`` process. ``test_bad_inputs.py`` runs them all.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SCENARIO = 'name = "tiny"\n[run]\nsteps = 2\nburn_in = 1\n[world]\nfirms = 200\nresidents_per_region = 200\n'
EXPERIMENT = (
    'name = "exp"\nscenario = "tiny.toml"\nreplications = 2\nseed = 1\nquarters = 2\n'
    'outcomes = ["corruption_incidence"]\n[design]\ntype = "factorial"\n'
    '[levers]\ngovernance = ["partnership", "symbiotic"]\n'
)
COMPARE = f"""name = "cmp"
scenario = "{REPO}/scenarios/turkestan.toml"
seed = 1
[paired]
replications = 2
quarters = 4
[regime_map]
experiment = "{REPO}/experiments/regime_map.toml"
replications = 2
[levers]
experiment = "{REPO}/experiments/levers_morris.toml"
replications = 2
quarters = 4
"""
CALIBRATION = """name = "cal"
scenario = "tiny.toml"
seed = 1
models = ["partnership"]
[model]
firms = 200
[priors]
moral_cost = { distribution = "uniform", low = 0.001, high = 0.05 }
[likelihood]
design_effect = "survey"
[quick]
model = { firms = 200, steps = 2, burn_in = 1 }
smc = { population_size = 4, max_stages = 1 }
"""

RUN = ["run", "{file}", "--out", "{out}", "--quiet"]
RUN_DEFAULT = ["run", "{file}", "--overwrite", "--quiet"]  # into results/<name>
SWEEP = ["sweep", "{file}", "--out", "{out}", "--quiet", "--backend", "serial"]
SWEEP_DEFAULT = ["sweep", "{file}", "--overwrite", "--quiet", "--backend", "serial"]
COMPARE_CMD = ["compare", "{file}", "--quick", "--out", "{out}", "--quiet", "--backend", "serial"]
COMPARE_DEFAULT = ["compare", "{file}", "--quick", "--overwrite", "--quiet", "--backend", "serial"]
CALIBRATE = ["calibrate", "{file}", "--quick", "--out", "{out}", "--quiet", "--backend", "serial"]
CALIBRATE_DEFAULT = ["calibrate", "{file}", "--quick", "--overwrite", "--quiet", "--backend", "serial"]

DEEP_ARRAY = "firms = " + "[" * 1000 + "]" * 1000 + "\n"
DEEP_TABLE = "x = " + "{a = " * 1000 + "1" + "}" * 1000 + "\n"
LONG = "n" * 300
LATIN1 = b'name = "caf\xe9"\n'


def _swap(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


CASES: list[tuple[str, str | None, str | bytes | None, list[str]]] = [
    # scenario files (statebiz run)
    ("scenario-name-empty", "scenario", 'name = ""\n[world]\nfirms = 20\n', RUN_DEFAULT),
    ("scenario-name-dot", "scenario", 'name = "."\n[world]\nfirms = 20\n', RUN_DEFAULT),
    ("scenario-name-dotdot", "scenario", 'name = ".."\n[world]\nfirms = 20\n', RUN_DEFAULT),
    ("scenario-name-escape", "scenario", 'name = "../../x"\n[world]\nfirms = 20\n', RUN_DEFAULT),
    ("scenario-name-absolute", "scenario", 'name = "/tmp/x"\n[world]\nfirms = 20\n', RUN_DEFAULT),
    ("scenario-name-300", "scenario", f'name = "{LONG}"\n', RUN_DEFAULT),
    ("scenario-name-300-out", "scenario", f'name = "{LONG}"\n', RUN),
    ("scenario-name-int", "scenario", "name = 5\n", RUN),
    ("scenario-name-space", "scenario", 'name = "a b"\n', RUN_DEFAULT),
    ("scenario-name-hidden", "scenario", 'name = ".x"\n', RUN_DEFAULT),
    ("scenario-deep-array", "scenario", DEEP_ARRAY, RUN),
    ("scenario-deep-array-subprocess", "scenario", DEEP_ARRAY, RUN),
    ("scenario-deep-table", "scenario", DEEP_TABLE, RUN),
    ("scenario-latin1", "scenario", LATIN1, RUN),
    ("scenario-binary", "scenario", b"\x00\xff\xfe garbage", RUN),
    ("scenario-malformed", "scenario", "firms = \n", RUN),
    ("scenario-unknown-key", "scenario", "frims = 20\n", RUN),
    ("scenario-unknown-section", "scenario", "[wrld]\nfirms = 20\n", RUN),
    ("scenario-firms-string", "scenario", '[world]\nfirms = "many"\n', RUN),
    ("scenario-firms-negative", "scenario", "[world]\nfirms = -5\n", RUN),
    ("scenario-firms-bool", "scenario", "[world]\nfirms = true\n", RUN),
    ("scenario-firms-huge", "scenario", "[world]\nfirms = 1000000000\n", RUN),
    ("scenario-governance", "scenario", 'governance = "anarchy"\n', RUN),
    ("scenario-steps-float", "scenario", "[run]\nsteps = 1.5\n", RUN),
    ("scenario-section-not-table", "scenario", "world = 5\n", RUN),
    ("scenario-description-int", "scenario", "description = 5\n", RUN),
    ("scenario-bom", "scenario", "\ufeff" + SCENARIO, RUN),
    # experiment files (statebiz sweep)
    ("experiment-name-empty", "experiment", _swap(EXPERIMENT, 'name = "exp"', 'name = ""'), SWEEP_DEFAULT),
    ("experiment-name-escape", "experiment", _swap(EXPERIMENT, 'name = "exp"', 'name = "../x"'), SWEEP_DEFAULT),
    ("experiment-name-300", "experiment", _swap(EXPERIMENT, 'name = "exp"', f'name = "{LONG}"'), SWEEP_DEFAULT),
    ("experiment-deep", "experiment", DEEP_ARRAY, SWEEP),
    ("experiment-latin1", "experiment", LATIN1, SWEEP),
    ("experiment-replications-0", "experiment", _swap(EXPERIMENT, "replications = 2", "replications = 0"), SWEEP),
    ("experiment-replications-str", "experiment", _swap(EXPERIMENT, "replications = 2", 'replications = "2"'), SWEEP),
    ("experiment-design-type", "experiment", _swap(EXPERIMENT, '"factorial"', '"bogus"'), SWEEP),
    (
        "experiment-design-too-large",
        "experiment",
        _swap(EXPERIMENT, '[levers]\ngovernance = ["partnership", "symbiotic"]\n', "[uncertainties]\n")
        + "".join(
            f"{p} = {{ low = 0.1, high = 0.9, levels = 1000 }}\n"
            for p in ("power_strength", "business_strength", "transparency", "audit_rate")
        ),
        SWEEP,
    ),
    ("experiment-unknown-lever", "experiment", EXPERIMENT + "nonsense = [1, 2]\n", SWEEP),
    ("experiment-scenario-missing", "experiment", _swap(EXPERIMENT, '"tiny.toml"', '"nope.toml"'), SWEEP),
    ("experiment-scenario-int", "experiment", _swap(EXPERIMENT, '"tiny.toml"', "5"), SWEEP),
    ("experiment-outcomes-empty", "experiment", _swap(EXPERIMENT, '["corruption_incidence"]', "[]"), SWEEP),
    ("experiment-outcomes-unknown", "experiment", _swap(EXPERIMENT, '["corruption_incidence"]', '["nope"]'), SWEEP),
    ("experiment-seed-negative", "experiment", _swap(EXPERIMENT, "seed = 1", "seed = -1"), SWEEP),
    ("experiment-quarters-0", "experiment", _swap(EXPERIMENT, "quarters = 2", "quarters = 0"), SWEEP),
    ("experiment-design-int", "experiment", _swap(EXPERIMENT, '[design]\ntype = "factorial"\n', "design = 5\n"), SWEEP),
    (
        "experiment-range-no-high",
        "experiment",
        _swap(EXPERIMENT, 'governance = ["partnership", "symbiotic"]', "transparency = { low = 0.1, levels = 2 }"),
        SWEEP,
    ),
    ("experiment-malformed", "experiment", "name = \n", SWEEP),
    ("experiment-bom", "experiment", "\ufeff" + EXPERIMENT, SWEEP),
    # compare files (statebiz compare)
    ("compare-latin1", "compare", LATIN1, COMPARE_CMD),
    ("compare-latin1-subprocess", "compare", LATIN1, COMPARE_CMD),
    ("compare-name-int", "compare", _swap(COMPARE, 'name = "cmp"', "name = 5"), COMPARE_CMD),
    ("compare-name-empty", "compare", _swap(COMPARE, 'name = "cmp"', 'name = ""'), COMPARE_DEFAULT),
    ("compare-name-dot", "compare", _swap(COMPARE, 'name = "cmp"', 'name = "."'), COMPARE_DEFAULT),
    ("compare-name-escape", "compare", _swap(COMPARE, 'name = "cmp"', 'name = "../../x"'), COMPARE_DEFAULT),
    ("compare-base-int", "compare", _swap(COMPARE, "replications = 2\nquarters = 4\n", "base = 5\n"), COMPARE_CMD),
    ("compare-top-base-int", "compare", "base = 5\n" + COMPARE, COMPARE_CMD),
    ("compare-deep", "compare", DEEP_TABLE, COMPARE_CMD),
    ("compare-no-paired", "compare", _swap(COMPARE, "[paired]", "[pairs]"), COMPARE_CMD),
    ("compare-seed-str", "compare", _swap(COMPARE, "seed = 1", 'seed = "x"'), COMPARE_CMD),
    (
        "compare-scenario-int",
        "compare",
        _swap(COMPARE, f'scenario = "{REPO}/scenarios/turkestan.toml"', "scenario = 5"),
        COMPARE_CMD,
    ),
    ("compare-replications-1", "compare", _swap(COMPARE, "replications = 2", "replications = 1"), COMPARE_CMD),
    (
        "compare-experiment-int",
        "compare",
        _swap(COMPARE, f'experiment = "{REPO}/experiments/regime_map.toml"', "experiment = 5"),
        COMPARE_CMD,
    ),
    (
        "compare-part-int",
        "compare",
        _swap(COMPARE, "[paired]\nreplications = 2\nquarters = 4\n", "paired = 5\n"),
        COMPARE_CMD,
    ),
    ("compare-validation-int", "compare", "validation = 5\n" + COMPARE, COMPARE_CMD),
    ("compare-validation-unknown", "compare", COMPARE + '[validation]\nresluts = "x"\n', COMPARE_CMD),
    ("compare-validation-no-results", "compare", COMPARE + "[validation]\n", COMPARE_CMD),
    (
        "compare-draws-0",
        "compare",
        _swap(COMPARE, "[paired]\nreplications = 2", "[paired]\ndraws = 0\nreplications = 2"),
        COMPARE_CMD,
    ),
    ("compare-posterior-int", "compare", "posterior = 5\n" + COMPARE, COMPARE_CMD),
    ("compare-posterior-not-a-posterior", "compare", f'posterior = "{REPO}/README.md"\n' + COMPARE, COMPARE_CMD),
    ("compare-national-no-scenario", "compare", COMPARE + "[national]\nreplications = 2\nquarters = 4\n", COMPARE_CMD),
    (
        "compare-national-missing-scenario",
        "compare",
        COMPARE + '[national]\nscenario = "no_such.toml"\nreplications = 2\nquarters = 4\n',
        COMPARE_CMD,
    ),
    ("compare-national-unknown-key", "compare", COMPARE + "[national]\nregions = 3\n", COMPARE_CMD),
    # calibration files (statebiz calibrate)
    ("calibration-name-empty", "calibration", _swap(CALIBRATION, 'name = "cal"', 'name = ""'), CALIBRATE_DEFAULT),
    ("calibration-name-escape", "calibration", _swap(CALIBRATION, 'name = "cal"', 'name = "../x"'), CALIBRATE_DEFAULT),
    ("calibration-name-300", "calibration", _swap(CALIBRATION, 'name = "cal"', f'name = "{LONG}"'), CALIBRATE_DEFAULT),
    ("calibration-deep", "calibration", DEEP_ARRAY, CALIBRATE),
    ("calibration-latin1", "calibration", LATIN1, CALIBRATE),
    (
        "calibration-model-firms-str",
        "calibration",
        _swap(CALIBRATION, "firms = 200\n[priors]", 'firms = "x"\n[priors]'),
        CALIBRATE,
    ),
    ("calibration-quick-model-bad", "calibration", _swap(CALIBRATION, "{ firms = 200,", "{ firms = -1,"), CALIBRATE),
    ("calibration-model-unknown", "calibration", _swap(CALIBRATION, "[model]\n", "[model]\nfrims = 3\n"), CALIBRATE),
    ("calibration-no-priors", "calibration", CALIBRATION.split("[priors]")[0], CALIBRATE),
    (
        "calibration-prior-unknown",
        "calibration",
        _swap(CALIBRATION, "moral_cost =", "moral_cots ="),
        CALIBRATE,
    ),
    ("calibration-scenario-missing", "calibration", _swap(CALIBRATION, '"tiny.toml"', '"nope.toml"'), CALIBRATE),
    (
        "calibration-fresh-draws-negative",
        "calibration",
        _swap(CALIBRATION, "[likelihood]\n", "[smc]\nfresh_draws = -1\n[likelihood]\n"),
        CALIBRATE,
    ),
    (
        "calibration-quick-fresh-draws-fraction",
        "calibration",
        _swap(CALIBRATION, "max_stages = 1 }", "max_stages = 1, fresh_draws = 2.5 }"),
        CALIBRATE,
    ),
    # flags
    ("flag-run-out-under-file", None, None, ["run", "{scenario}", "--out", "/dev/null/x", "--quiet"]),
    ("flag-run-out-proc", None, None, ["run", "{scenario}", "--out", "/proc/statebiz/x", "--quiet"]),
    ("flag-sweep-out-proc", None, None, ["sweep", "{experiment}", "--out", "/proc/statebiz", "--backend", "serial"]),
    ("flag-run-out-dot", None, None, ["run", "{scenario}", "--out", ".", "--overwrite", "--quiet"]),
    ("flag-run-out-root", None, None, ["run", "{scenario}", "--out", "/", "--overwrite", "--quiet"]),
    ("flag-run-out-empty", None, None, ["run", "{scenario}", "--out", "", "--overwrite", "--quiet"]),
    ("flag-run-overwrite-file", None, None, ["run", "{scenario}", "--out", "{tmp}/tiny.toml", "--overwrite"]),
    ("flag-run-overwrite-foreign-dir", None, None, ["run", "{scenario}", "--out", "{tmp}/foreign", "--overwrite"]),
    # issue 27: a fake manifest, files added to a result, planted lock links, absurd --workers, paths not in UTF-8
    ("flag-run-overwrite-fake-manifest", None, None, ["run", "{scenario}", "--out", "{tmp}/fake", "--overwrite"]),
    (
        "flag-sweep-overwrite-fake-manifest",
        None,
        None,
        ["sweep", "{experiment}", "--out", "{tmp}/fake", "--overwrite", "--backend", "serial"],
    ),
    (
        "flag-compare-overwrite-fake-manifest",
        "compare",
        COMPARE,
        ["compare", "{file}", "--quick", "--out", "{tmp}/fake", "--overwrite", "--backend", "serial"],
    ),
    ("flag-run-overwrite-added-file", None, None, ["run", "{scenario}", "--out", "{tmp}/marked", "--overwrite"]),
    ("flag-run-lock-symlink", None, None, ["run", "{scenario}", "--out", "{tmp}/linked", "--quiet"]),
    ("flag-run-lock-hardlink", None, None, ["run", "{scenario}", "--out", "{tmp}/hardlinked", "--quiet"]),
    ("flag-run-lock-directory", None, None, ["run", "{scenario}", "--out", "{tmp}/lockdir", "--quiet"]),
    ("flag-sweep-workers-absurd", None, None, ["sweep", "{experiment}", "--workers", "10000", "--out", "{out}"]),
    (
        "flag-calibrate-workers-absurd",
        "calibration",
        CALIBRATION,
        ["calibrate", "{file}", "--quick", "--workers", "99999", "--out", "{out}"],
    ),
    ("flag-run-out-not-utf8", None, None, ["run", "{scenario}", "--out", "{tmp}/out\udcff", "--quiet"]),
    ("flag-run-out-not-utf8-subprocess", None, None, ["run", "{scenario}", "--out", "{tmp}/out\udcff", "--quiet"]),
    ("flag-sweep-out-not-utf8", None, None, ["sweep", "{experiment}", "--out", "{tmp}/o\udcff", "--backend", "serial"]),
    ("flag-analyze-analysis-link", None, None, ["analyze", "{tmp}/linkedstore"]),
    ("flag-run-seed-negative", None, None, ["run", "{scenario}", "--seed", "-1"]),
    ("flag-run-unknown", None, None, ["run", "{scenario}", "--bogus"]),
    ("flag-sweep-out-dot", None, None, ["sweep", "{experiment}", "--out", ".", "--overwrite", "--backend", "serial"]),
    ("flag-sweep-workers-0", None, None, ["sweep", "{experiment}", "--workers", "0"]),
    ("flag-sweep-batch-0", None, None, ["sweep", "{experiment}", "--batch-size", "0"]),
    ("flag-dask-garbage", None, None, ["sweep", "{experiment}", "--backend", "dask", "--dask-address", "gar bage!"]),
    (
        "flag-dask-garbage-subprocess",
        None,
        None,
        ["sweep", "{experiment}", "--backend", "dask", "--dask-address", "::::"],
    ),
    ("flag-dask-http", None, None, ["sweep", "{experiment}", "--backend", "dask", "--dask-address", "http://x:8787"]),
    ("flag-dask-port", None, None, ["sweep", "{experiment}", "--backend", "dask", "--dask-address", "tcp://x:99999"]),
    ("flag-dask-needs-backend", None, None, ["sweep", "{experiment}", "--dask-address", "tcp://127.0.0.1:8786"]),
    (
        "flag-compare-dask-unreachable",
        None,
        None,
        ["compare", "--quick", "--backend", "dask", "--dask-address", "tcp://127.0.0.1:9", "--out", "{out}"],
    ),
    (
        "flag-calibrate-out-under-file",
        "calibration",
        CALIBRATION,
        ["calibrate", "{file}", "--quick", "--out", "/dev/null/x"],
    ),
    ("flag-compare-out-under-file", "compare", COMPARE, ["compare", "{file}", "--quick", "--out", "/dev/null/x"]),
    ("flag-analyze-missing", None, None, ["analyze", "{tmp}/nope"]),
    ("flag-analyze-manifest-list", None, None, ["analyze", "{tmp}/listmanifest"]),
    ("flag-survey-quarter", None, None, ["survey", "{scenario}", "--quarter", "999"]),
    ("flag-params-section", None, None, ["params", "--section", "nope"]),
    ("flag-validate-no-posterior", None, None, ["validate", "--posterior", "{tmp}/nope.csv", "--out", "{out}"]),
    (
        "flag-validate-both-sources",
        None,
        None,
        ["validate", "--uncalibrated", "--posterior", "{tmp}/nope.csv", "--out", "{out}"],
    ),
    ("flag-validate-draws-0", None, None, ["validate", "--uncalibrated", "--draws", "0", "--out", "{out}"]),
    ("flag-validate-out-under-file", None, None, ["validate", "--uncalibrated", "--quick", "--out", "/dev/null/x"]),
    ("flag-validate-data-missing", None, None, ["validate", "--uncalibrated", "--data", "{tmp}/no.toml"]),
    ("flag-identify-seeds-1", None, None, ["identify", "--seeds", "1", "--out", "{out}"]),
    ("flag-identify-data-missing", None, None, ["identify", "--quick", "--data", "{tmp}/no.toml", "--out", "{out}"]),
    (
        "flag-identify-data-bad-use",
        "identification",
        '[[figure]]\nid = "x"\nuse = "both"\n',
        ["identify", "--quick", "--data", "{file}", "--out", "{out}"],
    ),
    ("flag-identify-out-under-file", None, None, ["identify", "--quick", "--out", "/dev/null/x"]),
    ("flag-no-command", None, None, []),
]
