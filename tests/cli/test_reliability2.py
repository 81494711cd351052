"""Reliability, second round (issue 27): one test (or a few) per class of failure the attacks found.

1. ``--overwrite`` replaces only what statebiz wrote (a marker in the manifest, and nothing else there);
2. the lock is on the store itself (a link to it, or a removed lock file, lets no second writer in);
3. no write follows a symbolic link out of a result directory;
4. a store reads only its own parts (the experiment's identity and schema in each);
5. odd store states and environments are one line and exit 2, or healed;
6. ``--workers`` is capped at a multiple of the cores, absurd values refused.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from simulation import io
from simulation.cli import main
from simulation.runs.spec import load_experiment
from simulation.runs.store import ResultStore
from tests.cli.test_reliability import EXPERIMENT, experiment, sweep

REPO = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")


def _one_line_exit_2(code: int, err: str) -> None:
    assert code == 2, f"exit {code}: {err!r}"
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def _tiny(tmp_path: Path) -> Path:
    from tests.bad_inputs import SCENARIO

    (tmp_path / "tiny.toml").write_text(SCENARIO)
    return tmp_path / "tiny.toml"


# -- 1. --overwrite trusts only statebiz's own results ------------------------------------------------------
@pytest.mark.parametrize("manifest", ['{"name": "x"}', "{}", '{"experiment_id": "x", "factors": []}'])
def test_overwrite_never_replaces_a_directory_with_a_foreign_manifest(tmp_path, capsys, manifest):
    scenario = _tiny(tmp_path)
    spec = experiment(tmp_path)
    for argv in (
        ["run", str(scenario), "--quiet"],
        ["sweep", str(spec), "--backend", "serial", "--quiet"],
    ):
        d = tmp_path / "d"
        d.mkdir()
        (d / "manifest.json").write_text(manifest)
        (d / "notes.txt").write_text("years of work\n")
        code = main([*argv, "--out", str(d), "--overwrite"])
        _one_line_exit_2(code, capsys.readouterr().err)
        assert (d / "notes.txt").read_text() == "years of work\n" and (d / "manifest.json").read_text() == manifest
        shutil.rmtree(d)


def test_overwrite_replaces_a_result_but_never_files_added_to_it(tmp_path, capsys):
    scenario = _tiny(tmp_path)
    out = tmp_path / "res"
    run = ["run", str(scenario), "--out", str(out), "--quiet"]
    assert main(run) == 0
    assert io.is_result(out)
    assert main([*run, "--overwrite"]) == 0  # statebiz's own result: replaced
    (out / "notes.txt").write_text("mine\n")  # the user keeps notes in it: never replaced
    code = main([*run, "--overwrite"])
    err = capsys.readouterr().err
    _one_line_exit_2(code, err)
    assert "notes.txt" in err and (out / "notes.txt").read_text() == "mine\n"

    # the same for a sweep's store (another experiment in it, so --overwrite would replace it)
    store = tmp_path / "store"
    spec = load_experiment(experiment(tmp_path))
    sweep(spec, store)
    other = tmp_path / "other.toml"
    other.write_text(EXPERIMENT.format(reps=2).replace('name = "rel"', 'name = "other"'))
    (store / "analysis").mkdir()
    (store / "analysis" / "thesis.tex").write_text("x")
    with pytest.raises(io.InputError, match=r"statebiz did not write \(analysis/thesis.tex\)"):
        sweep(load_experiment(other), store, overwrite=True)
    assert (store / "analysis" / "thesis.tex").exists() and ResultStore(store).parts()
    (store / "analysis" / "thesis.tex").unlink()
    sweep(load_experiment(other), store, overwrite=True)  # only statebiz's files: replaced
    assert json.loads((store / "manifest.json").read_text())["experiment"]["name"] == "other"


def test_only_a_stores_own_files_count_as_statebizs():
    """What a store may hold, by name and folder; anything else (or a link) is the user's."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "manifest.json").write_text(json.dumps(io.store_marker()))
        ours = ("experiment.toml", "part-00000.parquet", "quarantine/part-00003.1.parquet", "analysis/summary.csv")
        for name in ours:
            (root / name).parent.mkdir(exist_ok=True)
            (root / name).write_text("x")
        (root / "discovery").mkdir()
        (root / "discovery" / "prim_corruption_incidence_below0.3_boxes.csv").write_text("x")
        assert io.is_result(root)
        for theirs in ("quarantine/notes.txt", "analysis/thesis.tex", "notes.txt", "part-1.parquet"):
            (root / theirs).write_text("mine")
            assert io.foreign_files(root, io.result_marker(root)) == [theirs], theirs
            (root / theirs).unlink()
        (root / "analysis" / "s").mkdir()
        (root / "analysis" / "s" / "x.csv").write_text("mine")
        assert io.foreign_files(root, io.result_marker(root)) == ["analysis/s", "analysis/s/x.csv"]
        shutil.rmtree(root / "analysis" / "s")
        (root / "analysis" / "link.csv").symlink_to(root / "experiment.toml")
        assert io.foreign_files(root, io.result_marker(root)) == ["analysis/link.csv"]


