"""Reliability: results are never lost, nothing hangs or outlives a sweep, user mistakes are one line.

Each test reproduces one failure of the reliability issue (names, locks, orphans, dead workers,
corrupt parts, lost manifests, read-only outputs, mixed versions, leftovers). Sweeps here are
tiny: a fake run function (instant) in-process, or a few runs of 200 firms in subprocesses.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulation import io
from simulation.cli import main
from simulation.runs.spec import load_experiment
from simulation.runs.store import ResultStore, read_results
from simulation.runs.sweep import run_sweep
from tests.bad_inputs import SCENARIO

REPO = Path(__file__).resolve().parents[2]
EXPERIMENT = """name = "rel"
scenario = "tiny.toml"
replications = {reps}
seed = 3
quarters = 2
outcomes = ["corruption_incidence"]
[design]
type = "factorial"
[levers]
governance = ["partnership", "symbiotic"]
"""


def fake_run(params, seed, steps, outcomes):
    """An instant run function: the outcome is a function of the seed."""
    return {"corruption_incidence": float(seed % 97) / 97}


def die_once(marker, target, params, seed, steps, outcomes):
    """Kills its own worker process (SIGKILL) the first time it runs seed ``target`` (``marker`` records it).

    Bound with functools.partial: the arguments travel with the task, not through the
    environment (a forkserver started earlier would not see a changed environment)."""
    if seed == target and not os.path.exists(marker):
        Path(marker).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return fake_run(params, seed, steps, outcomes)


def always_die(target, params, seed, steps, outcomes):
    """Kills its own worker process every time it runs seed ``target``."""
    if seed == target:
        os.kill(os.getpid(), signal.SIGKILL)
    return fake_run(params, seed, steps, outcomes)


def experiment(tmp_path, reps=4):
    (tmp_path / "tiny.toml").write_text(SCENARIO)
    path = tmp_path / "rel.toml"
    path.write_text(EXPERIMENT.format(reps=reps))
    return path


def sweep(spec, out, **kw):
    kw = {"backend": "serial", "run_fn": fake_run, "progress": False, "batch_size": 2} | kw
    return run_sweep(spec, out, **kw)


# -- names and --overwrite ---------------------------------------------------------------------------
def test_overwrite_replaces_only_its_own_result(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.toml").write_text(SCENARIO)
    other = tmp_path / "results" / "other"
    other.mkdir(parents=True)
    (other / "manifest.json").write_text("{}")
    (tmp_path / "results" / ".tiny.abcdefgh.tmp").mkdir()  # a staged leftover of a killed run
    (tmp_path / "results" / ".tiny.old.12345").write_text("x")
    for _ in range(2):
        assert main(["run", "tiny.toml", "--overwrite", "--quiet"]) == 0
    capsys.readouterr()
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["other", "tiny"]
    assert (other / "manifest.json").read_text() == "{}"
    assert main(["run", "tiny.toml", "--out", "results/other/x/..", "--overwrite"]) == 2
    assert "without '..'" in capsys.readouterr().err and (other / "manifest.json").exists()


def test_check_name_is_one_rule():
    for good in ("a", "regime_map", "x.y-z", "n" * 100):
        assert io.check_name(good, "f") == good
    for bad in ("", ".", "..", ".x", "../x", "/x", "a/b", "a b", "n" * 101, 5, None, "a\nb"):
        with pytest.raises(io.InputError):
            io.check_name(bad, "f")


# -- one lock per result directory -----------------------------------------------------------------------
def test_second_writer_is_refused_with_the_holders_pid_and_host(tmp_path, capsys):
    (tmp_path / "tiny.toml").write_text(SCENARIO)
    out = tmp_path / "out"
    with io.result_lock(out):
        code = main(["run", str(tmp_path / "tiny.toml"), "--out", str(out), "--quiet"])
        err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"PID {os.getpid()}" in err and socket.gethostname() in err and not out.exists()
    assert not (tmp_path / ".out.lock").exists(), "the lock file outlived its holder"


def test_stale_lock_is_taken_over(tmp_path, capsys):
    (tmp_path / "tiny.toml").write_text(SCENARIO)
    (tmp_path / ".out.lock").write_text(json.dumps({"pid": 999999, "host": "gone"}))  # holder died: no flock
    assert main(["run", str(tmp_path / "tiny.toml"), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    assert "took over a stale lock (PID 999999 on host gone" in capsys.readouterr().err
    assert not (tmp_path / ".out.lock").exists()


def test_part_names_never_collide(tmp_path):
    store = ResultStore(tmp_path)
    from simulation.runs.store import schema

    sch = schema([], ["corruption_incidence"])
    row = {"run_key": "k", "point": 0, "replication": 0, "seed": 1, "corruption_incidence": 0.1}
    first = store.write_part([row], sch)
    (tmp_path / "part-00001.parquet").write_bytes(first.read_bytes())  # another writer took the next number
    assert store.write_part([row], sch).name == "part-00002.parquet"


def _spawn_sweep(tmp_path, *args):
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "simulation", "sweep", str(tmp_path / "rel.toml"), "--quiet", *args]
    return subprocess.Popen(
        cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )


def _wait_for(cond, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_two_concurrent_sweeps_one_is_refused_nothing_lost(tmp_path):
    experiment(tmp_path, reps=6)
    out = tmp_path / "results" / "rel"
    first = _spawn_sweep(tmp_path, "--backend", "serial", "--batch-size", "1")
    assert _wait_for(lambda: (tmp_path / "results" / ".rel.lock").exists() or first.poll() is not None)
    second = _spawn_sweep(tmp_path, "--backend", "serial", "--batch-size", "1")
    out2, err2 = second.communicate(timeout=120)
    out1, err1 = first.communicate(timeout=300)
    assert first.returncode == 0, err1
    if second.returncode != 0:  # refused at once, one line naming the holder
        assert second.returncode == 2 and f"PID {first.pid}" in err2.decode() and len(err2.splitlines()) == 1
    table = read_results(out)
    assert len(table) == 12 and table["error"].isna().all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["runs_done"] == 12
    assert sum(manifest["parts"].values()) == len(ResultStore(out).parts())


# -- no orphans, clean shutdown ---------------------------------------------------------------------------
def _session(sid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[3]) == sid and fields[0] != "Z":
                pids.append(int(entry))
    return pids


def _children(pid: int) -> list[int]:
    return [p for p in _session(pid) if p != pid]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_driver_leaves_no_process_behind(tmp_path, sig):
    experiment(tmp_path, reps=40)
    driver = _spawn_sweep(tmp_path, "--backend", "processes", "--workers", "2", "--batch-size", "1")
    out = tmp_path / "results" / "rel"
    started = _wait_for(lambda: len(_children(driver.pid)) >= 2 and ResultStore(out).parts(), timeout=120)
    assert started, f"no workers: {driver.poll()} {driver.stderr.read1().decode() if driver.poll() else ''}"
    driver.send_signal(sig)
    gone = _wait_for(lambda: not _session(driver.pid) or _session(driver.pid) == [], timeout=15)
    left = _session(driver.pid)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert gone, f"processes outlived the sweep: {left}"
    driver.stdout.read()  # EOF: nobody holds the pipe (`statebiz sweep ... | cat` ends)
    driver.wait(5)
    if sig == signal.SIGTERM:
        assert driver.returncode == 130
        assert "terminated; finished runs are saved" in driver.stderr.read().decode()
        assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    assert not (tmp_path / "results" / ".rel.lock").exists() or sig == signal.SIGKILL
    assert len(read_results(out)) >= 1  # what finished is readable: the store is resumable


# -- a dead local worker costs only its runs --------------------------------------------------------------
def test_dead_worker_is_retried_and_the_sweep_finishes(tmp_path):
    from functools import partial

    from simulation.runs.seeds import replication_seeds

    spec = load_experiment(experiment(tmp_path, reps=3))
    target = replication_seeds(spec.seed, 3)[1]
    marker = str(tmp_path / "died")
    report = sweep(spec, tmp_path / "r", backend="processes", workers=2, run_fn=partial(die_once, marker, target))
    assert os.path.exists(marker), "the worker was not killed"
    assert report.ok and report.ran == 6
    assert read_results(tmp_path / "r")["error"].isna().all()
    report = sweep(spec, tmp_path / "r2", backend="processes", workers=2, run_fn=partial(always_die, target))
    assert report.status == "complete with failures" and report.ran == 6
    assert len(report.failures) == 2 and all("worker process died" in f["error"] for f in report.failures)


# -- self-healing store ---------------------------------------------------------------------------------
def test_truncated_part_is_quarantined_and_its_runs_rerun(tmp_path, capsys):
    spec = load_experiment(experiment(tmp_path))
    out = tmp_path / "r"
    assert sweep(spec, out).ok
    part = ResultStore(out).parts()[1]
    part.write_bytes(part.read_bytes()[:100])
    capsys.readouterr()
    table = read_results(out)  # what analyze reads: the damaged part is moved aside, with a message
    err = capsys.readouterr().err
    assert len(table) == 6 and (out / "quarantine" / part.name).exists()
    assert "its 2 runs count as missing" in err and len(err.strip().splitlines()) == 1
    again = sweep(spec, out)
    assert again.ok and again.ran == 2 and again.skipped == 6
    assert len(read_results(out)) == 8


@pytest.mark.parametrize("damage", ["delete", "[1, 2]", "{not json"])
def test_lost_manifest_is_rebuilt_and_no_run_is_lost(tmp_path, capsys, damage):
    spec = load_experiment(experiment(tmp_path))
    out = tmp_path / "r"
    assert sweep(spec, out).ok
    if damage == "delete":
        (out / "manifest.json").unlink()
    else:
        (out / "manifest.json").write_text(damage)
    again = sweep(spec, out)
    assert again.ok and again.ran == 0 and again.skipped == 8
    assert "the manifest is rebuilt" in capsys.readouterr().err
    assert json.loads((out / "manifest.json").read_text())["runs_done"] == 8


def test_foreign_parts_without_manifest_are_never_replaced(tmp_path):
    spec = load_experiment(experiment(tmp_path))
    out = tmp_path / "r"
    assert sweep(spec, out).ok
    (out / "manifest.json").unlink()
    (tmp_path / "tiny.toml").write_text(SCENARIO.replace("firms = 200", "firms = 300"))
    other = load_experiment(tmp_path / "rel.toml")
    before = sorted(p.name for p in out.iterdir())
    for overwrite in (False, True):
        with pytest.raises(io.InputError, match="left alone"):
            sweep(other, out, overwrite=overwrite)
    assert sorted(p.name for p in out.iterdir()) == before


# -- checks before work -------------------------------------------------------------------------------------
def test_unwritable_output_fails_before_any_run(tmp_path, monkeypatch, capsys):
    (tmp_path / "tiny.toml").write_text(SCENARIO)
    import simulation.model

    def no_model(*a, **k):
        raise AssertionError("the model ran")

    monkeypatch.setattr(simulation.model, "StateBusinessModel", no_model)
    for out in ("/proc/statebiz-x/y", "/dev/null/x"):  # read-only for root too; under a file
        assert main(["run", str(tmp_path / "tiny.toml"), "--out", out, "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("statebiz: error: ") and len(err.strip().splitlines()) == 1

    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(io.tempfile, "mkstemp", full)
    assert main(["run", str(tmp_path / "tiny.toml"), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "No space left on device" in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_resume_refuses_mixed_versions(tmp_path, capsys):
    spec = load_experiment(experiment(tmp_path))
    out = tmp_path / "r"
    assert sweep(spec, out).ok
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["package_versions"]["numpy"] = "0.0.1"
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(io.InputError, match=r"numpy 0\.0\.1 -> .*--allow-mixed-versions"):
        sweep(spec, out)
    assert sweep(spec, out, allow_mixed_versions=True).ok
    assert "warning:" in capsys.readouterr().err
    assert len(manifest["lock_sha256"]) == 16 or manifest["lock_sha256"] == "none"


def test_with_no_worker_left_the_evaluator_stops_with_a_message():
    from concurrent.futures import Executor, Future

    from simulation.runs.evaluator import NoWorkersError, evaluate

    class Deserted(Executor):  # every worker gone: submitted tasks never finish
        def submit(self, fn, /, *args, **kwargs):
            return Future()

    started = time.monotonic()
    tasks = [(i, fake_run, {}, i, 2, ("corruption_incidence",)) for i in range(3)]
    with pytest.raises(NoWorkersError, match="no worker left"):
        list(evaluate(tasks, Deserted(), 2, alive=lambda: False, no_worker_seconds=0.3))
    assert time.monotonic() - started < 5


# -- a Dask scheduler that dies mid-sweep ----------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _dask_cluster(port: int) -> list[subprocess.Popen]:
    """A real scheduler on ``port`` and one single-threaded worker, each in its own session."""
    dask = str(Path(sys.executable).with_name("dask"))
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True}
    scheduler = subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], **quiet
    )
    assert _wait_for(lambda: _listening(port), timeout=60), "the Dask scheduler did not start"
    worker = subprocess.Popen(
        [dask, "worker", f"tcp://127.0.0.1:{port}", "--nthreads", "1", "--nworkers", "1", "--no-dashboard"], **quiet
    )
    return [scheduler, worker]


def test_a_dask_scheduler_killed_mid_sweep_gives_one_line_and_the_sweep_resumes(tmp_path):
    pytest.importorskip("distributed")
    experiment(tmp_path, reps=60)
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    out = tmp_path / "results" / "rel"
    cluster = _dask_cluster(port)
    try:
        first = _spawn_sweep(tmp_path, "--backend", "dask", "--dask-address", address, "--batch-size", "1")
        assert _wait_for(lambda: any(out.glob("part-*.parquet")) or first.poll() is not None, timeout=120)
        os.killpg(cluster[0].pid, signal.SIGKILL)  # the scheduler dies; its worker is left without one
        _, err = first.communicate(timeout=180)
        lines = err.decode().strip().splitlines()
        assert first.returncode == 2, f"exit {first.returncode}: {err.decode()[-2000:]}"
        assert len(lines) == 1 and "rerun the same command" in lines[0] and "Traceback" not in err.decode()
        done_before = len(read_results(out))
        assert 0 < done_before < 120, "the scheduler must die mid-sweep for this test to mean anything"
        for p in cluster:
            os.killpg(p.pid, signal.SIGKILL)
        cluster = _dask_cluster(port)  # a new scheduler at the same address: the same command resumes
        second = _spawn_sweep(tmp_path, "--backend", "dask", "--dask-address", address, "--batch-size", "8")
        _, err2 = second.communicate(timeout=300)
        assert second.returncode == 0, err2.decode()[-2000:]
        table = read_results(out)
        assert len(table) == 120 and table["error"].isna().all() and table["run_key"].is_unique
    finally:
        for p in cluster:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
