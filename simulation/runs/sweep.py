"""Running an experiment: every (design point, replication) once, resumably, on a backend."""

from __future__ import annotations

import platform
import socket
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..io import (
    MARKER,
    InputError,
    atomic_write_text,
    check_space,
    hold_directory,
    model_version,
    package_versions,
    provenance,
    result_dir,
    result_lock,
    store_marker,
)
from ..machine import fingerprint as machine_fingerprint
from ..snapshots import start_record
from .design import design_points, point_params, preparing
from .evaluator import cap_workers, check_backend, evaluate, open_executor, run_one
from .seeds import design_seed, replication_seeds
from .store import ResultStore, run_key, schema

EXTRA_PACKAGES = ("salib", "dask", "distributed")
#: Packages whose versions must agree between the sessions of one sweep (else its runs mix numerics).
NUMERIC_PACKAGES = ("numpy", "scipy", "mesa", "networkx")


def check_versions(old: dict[str, Any], out_dir: Path, allow_mixed: bool, say: Callable[[str], None]) -> None:
    """Compare the numeric packages' versions of the earlier sessions (``old`` manifest) with
    this Python's; differences are a warning with ``allow_mixed``, else refused.

    Raises:
        InputError: versions differ and ``allow_mixed`` is false.
    """
    before = old.get("package_versions") if isinstance(old.get("package_versions"), dict) else {}
    now = package_versions()
    diff = [f"{p} {before[p]} -> {now[p]}" for p in NUMERIC_PACKAGES if p in before and before[p] != now.get(p)]
    if not diff:
        return
    message = f"{out_dir}: its runs were made with other package versions ({', '.join(diff)})"
    if not allow_mixed:
        raise InputError(f"{message}; pass --allow-mixed-versions to add runs anyway, or --out for a fresh directory")
    say(f"warning: {message}; mixing them as --allow-mixed-versions asks")


def machine_classes(manifest: dict[str, Any]) -> list[str]:
    """The machine classes of a store's sessions (``simulation.machine``), in order of first use."""
    listed = manifest.get("sessions")
    sessions = [s for s in listed if isinstance(s, dict)] if isinstance(listed, list) else []
    found = [s.get("machine_class") for s in sessions]
    top = manifest.get("machine") if isinstance(manifest.get("machine"), dict) else {}
    found.append(top.get("machine_class"))
    return list(dict.fromkeys(c for c in found if isinstance(c, str)))


def check_machine_class(old: dict[str, Any], out_dir: Path, say: Callable[[str], None]) -> None:
    """Warn when a resumed store's earlier sessions ran on another machine class: its runs then
    agree with this session's to about 1e-11 relative, not to the bit (README, "Reproducibility
    across machines")."""
    now = machine_fingerprint()["machine_class"]
    other = [c for c in machine_classes(old) if c != now]
    if other:
        say(
            f"warning: {out_dir}: its runs were made on another machine class ({', '.join(other)}; this is {now}): "
            "they agree to about 1e-11 relative, not bit for bit; run every session with --portable "
            "(STATEBIZ_PORTABLE=1) for identical results across x86-64-v3 machines"
        )


@dataclass
class SweepReport:
    """What a sweep did: runs in all, skipped, run now, failed, wall time and status."""

    name: str
    out_dir: Path
    total: int
    skipped: int = 0
    ran: int = 0
    failed_now: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)  # every failing run in the store
    wall: float = 0.0
    first_result_s: float | None = None  # seconds to the first finished run (start-up of the backend)
    last_result_s: float | None = None  # seconds to the last finished run (then the backend shuts down)
    status: str = "running"

    @property
    def ok(self) -> bool:
        """True if the sweep completed and no stored run failed."""
        return not self.failures and self.status == "complete"