# -- 2. the lock is on the store itself ------------------------------------------------------------------------
def _sweep_process(spec: Path, out: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "simulation", "sweep", str(spec), "--out", str(out), "--backend", "serial", "--quiet"]
    return subprocess.run(cmd, cwd=spec.parent, env=_env(), capture_output=True, text=True, timeout=300)


def test_a_store_reached_through_a_link_has_the_same_lock(tmp_path):
    spec = experiment(tmp_path, reps=1)
    store = tmp_path / "store"
    sweep(load_experiment(spec), store)
    link = tmp_path / "link"
    link.symlink_to(store)
    before = sorted(p.name for p in store.iterdir())
    with io.result_lock(store):
        proc = _sweep_process(spec, link)
    _one_line_exit_2(proc.returncode, proc.stderr)
    assert "in use by another statebiz process" in proc.stderr
    assert sorted(p.name for p in store.iterdir()) == before


def test_a_removed_lock_file_lets_no_second_writer_in(tmp_path):
    spec = experiment(tmp_path, reps=1)
    store = tmp_path / "store"
    sweep(load_experiment(spec), store)
    (store / "manifest.json").unlink()  # a second sweep would rebuild it and write
    with io.result_lock(store) as lock_file:
        lock_file.unlink()  # someone removes the lock file while the sweep runs
        proc = _sweep_process(spec, store)
    _one_line_exit_2(proc.returncode, proc.stderr)
    assert "in use by another statebiz process" in proc.stderr and "lock file was removed" in proc.stderr
    assert not (store / "manifest.json").exists()


def test_releasing_the_lock_leaves_another_writers_lock_file(tmp_path):
    out = tmp_path / "out"
    with io.result_lock(out) as lock_file:
        lock_file.unlink()
        lock_file.write_text('{"pid": 1}')  # another writer's file now
    assert lock_file.read_text() == '{"pid": 1}'


