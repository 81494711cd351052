"""The shape every study has, and the base that runs its simulations.

A study (Table 1's map, reachability, dynamics, validation) is many runs of the model read
together. It is written as a :class:`Study`:

    design  -> the study's settings (its full size, or ``quick()``: the one ``--quick`` size)
    tasks   -> evaluator tasks ``(task_id, fn, params, seed, steps, outcomes)`` handed to
               :meth:`Runs.run`, in one stage or several (a later stage may depend on an earlier one)
    tables  -> the study's tables, from the rows in task order
    summary -> the printed summary, the manifest's facts and the figures

:class:`Runs` is the base every study runs on: the evaluator (:mod:`simulation.runs.evaluator`)
on any backend (``serial``, ``processes``, ``dask``, ``mpi``), a progress callback for each
finished run, and a journal for resume: every finished run is appended to a file beside the
result directory, keyed by what decides its result (the model version, the task function's
module source, its parameters, seed and quarters), so that the same command run again after a
kill runs only what is missing. Every row passes through the journal's JSON form, run now or
read back, so a resumed study's tables are the same to the bit as an uninterrupted one's.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

#: A task of the evaluator: (task id, run function, parameters, seed, quarters, outcomes).
Task = tuple[int, Callable, dict, int, int, tuple]


class StudyRunError(RuntimeError):
    """A model run of a study raised; the finished runs stay in the journal for a resume."""


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as plain Python values (the journal's JSON)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not a journal value")


def row_text(row: Mapping[str, Any]) -> str:
    """A row as one line of JSON (floats by ``repr``: they read back to the same bits; NaN allowed)."""
    return json.dumps(row, default=_plain, allow_nan=True)


def _source_hash(fn: Callable) -> str:
    try:
        path = inspect.getsourcefile(fn)
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16] if path else ""
    except (OSError, TypeError):
        return ""


def task_key(task: Task, model_version: str) -> str:
    """What decides a task's result: the model, the task function and its source, the run's inputs."""
    _, fn, params, seed, steps, outcomes = task
    doc = {
        "model": model_version,
        "fn": f"{fn.__module__}.{fn.__qualname__}",
        "source": _source_hash(fn),
        "params": params,
        "seed": seed,
        "steps": steps,
        "outcomes": list(outcomes),
    }
    text = json.dumps(doc, sort_keys=True, default=_plain)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def journal_path(out_dir: str | Path) -> Path:
    """The journal of a study writing ``out_dir``: a hidden file beside it, removed once it is written."""
    out_dir = Path(out_dir)
    return out_dir.with_name(f".{out_dir.name}.runs.jsonl")


def read_journal(path: Path) -> dict[str, dict[str, Any]]:
    """Key -> row of every complete line of a journal (a line cut by a kill is left out)."""
    done: dict[str, dict[str, Any]] = {}
    if not path.is_file():
        return done
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                rec = json.loads(line)
                done[rec["key"]] = rec["row"]
            except (ValueError, KeyError, TypeError):
                continue
    return done


@dataclass
class Runs:
    """The evaluator for a study: backend, progress and the resume journal (see the module docstring).

    Use it as a context manager (the backend's workers start at the first task that must run and
    stop at the end); :meth:`run` takes a stage's tasks and returns their rows in task order.
    """

    backend: str = "serial"
    workers: int | None = None
    address: str | None = None
    journal: Path | None = None
    progress: Callable[[int], None] | None = None  # called with the number of runs just finished
    resumed: int = 0  # runs read from the journal
    ran: int = 0  # runs made now
    task_seconds: float = 0.0  # the runs' own time (made now)
    _done: dict[str, dict[str, Any]] = field(default_factory=dict)
    _stack: ExitStack | None = None
    _pool: Any = None
    _fh: Any = None
    _version: str = ""

    def __enter__(self) -> Runs:
        from ..io import model_version

        self._version = model_version()
        self._stack = ExitStack()
        if self.journal is not None:
            self._done = read_journal(self.journal)
            self.journal.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self._stack.enter_context(self.journal.open("a", encoding="utf-8"))
        return self

    def __exit__(self, *exc) -> None:
        stack, self._stack, self._pool, self._fh = self._stack, None, None, None
        stack.close()

    def _executor(self):
        if self._pool is None:
            from ..runs.evaluator import check_backend, open_executor

            check_backend(self.backend)
            self._pool = self._stack.enter_context(open_executor(self.backend, self.workers, self.address))
        return self._pool

    def _record(self, key: str, row: dict[str, Any]) -> None:
        if self._fh is not None:
            self._fh.write(json.dumps({"key": key, "row": row}, default=_plain, allow_nan=True) + "\n")
            self._fh.flush()
            os.fsync(self._fh.fileno())

    def run(self, tasks: Iterable[Task], describe: Callable[[Task], str] | None = None) -> list[dict[str, Any]]:
        """Run a stage's tasks (those the journal holds are read back); their rows in task order.

        Raises:
            StudyRunError: a run raised (``describe(task)`` names it); the finished runs are kept.
        """
        from ..runs.evaluator import evaluate

        tasks = list(tasks)
        keys = {t[0]: task_key(t, self._version) for t in tasks}
        rows: dict[int, dict[str, Any]] = {}
        for t in tasks:
            if keys[t[0]] in self._done:
                rows[t[0]] = json.loads(row_text(self._done[keys[t[0]]]))
        if rows:
            self.resumed += len(rows)
            if self.progress is not None:
                self.progress(len(rows))
        todo = [t for t in tasks if t[0] not in rows]
        if todo:
            pool = self._executor()
            by_id = {t[0]: t for t in todo}
            for task_id, row in evaluate(todo, pool.executor, pool.window, restart=pool.restart, alive=pool.alive):
                if row.get("error") is not None:
                    what = describe(by_id[task_id]) if describe else f"run {task_id}"
                    raise StudyRunError(f"{what} failed: {row['error']}")
                elapsed = row.pop("elapsed_s", 0.0)
                row.pop("error", None)
                self.task_seconds += 0.0 if elapsed is None or math.isnan(elapsed) else elapsed
                row = json.loads(row_text(row))  # the journal's form, run now or read back
                self._record(keys[task_id], row)
                self._done[keys[task_id]] = row
                rows[task_id] = row
                self.ran += 1
                if self.progress is not None:
                    self.progress(1)
        return [rows[t[0]] for t in tasks]

    @property
    def finished(self) -> int:
        """Runs whose rows are kept (read back from the journal or run now)."""
        return len(self._done)

    def finish(self) -> None:
        """The study's result is written: its journal is no longer needed."""
        if self.journal is not None:
            self.journal.unlink(missing_ok=True)