def plan(spec, progress: bool | None = None) -> list[tuple[int, int, int, str, dict, dict]]:
    """Every run of the experiment as (point, replication, seed, run key, factor values, params),
    replication-major: all points of replication 0 first, so a partial sweep is already a
    complete look at the design."""
    points, params = design_points(spec), point_params(spec)
    seeds = replication_seeds(spec.seed, spec.replications)
    version = model_version()
    pairs = ((i, r) for r in range(spec.replications) for i in range(len(points)))
    total = spec.replications * len(points)
    return [
        (i, r, seeds[r], run_key(version, params[i], seeds[r]), points[i], params[i])
        for i, r in preparing(pairs, total, f"{spec.name}: planning runs", show=progress is not False)
    ]


def run_sweep(
    spec,
    out_dir: str | Path | None = None,
    backend: str = "processes",
    workers: int | None = None,
    address: str | None = None,
    run_fn: Callable | None = None,
    overwrite: bool = False,
    batch_size: int = 16,
    batch_seconds: float = 30.0,
    progress: bool | None = None,
    command: str | None = None,
    allow_mixed_versions: bool = False,
) -> SweepReport:
    """Run (or resume) an experiment and store its results in ``out_dir`` (default ``results/<name>``).

    ``run_fn(params, seed, steps, outcomes) -> dict`` is the function run on the workers (default
    :func:`~simulation.runs.evaluator.run_one`, the model; a
    top-level, importable function); a run that raises is stored with its error.

    The whole sweep holds the lock of ``out_dir`` (:func:`~simulation.io.result_lock`).

    Raises:
        ResultExistsError: ``out_dir`` holds another experiment's results and ``overwrite`` is false.
        InputError: ``out_dir`` cannot be written, is locked by another sweep, is not a statebiz
            result, or holds runs made with other package versions (without ``allow_mixed_versions``).
    """
    check_backend(backend)
    started = time.perf_counter()
    out_dir = result_dir(spec.name, out_dir, origin=str(spec.path))
    check_space(out_dir)
    runs = plan(spec, progress)
    if backend == "dask" and address:
        from .evaluator import check_dask_address

        check_dask_address(address)
    with result_lock(out_dir, quiet=progress is False), ExitStack() as held:
        sweep = _Sweep(spec, out_dir, runs, started)
        sweep.open_store(overwrite)
        held.enter_context(hold_directory(out_dir))  # the store itself, however reached, for the whole sweep
        sweep.check_store(allow_mixed_versions)
        workers = cap_workers(workers)
        sweep.start_session(backend, workers, address, command)
        sweep.write_manifest("running")
        bar = sweep.progress_bar(progress)
        try:
            with open_executor(backend, workers, address) as pool:
                sweep.execute(pool, run_fn or run_one, bar, batch_size, batch_seconds)
            sweep.flush()
        except BaseException:
            sweep.flush()
            sweep.report.status = "interrupted"
            sweep.report.wall = time.perf_counter() - started
            sweep.write_manifest("interrupted")
            bar.close()
            raise
        bar.close()
        report = sweep.report
        report.failures = _failures(sweep.store, sweep.status)
        report.status = "complete" if not report.failures else "complete with failures"
        report.wall = time.perf_counter() - started
        sweep.write_manifest(report.status)
        return report