# -- 3. no write follows a link out of a result directory ---------------------------------------------------------
def test_a_planted_lock_link_is_never_written_through(tmp_path, capsys):
    scenario = _tiny(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    for kind in ("symlink", "hardlink"):
        lock = tmp_path / ".out.lock"
        lock.symlink_to(victim) if kind == "symlink" else os.link(victim, lock)
        code = main(["run", str(scenario), "--out", str(tmp_path / "out"), "--quiet"])
        err = capsys.readouterr().err
        _one_line_exit_2(code, err)
        assert "lock file" in err and victim.read_text() == "precious\n" and not (tmp_path / "out").exists()
        lock.unlink()


@pytest.mark.parametrize("folder", ["analysis", "discovery", "quarantine"])
def test_a_folder_link_inside_a_store_is_never_written_through(tmp_path, capsys, folder):
    spec = load_experiment(experiment(tmp_path))
    store = tmp_path / "store"
    sweep(spec, store)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (store / folder).symlink_to(elsewhere)
    if folder == "quarantine":  # a damaged part would be moved there
        (store / "part-00000.parquet").write_bytes(b"damaged")
        argv = ["analyze", str(store)]
    elif folder == "analysis":
        argv = ["analyze", str(store)]
    else:
        argv = ["discover", str(store), "--outcome", "corruption_incidence", "--below", "0.5"]
    code = main(argv)
    _one_line_exit_2(code, capsys.readouterr().err)
    assert list(elsewhere.iterdir()) == []


# -- 4. a store reads only its own parts ---------------------------------------------------------------------
def _runs_analysed(capsys, store: Path) -> str:
    assert main(["analyze", str(store)]) == 0
    out, err = capsys.readouterr()
    return out.splitlines()[0] + "\n" + err


def test_a_part_of_another_experiment_is_quarantined(tmp_path, capsys):
    spec = experiment(tmp_path)
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other = experiment(other_dir)
    other.write_text(other.read_text().replace("seed = 3", "seed = 4"))  # the same design, another seed
    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    sweep(load_experiment(spec), mine)
    sweep(load_experiment(other), theirs)
    summary_before = None
    assert main(["analyze", str(mine)]) == 0
    summary_before = (mine / "analysis" / "summary.csv").read_text()
    capsys.readouterr()
    shutil.copy(theirs / "part-00000.parquet", mine / "part-00099.parquet")
    said = _runs_analysed(capsys, mine)
    assert "8 runs analysed" in said
    assert "part-00099.parquet: not this experiment's (its experiment_id is" in said and "quarantine" in said
    assert (mine / "analysis" / "summary.csv").read_text() == summary_before
    assert (mine / "quarantine" / "part-00099.parquet").exists()
    # a resumed sweep quarantines it too, and runs nothing again
    shutil.copy(theirs / "part-00000.parquet", mine / "part-00100.parquet")
    report = sweep(load_experiment(spec), mine)
    assert report.ran == 0 and not (mine / "part-00100.parquet").exists()


def test_a_part_with_other_columns_adds_no_ghost_run(tmp_path, capsys):
    spec = load_experiment(experiment(tmp_path))
    store = tmp_path / "store"
    sweep(spec, store)
    ghost = pa.table({"run_key": ["ghost"], "error": pa.array([None], pa.string()), "colour": ["red"]})
    pq.write_table(ghost, store / "part-00050.parquet")
    said = _runs_analysed(capsys, store)
    assert "8 runs analysed" in said and "part-00050.parquet: not this experiment's" in said
    # the right columns but no identity (written by hand): not this experiment's either
    table = pq.read_table(store / "part-00000.parquet")
    pq.write_table(table.replace_schema_metadata(None), store / "part-00051.parquet")
    said = _runs_analysed(capsys, store)
    assert "part-00051.parquet: not this experiment's (it carries no experiment identity)" in said


def test_a_part_with_a_copied_identity_but_foreign_runs_is_quarantined(tmp_path, capsys):
    spec = load_experiment(experiment(tmp_path))
    store = tmp_path / "store"
    sweep(spec, store)
    table = pq.read_table(store / "part-00000.parquet")  # this experiment's identity and columns ...
    keys = pa.array([f"forged{i}" for i in range(len(table))])
    pq.write_table(table.set_column(0, "run_key", keys), store / "part-00060.parquet")  # ... other runs
    points = pa.array([99] * len(table), pa.int64())
    pq.write_table(table.set_column(1, "point", points), store / "part-00061.parquet")  # a point it has not
    report = sweep(spec, store)
    err = capsys.readouterr().err
    assert "part-00060.parquet: not this experiment's (it holds runs that are not" in err
    assert "part-00061.parquet: not this experiment's" in err and report.ran == 0
    pq.write_table(table.set_column(1, "point", points), store / "part-00062.parquet")
    said = _runs_analysed(capsys, store)  # analyze knows the design's size from the manifest
    assert "8 runs analysed" in said and "part-00062.parquet: not this experiment's (it holds design points" in said


# -- 5. odd store states and environments ------------------------------------------------------------------------
def test_a_run_key_stored_as_integers_is_quarantined_not_a_traceback(tmp_path, capsys):
    spec = load_experiment(experiment(tmp_path))
    store = tmp_path / "store"
    sweep(spec, store)
    table = pq.read_table(store / "part-00000.parquet")
    ints = table.set_column(0, pa.field("run_key", pa.int64()), pa.array(range(len(table)), pa.int64()))
    pq.write_table(ints, store / "part-00000.parquet")
    said = _runs_analysed(capsys, store)
    assert "its run_key column holds int64" in said and "Traceback" not in said
    assert sweep(spec, store).ran == 2  # resumed: the quarantined runs are run again


def test_a_manifest_that_is_a_directory_is_one_line(tmp_path, capsys):
    spec = experiment(tmp_path)
    store = tmp_path / "store"
    sweep(load_experiment(spec), store)
    (store / "manifest.json").unlink()
    (store / "manifest.json").mkdir()
    for argv in (["sweep", str(spec), "--out", str(store), "--backend", "serial", "--quiet"], ["analyze", str(store)]):
        _one_line_exit_2(main(argv), capsys.readouterr().err)


def test_a_manifest_with_a_list_of_parts_is_healed(tmp_path):
    spec = load_experiment(experiment(tmp_path))
    store = tmp_path / "store"
    sweep(spec, store)
    doc = json.loads((store / "manifest.json").read_text())
    for bad in ([1, 2], "x", 5):
        doc["parts"], doc["sessions"] = bad, bad
        (store / "manifest.json").write_text(json.dumps(doc))
        report = sweep(spec, store)
        assert report.status == "complete" and report.ran == 0
        assert isinstance(json.loads((store / "manifest.json").read_text())["parts"], dict)


def test_a_quarantine_that_is_a_file_is_one_line(tmp_path, capsys):
    spec = experiment(tmp_path)
    store = tmp_path / "store"
    sweep(load_experiment(spec), store)
    (store / "quarantine").write_text("not a folder")
    (store / "part-00001.parquet").write_bytes(b"damaged")
    for argv in (["sweep", str(spec), "--out", str(store), "--backend", "serial", "--quiet"], ["analyze", str(store)]):
        _one_line_exit_2(main(argv), capsys.readouterr().err)
    assert (store / "quarantine").read_text() == "not a folder" and (store / "part-00001.parquet").exists()


def test_odd_manifest_values_and_folders_are_one_line(tmp_path, capsys):
    spec = experiment(tmp_path)
    store = tmp_path / "store"
    sweep(load_experiment(spec), store)
    good = (store / "manifest.json").read_text()
    doc = json.loads(good)
    argv = ["sweep", str(spec), "--out", str(store), "--backend", "serial", "--quiet"]
    for key, value in (("experiment", "a string"), ("design", [1]), ("outcomes", 5), ("replications", "2")):
        (store / "manifest.json").write_text(json.dumps(doc | {key: value, "experiment_id": "another"}))
        _one_line_exit_2(main(argv), capsys.readouterr().err)  # another experiment's, said in one line
        (store / "manifest.json").write_text(json.dumps(doc | {key: value}))
        _one_line_exit_2(main(["analyze", str(store)]), capsys.readouterr().err)
    (store / "manifest.json").write_text(good)
    (store / "experiment.toml").unlink()
    (store / "experiment.toml").mkdir()  # where the sweep writes its copy of the experiment file
    _one_line_exit_2(main(argv), capsys.readouterr().err)
    (store / "part-00007.parquet").mkdir()  # a folder named like a part: not a part, ignored
    (store / "experiment.toml").rmdir()
    report = sweep(load_experiment(spec), store)
    assert report.status == "complete" and report.ran == 0
    capsys.readouterr()
    (tmp_path / ".other.lock").mkdir()  # where a lock file goes
    _one_line_exit_2(main(["run", str(_tiny(tmp_path)), "--out", str(tmp_path / "other")]), capsys.readouterr().err)


def _statebiz(args: list, cwd: Path, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "simulation", *args], cwd=cwd, env=_env() | env, capture_output=True, timeout=300
    )