def counted(progress: Callable[[int, int], None] | None, total: int, **backend: Any) -> Runs:
    """A :class:`Runs` (serial and without a journal unless ``backend`` says otherwise) that calls
    ``progress(done, total)`` after each run: for a study's functions called outside a command."""
    done = [0]

    def step(n: int) -> None:
        done[0] += n
        if progress is not None:
            progress(done[0], total)

    return Runs(**backend, progress=step)


class Study:
    """A study's shape; each study module defines one (see the module docstring).

    Subclasses set :attr:`name` (the result directory's default name) and :attr:`files` (what
    the result holds, for its manifest) and define :meth:`default`, :meth:`quick`, :meth:`size`,
    :meth:`compute`, :meth:`summary`, :meth:`manifest` and, if they draw figures, :meth:`draw`.
    """

    name: ClassVar[str]
    files: ClassVar[dict[str, str]]

    def default(self):
        """The study's design at its full size."""
        raise NotImplementedError

    def quick(self):
        """The study's design at the size of ``--quick``: small and fast, for a first look."""
        raise NotImplementedError

    def design(self, quick: bool = False, **settings: Any):
        """The full or quick design with some settings changed (None leaves a setting as it is)."""
        from dataclasses import replace

        base = self.quick() if quick else self.default()
        return replace(base, **{k: v for k, v in settings.items() if v is not None})

    def size(self, design) -> int | None:
        """How many runs the design makes (None when a later stage depends on an earlier one)."""
        raise NotImplementedError

    def compute(self, design, runs: Runs) -> dict[str, Any]:
        """Run the design's tasks through ``runs`` and return the study's tables (name -> DataFrame)."""
        raise NotImplementedError

    def summary(self, design, tables: dict[str, Any], wall: float) -> str:
        """The printed summary."""
        raise NotImplementedError

    def manifest(self, design, tables: dict[str, Any], wall: float) -> dict[str, Any]:
        """The manifest's facts about the study (the writer adds the command and the provenance)."""
        raise NotImplementedError

    def draw(self, design, tables: dict[str, Any], tmp: Path) -> dict[str, str] | None:
        """Draw the figures into ``tmp``; returns name -> description, or None."""
        return None