class _Sweep:
    """One session of a sweep, holding its lock: the store, what is left to run, the manifest, the batches."""

    def __init__(self, spec, out_dir: Path, runs: list, started: float):
        self.spec, self.out_dir, self.runs, self.started = spec, out_dir, runs, started
        self.row_schema = schema(spec.factors, spec.outcomes)
        self.batch: list[dict] = []
        self.last_write = time.monotonic()

    @staticmethod
    def say(message: str) -> None:
        print(f"statebiz: {message}", file=sys.stderr)

    def open_store(self, overwrite: bool) -> None:
        """Open the result store of the experiment (quarantining what is not its own)."""
        spec = self.spec
        identity = {"experiment_id": spec.fingerprint(), "model_version": model_version()}
        self.store = store = ResultStore(self.out_dir, identity, self.row_schema)
        keys = {run[3] for run in self.runs}
        store.keys, store.shape = keys, (len(design_points(spec)), spec.replications)
        store.prepare(spec.fingerprint(), overwrite, spec.name, keys=keys, say=self.say)

    def check_store(self, allow_mixed: bool) -> None:
        """Check the stored runs (versions, machine class, damaged parts) and find what is left to run."""
        store, runs = self.store, self.runs
        self.old = old = store.manifest() or {}
        if MARKER not in old:  # a store of an earlier version: its parts carry no identity, their run keys tell
            store.legacy_keys = {run[3] for run in runs}
        check_versions(old, self.out_dir, allow_mixed, self.say)
        check_machine_class(old, self.out_dir, self.say)
        store.verify(self.say)
        self.status = status = store.key_status()
        self.todo = todo = [run for run in runs if not status.get(run[3], False)]
        # Design points with identical parameters (Morris trajectories may share points) have the
        # same run key for a replication: such a run executes once and is stored for each point.
        self.same_key: dict[str, list] = {}
        for run in todo:
            self.same_key.setdefault(run[3], []).append(run)
        self.unique = [group[0] for group in self.same_key.values()]
        self.report = SweepReport(self.spec.name, self.out_dir, total=len(runs), skipped=len(runs) - len(todo))

    def start_session(self, backend: str, workers: int, address: str | None, command: str | None) -> None:
        """This session's record in the manifest, and the manifest's fixed part."""
        old = self.old
        self.sessions = [s for s in _listed(old.get("sessions")) if isinstance(s, dict)]
        old_parts = old.get("parts") if isinstance(old.get("parts"), dict) else {}
        self.parts = {p.name: n for p in self.store.parts() for n in [old_parts.get(p.name)] if isinstance(n, int)}
        self.session = {
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "host": socket.gethostname(),
            "backend": backend,
            "workers": workers if backend != "serial" else 1,
            "dask_address": address,
            "machine_class": machine_fingerprint()["machine_class"],
            "command": command,
            "runs_skipped": self.report.skipped,
            "runs_run": 0,
            "runs_failed": 0,
            "wall_time_seconds": 0.0,
        }
        self.sessions.append(self.session)
        self.base_manifest = _base_manifest(self.spec, old)
        atomic_write_text(self.out_dir / "experiment.toml", self.spec.text)

    def write_manifest(self, state: str) -> None:
        """The manifest as it stands (``state``: running, interrupted, complete ...)."""
        report, runs, sessions = self.report, self.runs, self.sessions
        counts = _counts(self.status, runs)
        self.session.update(
            runs_run=report.ran,
            runs_failed=report.failed_now,
            wall_time_seconds=round(time.perf_counter() - self.started, 3),
            status=state,
        )
        self.store.write_manifest(
            self.base_manifest
            | {
                "status": state,
                "runs_total": len(runs),
                "runs_done": counts["done"],
                "runs_failed": counts["failed"],
                "runs_missing": counts["missing"],
                "runs_skipped": report.skipped,
                "wall_time_seconds": round(sum(s.get("wall_time_seconds", 0) for s in sessions), 3),
                "sessions": sessions,
                "parts": self.parts | self.store.written,
            }
        )

    def progress_bar(self, progress: bool | None):
        """The sweep's progress bar (a note first when some runs are already stored)."""
        from tqdm import tqdm

        tqdm.monitor_interval = 0  # no monitor thread: the process backend may then fork safely
        bar = tqdm(
            total=len(self.unique),
            desc=self.spec.name,
            unit="run",
            file=sys.stderr,
            disable=(None if progress is None else not progress),
            dynamic_ncols=True,
        )
        if self.report.skipped:
            bar.write(
                f"{self.spec.name}: {self.report.skipped} of {len(self.runs)} runs already in {self.out_dir}; "
                f"running the other {len(self.todo)}",
                file=sys.stderr,
            )
        bar.set_postfix(failed=0)
        return bar

    def flush(self) -> None:
        """Write the finished runs not yet stored as one Parquet part."""
        if self.batch:
            self.store.write_part(self.batch, self.row_schema)
            self.status.update((row["run_key"], row["error"] is None) for row in self.batch)
            self.batch = []
        self.last_write = time.monotonic()

    def execute(self, pool, run_fn: Callable, bar, batch_size: int, batch_seconds: float) -> None:
        """Run what is left on the pool, storing the runs in batches as they finish."""
        spec, report = self.spec, self.report
        meta: dict[int, tuple] = {}

        def tasks():
            for task_id, run in enumerate(self.unique):
                meta[task_id] = run
                yield task_id, run_fn, run[5], run[2], spec.steps, tuple(spec.outcomes)

        for task_id, result in evaluate(tasks(), pool.executor, pool.window, restart=pool.restart, alive=pool.alive):
            report.last_result_s = time.perf_counter() - self.started
            if report.first_result_s is None:
                report.first_result_s = report.last_result_s
            key = meta.pop(task_id)[3]
            for point, rep, seed, _, values, _ in self.same_key.pop(key):
                self.batch.append({"run_key": key, "point": point, "replication": rep, "seed": seed} | values | result)
                report.ran += 1
            if result.get("error") is not None:
                report.failed_now += 1
                bar.set_postfix(failed=report.failed_now)
            bar.update()
            if len(self.batch) >= batch_size or time.monotonic() - self.last_write >= batch_seconds:
                self.flush()
                self.write_manifest("running")