@pytest.mark.parametrize("value", ["abc", "-5", "nan", "0"])
def test_a_bad_no_worker_seconds_variable_is_one_line(tmp_path, value):
    spec = experiment(tmp_path, reps=1)
    proc = _statebiz(["sweep", str(spec), "--backend", "serial", "--quiet"], tmp_path, STATEBIZ_NO_WORKER_SECONDS=value)
    _one_line_exit_2(proc.returncode, proc.stderr.decode())
    assert b"STATEBIZ_NO_WORKER_SECONDS" in proc.stderr and not (tmp_path / "results").exists()


def test_an_out_path_that_is_not_utf8_is_one_line(tmp_path):
    scenario = _tiny(tmp_path)
    out = os.fsencode(tmp_path) + b"/out\xff"
    for argv in (["run", str(scenario), "--quiet"], ["sweep", str(experiment(tmp_path)), "--backend", "serial"]):
        proc = _statebiz([*argv, "--out", out], tmp_path)
        _one_line_exit_2(proc.returncode, proc.stderr.decode("utf-8", "replace"))
        assert b"--out" in proc.stderr and b"UTF-8" in proc.stderr and not os.path.exists(out)


def test_a_removed_working_directory_is_one_line(tmp_path):
    scenario = _tiny(tmp_path)
    gone = tmp_path / "gone"
    gone.mkdir()
    cmd = f"cd {gone} && rmdir {gone} && exec {sys.executable} -m simulation run {scenario} --out {tmp_path}/o --quiet"
    proc = subprocess.run(["bash", "-c", cmd], env=_env(), capture_output=True, text=True, timeout=300)
    _one_line_exit_2(proc.returncode, proc.stderr)
    assert "working directory no longer exists" in proc.stderr and not (tmp_path / "o").exists()


