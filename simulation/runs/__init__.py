"""The engine of many runs: designed sweeps of the model over levers and uncertainties.

    from simulation.runs import load_experiment, run_sweep, read_results
    from simulation.analysis.analysis import analyze

    spec = load_experiment("experiments/regime_map.toml")
    report = run_sweep(spec, backend="processes", workers=2)      # resumable; results/<name>/
    table = read_results(report.out_dir)                          # one row per run
    analyze(report.out_dir)                                       # tables and figures (simulation.analysis)

Modules: ``spec`` (experiment files), ``design`` (design points), ``seeds`` (common random
numbers), ``store`` (Parquet parts, run keys, manifest), ``evaluator`` (tasks on an executor:
serial, processes, Dask, MPI; every study and the calibration use it), ``preload`` (what the local
pool's workers inherit: the kernels compiled once), ``dask_worker`` (the Dask workers' plugin),
``sweep`` (running and resuming). Reading the results is :mod:`simulation.analysis`.
"""

_EXPORTS = {
    "load_experiment": "spec",
    "ExperimentSpec": "spec",
    "run_sweep": "sweep",
    "SweepReport": "sweep",
    "read_results": "store",
    "run_one": "evaluator",
    "BACKENDS": "evaluator",
    "evaluate": "evaluator",
    "open_executor": "evaluator",
    "SerialExecutor": "evaluator",
}
__all__ = list(_EXPORTS)


def __getattr__(name):  # imported lazily, so `statebiz --help` stays fast
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(name)