def _base_manifest(spec, old: dict[str, Any]) -> dict[str, Any]:
    """The part of a sweep's manifest that does not change while it runs."""
    where = provenance(EXTRA_PACKAGES)  # git commit, package versions, lock hash, machine
    return {
        "experiment": {
            "name": spec.name,
            "description": spec.description,
            "file": str(spec.path),
            "text": spec.text,
            "base_scenario": str(Path(spec.scenario_path).resolve()),  # a resume from the copy finds it
        },
        "experiment_id": spec.fingerprint(),
        "model_version": model_version(),
        **where,
        "machine_classes": list(dict.fromkeys([*machine_classes(old), where["machine"]["machine_class"]])),
        "root_seed": spec.seed,
        "replication_seeds": replication_seeds(spec.seed, spec.replications),
        "design_seed": design_seed(spec.seed),
        "design": spec.design,
        "factors": [
            {
                "name": f.name,
                "role": f.role,
                "values": list(f.values) if f.values is not None else None,
                "low": f.low,
                "high": f.high,
                "levels": f.levels,
            }
            for f in spec.factors
        ],
        "design_points": len(design_points(spec)),
        "replications": spec.replications,
        "quarters": spec.steps,
        # how the runs start (of the first design point): cold, or warm from which pool of snapshots
        "start": start_record(point_params(spec)[0]),
        "outcomes": spec.outcomes,
        "base_parameters": point_params(spec)[0]
        if not spec.factors
        else {k: v for k, v in point_params(spec)[0].items() if k not in {f.name for f in spec.factors}},
        "host": socket.gethostname(),
        "platform": platform.platform(),
    } | store_marker()


def _listed(value: Any) -> list:
    return value if isinstance(value, list) else []


def _counts(status: dict[str, bool], runs) -> dict[str, int]:
    done = failed = 0
    for run in runs:
        s = status.get(run[3])
        if s is True:
            done += 1
        elif s is False:
            failed += 1
    return {"done": done, "failed": failed, "missing": len(runs) - done - failed}


def _failures(store: ResultStore, status: dict[str, bool]) -> list[dict[str, Any]]:
    failing = {k for k, ok in status.items() if not ok}
    if not failing:
        return []
    import pyarrow.parquet as pq

    out: dict[tuple, dict] = {}
    for part in store.parts():
        t = pq.read_table(part, columns=["run_key", "point", "replication", "seed", "error"]).to_pylist()
        for row in t:
            out[(row["point"], row["replication"])] = row
    return sorted((r for r in out.values() if r["run_key"] in failing), key=lambda r: (r["point"], r["replication"]))
