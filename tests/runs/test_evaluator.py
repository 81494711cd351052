"""The evaluator (simulation/runs/evaluator.py): tasks on any Executor, the serial executor, the
backends' factory, MPI (when mpi4py is installed), and the calibration's sampler on an executor."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path

import pytest

from simulation.runs import evaluator as ev
from simulation.runs.store import ResultStore

REPO_ROOT = Path(__file__).resolve().parents[2]
SCENARIO = REPO_ROOT / "scenarios" / "turkestan.toml"


def square(params, seed, steps, outcomes):
    """A cheap run function: fails for seed 3."""
    if seed == 3:
        raise ValueError("seed 3 fails")
    return {"y": float(params["x"]) ** 2 + seed}


class Counting(Executor):
    """Wraps an executor and records the most tasks ever submitted and not yet finished."""

    def __init__(self, inner: Executor):
        self.inner, self.live, self.most = inner, 0, 0
        self.lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs):
        with self.lock:
            self.live += 1
            self.most = max(self.most, self.live)
        fut = self.inner.submit(fn, *args, **kwargs)
        fut.add_done_callback(self._done)
        return fut

    def _done(self, _):
        with self.lock:
            self.live -= 1


def tasks(n):
    return ((i, square, {"x": i}, i, 1, ("y",)) for i in range(n))


def test_evaluate_runs_every_task_on_any_executor_with_a_bounded_window():
    with ThreadPoolExecutor(max_workers=3) as pool:
        counting = Counting(pool)
        rows = dict(ev.evaluate(tasks(40), counting, window=5))
    assert sorted(rows) == list(range(40))
    assert counting.most <= 5
    assert rows[2]["y"] == 6.0 and rows[2]["error"] is None and rows[2]["elapsed_s"] >= 0
    assert rows[3]["error"].startswith("ValueError: seed 3 fails")  # a failing run is a row, not an exception
    with ev.open_executor("serial") as serial:
        assert serial.window == 1
        serial_rows = dict(ev.evaluate(tasks(40), serial.executor, serial.window))

    def strip(d):
        return {k: {c: v for c, v in row.items() if c != "elapsed_s"} for k, row in d.items()}

    assert strip(serial_rows) == strip(rows)


def test_serial_executor_runs_at_submit_and_refuses_after_shutdown():
    ex = ev.SerialExecutor()
    calls = []
    fut = ex.submit(calls.append, 1)
    assert fut.done() and calls == [1]
    bad = ex.submit(int, "x")
    assert isinstance(bad.exception(), ValueError)
    assert list(ex.map(abs, [-1, -2])) == [1, 2]
    ex.shutdown()
    with pytest.raises(RuntimeError):
        ex.submit(abs, -1)


def test_open_executor_names_the_backends():
    with pytest.raises(ValueError, match="expected one of serial, processes, dask, mpi"):
        with ev.open_executor("threads"):
            pass
    with ev.open_executor("processes", workers=2) as pool:
        assert pool.slots == 2 and pool.window == 4
        assert dict(ev.evaluate(tasks(6), pool.executor, pool.window))[5]["y"] == 30.0


# --------------------------------------------------------------------------- MPI

TINY = f"""
name = "mpi_tiny"
scenario = "{SCENARIO.as_posix()}"
replications = 2
seed = 5
quarters = 2
outcomes = ["corruption_incidence", "regime_partnership"]
[base]
firms = 200
residents_per_region = 200
burn_in = 1
[levers]
governance = ["partnership", "symbiotic"]
"""


NO_MPI = "mpi4py or an MPI library is not installed (optional extra statebiz[mpi]; e.g. Debian's libopenmpi-dev)"


@pytest.mark.skipif(not ev.mpi_available(), reason=NO_MPI)
def test_mpi_sweep_equals_serial(tmp_path):
    from simulation.runs import load_experiment, read_results, run_sweep

    path = tmp_path / "mpi_tiny.toml"
    path.write_text(TINY)
    run_sweep(load_experiment(path), tmp_path / "serial", backend="serial", progress=False)
    # in a child process: MPI is initialised once per process, and spawns its workers from it
    root_ok = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}  # Open MPI as root (CI)
    env = os.environ | {"PYTHONPATH": str(REPO_ROOT)} | root_ok
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "simulation",
            "sweep",
            str(path),
            "--backend",
            "mpi",
            "--workers",
            "2",
            "--out",
            str(tmp_path / "mpi"),
            "--quiet",
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    a, b = (read_results(tmp_path / d).drop(columns=["elapsed_s"]) for d in ("serial", "mpi"))
    assert a.equals(b)
    assert ResultStore(tmp_path / "mpi").manifest()["sessions"][-1]["backend"] == "mpi"


def test_mpi_backend_without_mpi4py_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    from simulation.cli import main

    monkeypatch.setattr(ev, "mpi_available", lambda: False)
    path = tmp_path / "mpi_tiny.toml"
    path.write_text(TINY)
    assert main(["sweep", str(path), "--backend", "mpi", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("statebiz: error: --backend mpi: mpi4py is not installed") and "\n" not in err
    assert not (tmp_path / "o").exists()


# --------------------------------------------------------------------------- calibration on an executor


# --------------------------------------------------------------------------- Dask, local cluster

# the module is loaded from its file, without the simulation package (which imports the model)
QUICK_EXIT_CHILD = """
import atexit, importlib.util, sys
atexit.register(lambda: open(sys.argv[2], "w").write("the interpreter shut down the ordinary way"))
spec = importlib.util.spec_from_file_location("dask_worker", sys.argv[3])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
plugin = module.QuickExit()
plugin.setup(None)
if sys.argv[1] == "closed":
    plugin.teardown(None)
print("unflushed", end="")
sys.exit(3)
"""


@pytest.mark.parametrize("closed", [True, False])
def test_quick_exit_ends_a_closed_dask_worker_without_the_interpreter_shutdown(tmp_path, closed):
    marker, module = tmp_path / "marker", Path(ev.__file__).with_name("dask_worker.py")
    done = subprocess.run(
        [sys.executable, "-c", QUICK_EXIT_CHILD, "closed" if closed else "running", str(marker), str(module)],
        env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},  # stdout block-buffered
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout == "unflushed", done.stderr[-2000:]  # standard output is flushed either way
    if closed:  # os._exit(0): the exit handlers registered before the plugin's do not run
        assert done.returncode == 0 and not marker.exists()
    else:  # not closed normally: the ordinary exit, with its own exit code
        assert done.returncode == 3 and marker.exists()


def test_local_dask_cluster_runs_tasks_and_its_workers_have_quick_exit():
    from distributed import get_worker

    with ev.open_executor("dask", workers=1) as pool:
        assert pool.slots == 1 and pool.alive()
        plugins = pool.executor.submit(lambda: sorted(get_worker().plugins)).result()
        assert "statebiz-quick-exit" in plugins
        assert dict(ev.evaluate(tasks(6), pool.executor, pool.window))[5]["y"] == 30.0