# -- 6. resource limits ----------------------------------------------------------------------------------------------
def test_workers_are_capped_at_a_multiple_of_the_cores_and_absurd_values_refused(tmp_path, capsys):
    from simulation.runs.evaluator import WORKERS_PER_CORE, default_workers

    spec = experiment(tmp_path)
    out = tmp_path / "out"
    code = main(["sweep", str(spec), "--out", str(out), "--workers", "10000", "--quiet"])
    _one_line_exit_2(code, capsys.readouterr().err)
    assert not out.exists()
    cap = WORKERS_PER_CORE * default_workers()
    code = main(["sweep", str(spec), "--out", str(out), "--workers", str(cap + 7), "--quiet", "--backend", "serial"])
    err = capsys.readouterr().err
    assert code == 0 and f"--workers {cap + 7}: capped at {cap}" in err and len(err.strip().splitlines()) == 1
    report = sweep(load_experiment(spec), tmp_path / "out2", workers=cap + 7, backend="processes")
    sessions = json.loads((tmp_path / "out2" / "manifest.json").read_text())["sessions"]
    assert report.status == "complete" and sessions[-1]["workers"] == cap


# -- also seen -------------------------------------------------------------------------------------------------------
def test_a_byte_order_mark_is_named(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_text("\ufeff" + 'name = "x"\n', encoding="utf-8")
    with pytest.raises(io.InputError, match="byte order mark"):
        io.load_toml(path, "scenario")


def test_a_sweep_resumes_from_the_copy_of_its_experiment_file(tmp_path, monkeypatch, capsys):
    """The copy experiment.toml in a store names its scenario relative to the original file."""
    work = tmp_path / "work"
    work.mkdir()
    spec = experiment(work)
    monkeypatch.chdir(work)
    argv = ["--out", str(tmp_path / "store"), "--backend", "serial", "--quiet", "--batch-size", "2"]
    assert main(["sweep", spec.name, *argv]) == 0
    (tmp_path / "store" / "part-00001.parquet").unlink()  # two runs lost: the resume runs them
    monkeypatch.chdir(tmp_path)
    copy = tmp_path / "store" / "experiment.toml"
    assert main(["sweep", str(copy), "--out", str(tmp_path / "store"), "--backend", "serial", "--quiet"]) == 0
    assert "8 runs; 2 run now, 6 already done" in capsys.readouterr().out


def test_a_large_design_shows_progress_while_it_is_prepared(tmp_path, monkeypatch, capsys):
    from simulation.runs import design
    from simulation.runs.sweep import plan

    monkeypatch.setattr(design, "LARGE", 2)  # stands for a design of millions of runs
    monkeypatch.setattr(design, "DELAY", 0.0)
    monkeypatch.setattr(design, "PROGRESS", True)
    spec = load_experiment(experiment(tmp_path))
    plan(spec)
    err = capsys.readouterr().err
    assert "rel: checking design points" in err and "rel: planning runs" in err
    plan(load_experiment(experiment(tmp_path)), progress=False)  # run_sweep(progress=False): no planning bar
    assert "checking design points" in capsys.readouterr().err
    monkeypatch.setattr(design, "PROGRESS", False)  # statebiz sweep --quiet
    plan(load_experiment(experiment(tmp_path)), progress=False)
    assert capsys.readouterr().err == ""
